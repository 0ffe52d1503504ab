"""The ``mcp_registry`` section of ``ov.conf``: the registered MCP servers' scheduled refresh
(re-exported by :mod:`openviking_mcp.config`; docs/mcp-servers.md)."""

from __future__ import annotations

from pydantic import Field

from openviking_mcp._config_base import Section as _Section

__all__ = ["McpRegistryConfig"]


class McpRegistryConfig(_Section):
    """The registry of MCP servers whose tools are imported as skills."""

    enabled: bool = True
    """Refresh the registered servers on their schedule; ``false`` refreshes only on demand."""
    poll_seconds: float = Field(default=30.0, gt=0, le=3600)
    """How often the scheduler looks for servers due for a refresh."""
    default_refresh_seconds: float = Field(default=3600.0, ge=0)
    """The refresh interval of a server registered without one (0: on demand only)."""
    min_refresh_seconds: float = Field(default=60.0, gt=0)
    """The shortest refresh interval a server may have."""
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    """How long one refresh may take to reach a server and list its tools."""
