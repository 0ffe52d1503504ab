"""OAuth 2.1 for ``/mcp``: the protected-resource metadata and the built-in authorization server.

* ``GET /.well-known/oauth-protected-resource`` and ``.../oauth-protected-resource/mcp``
  (RFC 9728): the resource ``<base>/mcp``, its authorization server ``<base>`` and scopes.
* ``GET /.well-known/oauth-authorization-server`` (RFC 8414).
* ``/oauth/register`` (RFC 7591 dynamic registration), ``/oauth/authorize`` (code flow, PKCE
  ``S256`` only), ``/oauth/token`` (code and refresh grants), ``/oauth/revoke`` (RFC 7009):
  the MCP SDK's handlers over :class:`openviking_mcp.oauth.provider.StoreProvider`.
* ``/oauth/consent``: the approval page (:mod:`http_api.oauth_consent`).

``<base>`` is the server's public base URL (``server.public_base_url``, forwarded headers or
``Host``), computed per request. The routes are plain Starlette routes, outside ``/api/v1``
and the OpenAPI schema; they answer 404 when OAuth is off (``oauth.enabled``, or the
``trusted`` auth mode).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mcp.server.auth.handlers.authorize import AuthorizationHandler
from mcp.server.auth.handlers.register import RegistrationHandler
from mcp.server.auth.handlers.revoke import RevocationHandler
from mcp.server.auth.handlers.token import TokenHandler
from mcp.server.auth.routes import build_metadata
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.shared.auth import ProtectedResourceMetadata
from pydantic import AnyHttpUrl
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from http_api.oauth_consent import consent_page, consent_submit
from openviking_mcp.mcp_server.http import public_base_url
from openviking_mcp.oauth.provider import HashedSecretAuthenticator, StoreProvider
from openviking_mcp.oauth.service import OAUTH_SCOPES
from openviking_mcp.service import ContextService

__all__ = ["RESOURCE_METADATA_PATH", "oauth_routes"]

RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource"
_REGISTRATION = ClientRegistrationOptions(
    enabled=True, valid_scopes=list(OAUTH_SCOPES), default_scopes=list(OAUTH_SCOPES)
)
_REVOCATION = RevocationOptions(enabled=True)
_NO_STORE = {"Cache-Control": "no-store"}

Handler = Callable[[Request], Awaitable[Response]]


def _json(model: ProtectedResourceMetadata | object) -> Response:
    dump = getattr(model, "model_dump")  # noqa: B009 - pydantic models of the SDK
    return JSONResponse(dump(mode="json", exclude_none=True), headers=_NO_STORE)


def _not_found() -> Response:
    return JSONResponse({"error": "not_found", "error_description": "OAuth is off"}, 404)


def oauth_routes(service: ContextService) -> list[BaseRoute]:
    """The well-known metadata, the authorization server's endpoints and the approval page."""
    oauth = service.oauth
    provider = StoreProvider(oauth)
    authenticator = HashedSecretAuthenticator(provider)  # type: ignore[arg-type]
    authorize = AuthorizationHandler(provider)  # type: ignore[arg-type]
    token = TokenHandler(provider, authenticator)  # type: ignore[arg-type]
    register = RegistrationHandler(provider, options=_REGISTRATION)  # type: ignore[arg-type]
    revoke = RevocationHandler(provider, authenticator)  # type: ignore[arg-type]

    def gated(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            return await handler(request) if oauth.active else _not_found()

        return endpoint

    async def resource_metadata(request: Request) -> Response:
        base = public_base_url(service, request.headers)
        return _json(
            ProtectedResourceMetadata(
                resource=AnyHttpUrl(f"{base}/mcp"),
                authorization_servers=[AnyHttpUrl(base)],
                scopes_supported=list(OAUTH_SCOPES),
                resource_name="openviking-mcp",
            )
        )

    async def server_metadata(request: Request) -> Response:
        base = public_base_url(service, request.headers)
        metadata = build_metadata(AnyHttpUrl(base), None, _REGISTRATION, _REVOCATION)
        metadata = metadata.model_copy(
            update={
                "authorization_endpoint": AnyHttpUrl(f"{base}/oauth/authorize"),
                "token_endpoint": AnyHttpUrl(f"{base}/oauth/token"),
                "registration_endpoint": AnyHttpUrl(f"{base}/oauth/register"),
                "revocation_endpoint": AnyHttpUrl(f"{base}/oauth/revoke"),
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                    "none",
                ],
            }
        )
        return _json(metadata)

    async def consent_get(request: Request) -> Response:
        return await consent_page(request, oauth)

    async def consent_post(request: Request) -> Response:
        return await consent_submit(request, oauth)

    return [
        Route(RESOURCE_METADATA_PATH, gated(resource_metadata), methods=["GET"]),
        Route(f"{RESOURCE_METADATA_PATH}/mcp", gated(resource_metadata), methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", gated(server_metadata), methods=["GET"]),
        Route("/oauth/authorize", gated(authorize.handle), methods=["GET", "POST"]),
        Route("/oauth/token", gated(token.handle), methods=["POST"]),
        Route("/oauth/register", gated(register.handle), methods=["POST"]),
        Route("/oauth/revoke", gated(revoke.handle), methods=["POST"]),
        Route("/oauth/consent", gated(consent_get), methods=["GET"]),
        Route("/oauth/consent", gated(consent_post), methods=["POST"]),
    ]
