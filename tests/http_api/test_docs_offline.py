"""The API docs pages work offline: ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) load their
JavaScript, CSS and favicon from the server itself, never from a CDN, and render in a real
browser that cannot resolve any other host."""

from __future__ import annotations

import asyncio
import re
import struct
import subprocess
import threading
from collections.abc import Iterator, Sequence
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from http_api.app import create_app
from http_api.docs import DOCS_PATHS, FAVICON, REDOC_JS, SWAGGER_CSS, SWAGGER_JS
from openviking_mcp import OpenVikingConfig
from openviking_mcp.models.base import Embedder, Vectors
from openviking_mcp.service import ContextService
from tests.servers import CHROMIUM, CHROMIUM_FLAGS, free_port, start_server

pytestmark = pytest.mark.slow

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (not installed)"
)

#: The content type each asset must be served with.
ASSET_TYPES = {
    SWAGGER_JS: "text/javascript",
    SWAGGER_CSS: "text/css",
    REDOC_JS: "text/javascript",
    FAVICON: "image/png",
}
ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")


class _Links(HTMLParser):
    """The ``src`` and ``href`` of every element of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def _links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``openviking-mcp serve`` on a free loopback port."""
    port = free_port()
    proc = start_server(tmp_path_factory.mktemp("docs"), ["openviking-mcp", "serve"], port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize(
    ("page", "assets"),
    [("/docs", {SWAGGER_JS, SWAGGER_CSS, FAVICON}), ("/redoc", {REDOC_JS, FAVICON})],
)
def test_pages_load_only_local_assets(base_url: str, page: str, assets: set[str]) -> None:
    response = httpx.get(base_url + page, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert ABSOLUTE_URL.findall(html) == []  # no CDN, no web fonts, no remote favicon
    links = _links(html)
    assert set(links) == assets
    for link in links:
        url = urljoin(base_url + page, link)
        assert urlsplit(url).netloc == urlsplit(base_url).netloc
        asset = httpx.get(url, timeout=10)
        assert asset.status_code == 200, link
        assert asset.headers["content-type"].startswith(ASSET_TYPES[link]), link
        assert len(asset.content) > 1000, link
    assert "'/openapi.json'" in html or '"/openapi.json"' in html
    assert httpx.get(f"{base_url}/openapi.json", timeout=10).json()["info"]["title"]


def test_swagger_oauth2_redirect_page(base_url: str) -> None:
    response = httpx.get(f"{base_url}/docs/oauth2-redirect", timeout=10)
    assert response.status_code == 200
    assert "oauth2" in response.text
    assert ABSOLUTE_URL.findall(response.text) == []


class _GatedEmbedder(Embedder):
    """Loads only once ``released`` is set, so the service stays starting until then."""

    model_id = "test:gated-8"
    dimension = 8

    def __init__(self) -> None:
        self.released = threading.Event()

    async def load(self) -> None:
        await asyncio.to_thread(self.released.wait, 30)

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return np.full((len(texts), self.dimension), 8**-0.5, dtype=np.float32)


def test_docs_answer_while_the_service_starts(workspace: Path) -> None:
    """The start-up gate holds neither the pages nor their assets: with a wait bound of 0.2 s
    a held request would fail with 503."""
    config = OpenVikingConfig.from_dict(
        {"storage": {"workspace": str(workspace)}, "server": {"startup_wait_seconds": 0.2}}
    )
    embedder = _GatedEmbedder()
    app = create_app(service=ContextService(config, embedder=embedder), background_start=True)
    try:
        with TestClient(app) as client:
            assert client.get("/ready").status_code == 503  # still loading the model
            for path in sorted(DOCS_PATHS):
                assert client.get(path).status_code == 200, path
            assert client.get("/api/v1/fs/ls?uri=viking://resources").status_code == 503
            embedder.released.set()
    finally:
        embedder.released.set()


def _has_class(dom: str, name: str) -> bool:
    """Whether an element of ``dom`` has the class ``name``."""
    return re.search(rf'class="(?:[^"]*\s)?{re.escape(name)}(?:\s[^"]*)?"', dom) is not None


def _chromium(tmp_path: Path, url: str, *action: str) -> subprocess.CompletedProcess[str]:
    """Headless chromium on ``url``, with every host but 127.0.0.1 unresolvable: a page that
    needs a CDN fails to render."""
    command = [
        str(CHROMIUM),
        "--headless",
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,900",
        "--virtual-time-budget=5000",
        *action,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


@needs_chromium
def test_swagger_ui_renders_in_a_browser(base_url: str, tmp_path: Path) -> None:
    shot = tmp_path / "docs.png"
    done = _chromium(tmp_path, f"{base_url}/docs", f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1280, 900)  # IHDR: width, height
    # A blank page compresses to a few kilobytes; the rendered operation list does not.
    assert len(png) > 30_000

    dom = _chromium(tmp_path, f"{base_url}/docs", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _has_class(dom.stdout, "swagger-ui")
    assert len(re.findall(r'class="opblock opblock-', dom.stdout)) > 10  # one per operation
    assert 'data-path="/health"' in dom.stdout
    assert 'data-path="/api/v1/search/find"' in dom.stdout


@needs_chromium
def test_redoc_renders_in_a_browser(base_url: str, tmp_path: Path) -> None:
    dom = _chromium(tmp_path, f"{base_url}/redoc", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _has_class(dom.stdout, "redoc-wrap")
    assert _has_class(dom.stdout, "api-content")
    assert "Liveness probe (no auth)" in dom.stdout  # an operation's summary from the spec
