"""The ``oauth`` section of ``ov.conf``: the built-in OAuth 2.1 authorization server of
``/mcp`` (re-exported by :mod:`openviking_mcp.config`; docs/oauth.md)."""

from __future__ import annotations

from pydantic import Field

from openviking_mcp._config_base import Section as _Section

__all__ = ["OAuthConfig"]


class OAuthConfig(_Section):
    """Remote MCP clients sign in with OAuth: a user approves a client with an API key, and
    the client gets short-lived access tokens carrying that key's identity and scopes."""

    enabled: bool = True
    """Serve the authorization server and accept its tokens (``api_key`` and ``dev`` modes)."""
    access_token_ttl_seconds: int = Field(default=3600, ge=60, le=86_400)
    """Lifetime of an access token (never longer than the approving key's own expiry)."""
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, ge=300, le=365 * 86_400)
    """Lifetime of a refresh token; each refresh replaces it (rotation)."""
    code_ttl_seconds: int = Field(default=300, ge=30, le=600)
    """Lifetime of an authorization code (single use)."""
    request_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    """How long the approval page of one authorization request stays valid."""
