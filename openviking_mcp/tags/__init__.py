"""Explicit retrieval tags of paths and their attributes."""
