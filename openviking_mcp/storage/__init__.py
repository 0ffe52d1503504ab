"""Storage: the content filesystem, path locks, sidecars and the metadata database."""

from openviking_mcp.storage.base import ContentStore, Entry
from openviking_mcp.storage.local import LocalContentStore
from openviking_mcp.storage.locks import PathLocks
from openviking_mcp.storage.metadata import MetadataDB

__all__ = ["ContentStore", "Entry", "LocalContentStore", "MetadataDB", "PathLocks"]
