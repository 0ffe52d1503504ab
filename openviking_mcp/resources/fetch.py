"""Downloading the source of a URL import, safely and with errors that say what went wrong.

Every hop (the URL and each redirect) is parsed, resolved and checked by
:func:`~openviking_mcp.resources.netguard.check_public_url`, then the request is sent to one of
the *checked* addresses (the URL's host kept in ``Host`` and in TLS SNI and certificate
checks), so DNS rebinding between check and connect cannot reach another address. Proxy
environment variables are not used: a proxy would connect to addresses this guard never saw
(``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` still are).

Failures are typed, with ``details.cause``:

* 400 ``INVALID_ARGUMENT``: a bad URL or redirect (``invalid_url``), a host that does not
  resolve (``unresolvable_host``), a 4xx answer (``remote_status``), a download over the
  size cap (``too_large``);
* 403 ``PERMISSION_DENIED``: a host or redirect that resolves to a non-public address
  (``non_public_address``);
* 502 ``UNAVAILABLE``: connection refused or failed (``connection_refused``,
  ``connect_failed``), a timeout (``timeout``), a TLS failure (``tls``), a 5xx or 429 answer
  (``remote_status``), a dropped connection (``connection_lost``), an undecodable body
  (``bad_response``), DNS failure (``dns``), too many redirects (``too_many_redirects``).
  Timeouts, 5xx/429 answers, dropped connections and DNS failures are transient: the import
  task retries them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

import httpx

from openviking_mcp._version import __version__
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    OpenVikingError,
    ProcessingError,
    error_from_payload,
)
from openviking_mcp.resources.netguard import (
    CheckedURL,
    IPNetwork,
    Resolver,
    TransientUpstreamError,
    UpstreamError,
    check_public_url,
    guarded_client,
    pinned_send,
    tls_failure,
)
from openviking_mcp.storage.queue import TaskRecord, TransientError

__all__ = [
    "FETCH_DEADLINE",
    "FETCH_TIMEOUT",
    "MAX_FETCH_BYTES",
    "MAX_REDIRECTS",
    "fetch_url",
    "final_error",
    "name_from_url",
    "restore_error",
    "saved_error",
]

MAX_FETCH_BYTES = 64 * 1024 * 1024
MAX_REDIRECTS = 5
FETCH_TIMEOUT = 60.0
"""Seconds allowed for connecting and for each read."""
FETCH_DEADLINE = 600.0
"""Seconds allowed for the whole download, redirects included."""
_RETRYABLE_STATUS = frozenset({408, 425, 429})


def name_from_url(url: str) -> str:
    """A resource name for a URL: the last path segment's stem, else the host."""
    parsed = urlparse(url)
    segments = [unquote(s) for s in parsed.path.split("/") if s]
    if segments:
        stem = PurePosixPath(segments[-1]).stem or segments[-1]
        if stem and stem not in ("index", "default"):
            return stem
        if len(segments) > 1:
            return segments[-2]
    return parsed.hostname or "page"


async def fetch_url(
    url: str,
    dest_dir: Path,
    *,
    allow_private: bool,
    max_bytes: int = MAX_FETCH_BYTES,
    timeout: float = FETCH_TIMEOUT,
    deadline: float = FETCH_DEADLINE,
    allow_networks: Collection[IPNetwork] = (),
    resolver: Resolver | None = None,
) -> Path:
    """Download ``url`` into ``dest_dir``; returns the file. Follows up to
    :data:`MAX_REDIRECTS` checked redirects; raises the typed errors of the module docs.
    ``allow_networks`` and ``resolver`` are as for :func:`check_public_url`."""
    await asyncio.to_thread(dest_dir.mkdir, parents=True, exist_ok=True)
    guard = _Guard(allow_private, tuple(allow_networks), resolver)
    try:
        async with asyncio.timeout(deadline):
            return await _follow(url, dest_dir, guard, max_bytes, timeout)
    except TimeoutError as exc:
        raise TransientUpstreamError(
            f"Fetching {url} took longer than {deadline:g}s",
            {"url": url, "cause": "timeout", "deadline_seconds": deadline},
        ) from exc


@dataclass(frozen=True, slots=True)
class _Guard:
    allow_private: bool
    allow_networks: tuple[IPNetwork, ...]
    resolver: Resolver | None

    async def check(self, url: str) -> CheckedURL:
        return await check_public_url(
            url,
            allow_private=self.allow_private,
            allow_networks=self.allow_networks,
            resolver=self.resolver,
        )


async def _follow(url: str, dest_dir: Path, guard: _Guard, max_bytes: int, timeout: float) -> Path:
    headers = {"User-Agent": f"openviking-mcp/{__version__}"}
    async with guarded_client(timeout, headers) as client:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            checked = await guard.check(current)
            try:
                async with pinned_send(client, checked, "GET") as response:
                    if response.has_redirect_location:
                        current = _redirect_target(url, checked, response)
                        continue
                    _check_status(url, current, response)
                    return await _save(response, dest_dir, url, current, max_bytes)
            except httpx.HTTPError as exc:
                raise _network_error(url, current, exc) from exc
    raise UpstreamError(
        f"Fetching {url} failed: more than {MAX_REDIRECTS} redirects",
        {"url": url, "cause": "too_many_redirects", "limit": MAX_REDIRECTS},
    )


def _redirect_target(url: str, checked: CheckedURL, response: httpx.Response) -> str:
    location = response.headers["location"]
    try:
        return str(checked.url.join(location))
    except (httpx.InvalidURL, ValueError) as exc:
        raise UpstreamError(
            f"Fetching {url} failed: the server redirected to an invalid URL",
            {"url": url, "cause": "bad_redirect", "location": location[:500]},
        ) from exc


def _check_status(url: str, current: str, response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    details: dict[str, Any] = {"url": url, "cause": "remote_status", "remote_status": status}
    if current != url:
        details["fetched_url"] = current
    message = f"Fetching {url} failed: the remote server answered HTTP {status}"
    if status in _RETRYABLE_STATUS or status >= 500:
        raise TransientUpstreamError(message, details)
    if 400 <= status < 500:
        raise InvalidArgumentError(message, details)
    raise UpstreamError(message, details)


def _too_large(url: str, max_bytes: int) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"{url} is larger than the {max_bytes} byte limit of URL imports",
        {"url": url, "cause": "too_large", "limit_bytes": max_bytes},
    )


async def _save(
    response: httpx.Response, dest_dir: Path, url: str, current: str, max_bytes: int
) -> Path:
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise _too_large(url, max_bytes)
    target = dest_dir / _download_name(current, response.headers.get("content-type", ""))
    size = 0
    try:
        with await asyncio.to_thread(open, target, "wb") as handle:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(url, max_bytes)
                handle.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def _refused(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _network_error(url: str, current: str, exc: httpx.HTTPError) -> OpenVikingError:
    """The typed error for a transport failure while fetching ``current``."""
    reason = str(exc)[:300] or type(exc).__name__
    details: dict[str, Any] = {"url": url, "reason": reason}
    if current != url:
        details["fetched_url"] = current
    host = httpx.URL(current).host
    tls = tls_failure(exc)
    if isinstance(exc, httpx.TimeoutException):
        return TransientUpstreamError(f"Fetching {url} timed out", {**details, "cause": "timeout"})
    if tls is not None:
        reason = getattr(tls, "verify_message", None) or tls.reason or str(tls)
        return UpstreamError(
            f"Fetching {url} failed: TLS with {host} failed ({reason})",
            {**details, "cause": "tls", "reason": str(reason)[:300]},
        )
    if isinstance(exc, httpx.ConnectError):
        if _refused(exc):
            return UpstreamError(
                f"Fetching {url} failed: {host} refused the connection",
                {**details, "cause": "connection_refused"},
            )
        return TransientUpstreamError(
            f"Fetching {url} failed: cannot connect to {host} ({reason})",
            {**details, "cause": "connect_failed"},
        )
    if isinstance(exc, httpx.RemoteProtocolError) and "location header" in reason.lower():
        return UpstreamError(
            f"Fetching {url} failed: the server redirected to an invalid URL",
            {**details, "cause": "bad_redirect"},
        )
    if isinstance(exc, httpx.DecodingError):
        return UpstreamError(
            f"Fetching {url} failed: the response could not be decoded",
            {**details, "cause": "bad_response"},
        )
    return TransientUpstreamError(
        f"Fetching {url} failed: the connection to {host} was lost ({reason})",
        {**details, "cause": "connection_lost"},
    )


def _download_name(url: str, content_type: str) -> str:
    base = name_from_url(url)
    suffix = PurePosixPath(urlparse(url).path).suffix
    if not suffix:
        kind = content_type.split(";", 1)[0].strip().lower()
        suffix = {
            "text/html": ".html",
            "application/pdf": ".pdf",
            "text/markdown": ".md",
            "application/json": ".json",
            "text/csv": ".csv",
            "application/zip": ".zip",
        }.get(kind, ".html" if kind.startswith("text/html") else ".txt")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in base)[:100] or "page"
    return safe + suffix


# -- a fetch failure kept in the import task, for the caller waiting on it -------------------


def saved_error(exc: OpenVikingError) -> dict[str, Any]:
    """The JSON form of a fetch failure, kept in the task state as ``fetch_error``."""
    return {**exc.to_dict(), "http_status": exc.http_status}


def final_error(exc: OpenVikingError) -> OpenVikingError:
    """What the import task raises for a fetch failure: an :class:`UpstreamError` that is not
    worth retrying (refused, TLS...) becomes a plain failure, since the queue retries every
    ``UNAVAILABLE``; the others are raised as they are."""
    if isinstance(exc, UpstreamError) and not isinstance(exc, TransientError):
        return ProcessingError(exc.message, exc.details)
    return exc


def restore_error(record: TaskRecord) -> OpenVikingError | None:
    """The typed fetch failure kept by :func:`saved_error` in a failed task, if any."""
    saved = record.state.get("fetch_error")
    if not isinstance(saved, dict):
        return None
    details = {**(saved.get("details") or {}), "task_id": record.task_id}
    if saved.get("http_status") == UpstreamError.http_status:
        return UpstreamError(str(saved.get("message") or ""), details)
    error = error_from_payload({**saved, "details": details})
    return error if isinstance(error, OpenVikingError) else None
