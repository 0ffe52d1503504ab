"""Relations between contexts, kept in per-directory ledgers."""
