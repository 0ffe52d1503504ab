"""Content: reading files and tiers, writing and editing text files."""
