"""The package version, kept apart so that reading it imports nothing else."""

__all__ = ["__version__"]

__version__ = "0.1.0"
