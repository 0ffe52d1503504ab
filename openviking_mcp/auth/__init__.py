"""Who is calling: request credentials and embedded identities → a request context."""
