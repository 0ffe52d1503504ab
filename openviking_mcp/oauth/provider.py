"""The MCP SDK's authorization-server provider over :class:`OAuthService`.

The SDK's handlers (``mcp.server.auth.handlers``) speak the protocol: they validate requests,
check redirect URIs, scopes, code expiry and the PKCE ``S256`` verifier, and format the OAuth
errors. This provider stores and loads what they ask for. Client secrets are stored hashed, so
:class:`HashedSecretAuthenticator` replaces the SDK's client authenticator (which compares a
stored secret in clear). Loaded only by the HTTP app.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from typing import Any
from urllib.parse import unquote

from mcp.server.auth.middleware.client_auth import AuthenticationError, ClientAuthenticator
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    RefreshToken,
    TokenError,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from starlette.requests import Request

from openviking_mcp.oauth.service import Grant, IssuedTokens, OAuthService
from openviking_mcp.storage.oauth import TokenRow, secret_hash

__all__ = ["CONSENT_PATH", "HashedSecretAuthenticator", "StoreProvider", "StoredCode"]

#: The approval page the authorize endpoint redirects the browser to.
CONSENT_PATH = "/oauth/consent"


class StoredCode(AuthorizationCode):
    """An authorization code with the approval it carries."""

    grant: dict[str, Any]


class StoredRefreshToken(RefreshToken):
    row: TokenRow


class StoredAccessToken(AccessToken):
    row: TokenRow


def _token(issued: IssuedTokens | None) -> OAuthToken:
    if issued is None:
        raise TokenError("invalid_grant", "the grant was already used")
    return OAuthToken(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        scope=" ".join(issued.scopes),
        refresh_token=issued.refresh_token,
    )


class StoreProvider:
    """``OAuthAuthorizationServerProvider`` backed by the metadata database."""

    def __init__(self, oauth: OAuthService) -> None:
        self.oauth = oauth

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        found = await self.oauth.client(client_id)
        if found is None:
            return None
        # the stored secret is a hash: HashedSecretAuthenticator compares against it
        client = OAuthClientInformationFull.model_validate_json(found[0])
        return client.model_copy(update={"client_secret": found[1]})

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        metadata = client_info.model_copy(update={"client_secret": None}).model_dump_json()
        await self.oauth.register_client(
            client_info.client_id or "", client_info.client_secret, metadata
        )

    async def authorize(
        self, client: OAuthClientInformationFull, params: AuthorizationParams
    ) -> str:
        request_id = await self.oauth.start_request(
            client.client_id or "",
            {
                "state": params.state,
                "scopes": params.scopes,
                "code_challenge": params.code_challenge,
                "redirect_uri": str(params.redirect_uri),
                "redirect_uri_provided_explicitly": params.redirect_uri_provided_explicitly,
                "resource": params.resource,
                "client_name": client.client_name or client.client_id,
            },
        )
        return f"{CONSENT_PATH}?request={request_id}"

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> StoredCode | None:
        found = await self.oauth.load_code(authorization_code)
        if found is None or found[0] != client.client_id:
            return None
        client_id, data = found
        return StoredCode(
            code=authorization_code,
            scopes=data["grant"]["scopes"],
            expires_at=data["expires_at"],
            client_id=client_id,
            code_challenge=data["code_challenge"],
            redirect_uri=data["redirect_uri"],
            redirect_uri_provided_explicitly=data["redirect_uri_provided_explicitly"],
            resource=data.get("resource"),
            subject=f"{data['grant']['account_id']}/{data['grant']['user_id']}",
            grant=data["grant"],
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: StoredCode
    ) -> OAuthToken:
        grant = Grant.from_json(authorization_code.grant)
        issued = await self.oauth.exchange_code(
            client.client_id or "", authorization_code.code, grant
        )
        return _token(issued)

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> StoredRefreshToken | None:
        row = await self.oauth.load_token(refresh_token, "refresh")
        if row is None or row.record.client_id != client.client_id:
            return None
        return StoredRefreshToken(
            token=refresh_token,
            client_id=row.record.client_id,
            scopes=list(row.record.scopes),
            expires_at=int(row.record.expires_at),
            resource=row.record.resource,
            row=row,
        )

    async def exchange_refresh_token(
        self,
        client: OAuthClientInformationFull,
        refresh_token: StoredRefreshToken,
        scopes: list[str],
    ) -> OAuthToken:
        issued = await self.oauth.refresh(
            client.client_id or "", refresh_token.token, refresh_token.row, tuple(scopes)
        )
        return _token(issued)

    async def load_access_token(self, token: str) -> StoredAccessToken | None:
        row = await self.oauth.load_token(token, "access")
        if row is None:
            return None
        return StoredAccessToken(
            token=token,
            client_id=row.record.client_id,
            scopes=list(row.record.scopes),
            expires_at=int(row.record.expires_at),
            resource=row.record.resource,
            subject=f"{row.record.account_id}/{row.record.user_id}",
            row=row,
        )

    async def revoke_token(self, token: StoredAccessToken | StoredRefreshToken) -> None:
        await self.oauth.revoke(token.row)


def _presented_secret(
    request: Request, form: Any, client: OAuthClientInformationFull
) -> str | None:
    method = client.token_endpoint_auth_method
    if method == "client_secret_basic":
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            raise AuthenticationError("Missing or invalid Basic authentication")
        try:
            decoded = base64.b64decode(header[6:]).decode("utf-8")
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise AuthenticationError("Invalid Basic authentication header") from exc
        basic_id, sep, secret = decoded.partition(":")
        if not sep or unquote(basic_id) != client.client_id:
            raise AuthenticationError("Client ID mismatch in Basic auth")
        return unquote(secret)
    if method == "client_secret_post":
        value = form.get("client_secret")
        return value if isinstance(value, str) else None
    if method == "none":
        return None
    raise AuthenticationError(f"Unsupported auth method: {method}")


class HashedSecretAuthenticator(ClientAuthenticator):
    """The SDK's client authentication (``client_secret_post``, ``client_secret_basic`` or
    ``none``), comparing the hash of the presented secret with the stored hash."""

    async def authenticate_request(self, request: Request) -> OAuthClientInformationFull:
        form = await request.form()
        client_id = form.get("client_id")
        if not client_id or not isinstance(client_id, str):
            raise AuthenticationError("Missing client_id")
        client = await self.provider.get_client(client_id)
        if client is None:
            raise AuthenticationError("Invalid client_id")
        presented = _presented_secret(request, form, client)
        stored = client.client_secret
        if client.token_endpoint_auth_method != "none" and not stored:
            raise AuthenticationError("Client is registered for a secret but has none stored")
        if stored:
            if not presented:
                raise AuthenticationError("Client secret is required")
            if not hmac.compare_digest(stored.encode(), secret_hash(presented).encode()):
                raise AuthenticationError("Invalid client_secret")
            expires = client.client_secret_expires_at
            if expires and expires < int(time.time()):
                raise AuthenticationError("Client secret has expired")
        return client
