"""Debug views of the search index: paged rows and counts under a filter."""
