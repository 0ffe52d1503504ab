"""Storage: the content filesystem, path locks, sidecars and the metadata database."""

from .base import ContentStore, Entry
from .local import LocalContentStore
from .locks import PathLocks
from .metadata import MetadataDB

__all__ = ["ContentStore", "Entry", "LocalContentStore", "MetadataDB", "PathLocks"]
