"""Clients: the embedded store (``OpenViking``, ``AsyncOpenViking``) and HTTP
(``SyncHTTPClient``, ``AsyncHTTPClient``)."""

from .embedded import AsyncOpenViking, OpenViking
from .http import AsyncHTTPClient, SyncHTTPClient

__all__ = ["AsyncHTTPClient", "AsyncOpenViking", "OpenViking", "SyncHTTPClient"]
