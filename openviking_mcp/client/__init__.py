"""Clients: the embedded store (``OpenViking``, ``AsyncOpenViking``)."""

from .embedded import AsyncOpenViking, OpenViking

__all__ = ["AsyncOpenViking", "OpenViking"]
