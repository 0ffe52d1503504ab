"""The API docs pages, served offline: Swagger UI at ``/docs`` and ReDoc at ``/redoc``.

FastAPI's own pages load their JavaScript, CSS and favicon from a CDN, so they are blank
without internet access. These pages are FastAPI's self-hosting recipe (``docs_url=None``,
``redoc_url=None``, then :func:`get_swagger_ui_html` / :func:`get_redoc_html` routes): their
assets come from the files that the ``fastapi-offline`` package ships (MIT; Swagger UI is
Apache-2.0, ReDoc MIT), mounted at :data:`ASSETS_PATH`. Nothing on either page names another
host: ReDoc's Google Fonts are off and Swagger UI's online validator badge is disabled.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = [
    "ASSETS_PATH",
    "DOCS_PATH",
    "DOCS_PATHS",
    "FAVICON",
    "OAUTH2_REDIRECT_PATH",
    "REDOC_JS",
    "REDOC_PATH",
    "SWAGGER_CSS",
    "SWAGGER_JS",
    "install",
]

DOCS_PATH = "/docs"
"""Swagger UI."""

REDOC_PATH = "/redoc"
"""ReDoc."""

OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
"""Swagger UI's OAuth2 redirect page (FastAPI's default path)."""

ASSETS_PATH = "/docs-assets"
"""Where the packaged Swagger UI and ReDoc files are served."""

_ASSETS_PACKAGE = ("fastapi_offline", "static")
"""The package and its folder holding the asset files."""

SWAGGER_JS = f"{ASSETS_PATH}/swagger-ui-bundle.js"
SWAGGER_CSS = f"{ASSETS_PATH}/swagger-ui.css"
REDOC_JS = f"{ASSETS_PATH}/redoc.standalone.js"
FAVICON = f"{ASSETS_PATH}/favicon.png"

DOCS_PATHS = frozenset(
    {DOCS_PATH, REDOC_PATH, OAUTH2_REDIRECT_PATH, SWAGGER_JS, SWAGGER_CSS, REDOC_JS, FAVICON}
)
"""Every path the docs pages need: the pages and the assets they load."""

_SWAGGER_PARAMETERS: dict[str, object] = {"validatorUrl": None}
"""Swagger UI settings over FastAPI's defaults: no badge from the online validator (it would
send the spec's URL to another host)."""


def _root(request: Request) -> str:
    """The app's mount prefix (``root_path``), for links that work behind a proxy."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def install(app: FastAPI) -> None:
    """Mount the assets and add the ``/docs``, ``/docs/oauth2-redirect`` and ``/redoc``
    pages to ``app`` (built with ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS_PATH, StaticFiles(packages=[_ASSETS_PACKAGE]), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=root + SWAGGER_JS,
            swagger_css_url=root + SWAGGER_CSS,
            swagger_favicon_url=root + FAVICON,
            oauth2_redirect_url=root + OAUTH2_REDIRECT_PATH,
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), **_SWAGGER_PARAMETERS},
        )

    @app.get(OAUTH2_REDIRECT_PATH, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_PATH, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=root + REDOC_JS,
            redoc_favicon_url=root + FAVICON,
            with_google_fonts=False,
        )
