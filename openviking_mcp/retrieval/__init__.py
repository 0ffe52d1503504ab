"""Retrieval: find, search, grep, glob and context assembly."""
