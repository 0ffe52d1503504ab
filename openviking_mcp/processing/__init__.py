"""Processing: parsers, L0/L1 generation, the ingestion pipeline and the durable task queue."""
