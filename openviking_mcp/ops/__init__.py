"""Operation groups that make up ``ContextService``."""
