"""How a URL import's download fails: every network failure is a typed error with a cause.

Against a real HTTP server on loopback (``allow_private`` lets the fetcher reach it); DNS
failures use a resolver passed in, so no query leaves the host.
"""

from __future__ import annotations

import gzip
import http.server
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from openviking_mcp.contract.errors import OpenVikingError, UnavailableError
from openviking_mcp.resources import netguard
from openviking_mcp.resources.fetch import MAX_REDIRECTS, fetch_url
from openviking_mcp.resources.netguard import TransientUpstreamError, UpstreamError
from openviking_mcp.storage.queue import TransientError
from tests.servers import free_port, loopback_http

pytestmark = pytest.mark.anyio


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        route, _, arg = self.path.lstrip("/").partition("/")
        getattr(self, f"_{route}", self._page)(arg)

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        fields = {name.replace("_", "-"): value for name, value in headers.items()}
        fields.setdefault("Content-Length", str(len(body)))
        for name, value in fields.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _page(self, _: str) -> None:
        self._send(200, b"<html><body>fine</body></html>", Content_Type="text/html")

    def _status(self, code: str) -> None:
        self._send(int(code), b"nope")

    def _big(self, _: str) -> None:  # announces more than the cap
        self._send(200, b"x" * 10, Content_Length="5000000")

    def _stream(self, _: str) -> None:  # no length: the cap is counted while reading
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"y" * 4096
        for _ in range(64):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def _loop(self, _: str) -> None:
        self._send(302, b"", Location="/loop/again")

    def _nolocation(self, _: str) -> None:
        self._send(300, b"choose")

    def _slow(self, _: str) -> None:
        time.sleep(1.5)
        self._page("")

    def _drip(self, _: str) -> None:  # one byte at a time, each well within the read timeout
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        for _ in range(100):
            time.sleep(0.05)
            self.wfile.write(b"z")
            self.wfile.flush()

    def _gzip(self, _: str) -> None:
        self._send(200, b"this is not gzip at all", Content_Encoding="gzip")

    def _bomb(self, _: str) -> None:  # 40 KB on the wire, 4 MB once decoded
        self._send(200, gzip.compress(b"\0" * 4_000_000), Content_Encoding="gzip")

    def _drop(self, _: str) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"only part of it")
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with loopback_http(_Handler) as port:
        yield f"http://127.0.0.1:{port}"


def _files(folder: Path) -> list[Path]:
    return list(folder.iterdir())


async def _failure(url: str, dest: Path, **kwargs: object) -> OpenVikingError:
    with pytest.raises(OpenVikingError) as info:
        await fetch_url(url, dest, allow_private=True, **kwargs)  # type: ignore[arg-type]
    assert not _files(dest), "a failed download leaves no file behind"
    return info.value


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "cause", "transient"),
    [
        ("/status/404", {}, 400, "remote_status", False),
        ("/status/403", {}, 400, "remote_status", False),
        ("/status/500", {}, 502, "remote_status", True),
        ("/status/503", {}, 502, "remote_status", True),
        ("/status/429", {}, 502, "remote_status", True),
        ("/nolocation/", {}, 502, "remote_status", False),
        ("/big/", {"max_bytes": 1000}, 400, "too_large", False),
        ("/stream/", {"max_bytes": 100_000}, 400, "too_large", False),
        ("/bomb/", {"max_bytes": 1_000_000}, 400, "too_large", False),
        ("/loop/", {}, 502, "too_many_redirects", False),
        ("/slow/", {"timeout": 0.3}, 502, "timeout", True),
        ("/drip/", {"deadline": 1.0}, 502, "timeout", True),
        ("/gzip/", {}, 502, "bad_response", False),
        ("/drop/", {}, 502, "connection_lost", True),
    ],
)
async def test_remote_failures_are_typed(
    base: str,
    tmp_path: Path,
    path: str,
    kwargs: dict[str, object],
    status: int,
    cause: str,
    transient: bool,
) -> None:
    error = await _failure(base + path, tmp_path, **kwargs)
    assert (error.http_status, error.details["cause"]) == (status, cause), error
    assert error.code == ("INVALID_ARGUMENT" if status == 400 else "UNAVAILABLE")
    assert error.details["url"] == base + path
    assert isinstance(error, TransientError) is transient
    if cause == "remote_status":
        assert error.details["remote_status"] == int(path.rsplit("/", 1)[-1] or 300)
    if cause == "too_large":
        assert error.details["limit_bytes"] == kwargs["max_bytes"]
    if cause == "too_many_redirects":
        assert error.details["limit"] == MAX_REDIRECTS


async def test_connection_refused(tmp_path: Path) -> None:
    error = await _failure(f"http://127.0.0.1:{free_port()}/x", tmp_path)
    assert isinstance(error, UpstreamError)
    assert isinstance(error, UnavailableError)  # the type HTTP clients rebuild from the code
    assert (error.http_status, error.details["cause"]) == (502, "connection_refused")
    assert not isinstance(error, TransientError)


async def test_tls_failure(base: str, tmp_path: Path) -> None:
    # TLS to a server that speaks plain HTTP: the handshake fails
    error = await _failure(base.replace("http://", "https://") + "/", tmp_path)
    assert (error.http_status, error.details["cause"]) == (502, "tls")
    assert "TLS" in error.message


async def test_successful_fetch_keeps_the_body(base: str, tmp_path: Path) -> None:
    path = await fetch_url(base + "/stream/", tmp_path, allow_private=True)
    assert path.stat().st_size == 64 * 4096


async def test_unresolvable_names(tmp_path: Path) -> None:
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        if host == "again.example":
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        if host == "empty.example":
            return []
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    for url, status, cause in [
        ("http://nonexistent.invalid/doc", 400, "unresolvable_host"),  # RFC 6761: no query
        ("http://nowhere.example/doc", 400, "unresolvable_host"),
        ("http://empty.example/doc", 400, "unresolvable_host"),
        ("http://again.example/doc", 502, "dns"),
    ]:
        error = await _failure(url, tmp_path, resolver=resolver)
        assert (error.http_status, error.details["cause"]) == (status, cause), url
        assert isinstance(error, TransientError) is (status == 502)
    assert asked == ["nowhere.example", "empty.example", "again.example"]


async def test_resolver_that_hangs_times_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(netguard, "DNS_TIMEOUT", 0.2)

    async def resolver(host: str, port: int) -> list[str]:
        import asyncio

        await asyncio.sleep(30)
        return []

    error = await _failure("http://slow-dns.example/", tmp_path, resolver=resolver)
    assert isinstance(error, TransientUpstreamError)
    assert error.details["cause"] == "dns"


async def test_invalid_redirect_location_is_not_a_crash(tmp_path: Path) -> None:
    class Bad(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", "http://[::1/broken")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    with loopback_http(Bad) as port, pytest.raises(UpstreamError) as info:
        await fetch_url(f"http://127.0.0.1:{port}/", tmp_path, allow_private=True)
    assert info.value.details["cause"] == "bad_redirect"
