"""Temp uploads and one-shot upload tickets."""
