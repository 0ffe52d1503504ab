"""Privacy configs: versioned secret values kept per user, outside search."""
