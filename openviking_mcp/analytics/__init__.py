"""Usage analytics: what is read and found, what is unused, what is searched and missed."""
