"""Which network addresses a URL import may reach (the SSRF guard), and resolving hosts.

:func:`address_refusal` names the special-purpose range an address falls in, or answers
``None`` for a globally reachable unicast address. The tables follow the IANA IPv4 and IPv6
Special-Purpose Address Registries (every range whose "globally reachable" is not true), plus
multicast and the IPv6 space outside ``2000::/3``. Forms that embed an IPv4 address are judged
by that address (IPv4-mapped ``::ffff:0:0/96``, NAT64 ``64:ff9b::/96``) or refused outright
(6to4 ``2002::/16``, Teredo ``2001::/32``, IPv4-compatible ``::/96``, local NAT64
``64:ff9b:1::/48``).

:func:`resolve_host` resolves a URL's host to its addresses and maps every resolution failure
onto a typed error whose ``details.cause`` says what went wrong; :func:`check_public_url`
parses a URL, resolves it and refuses it if *any* address is not public. The fetcher then
connects to one of the checked addresses itself, so a DNS answer that changes between the
check and the connection (rebinding) cannot redirect it.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

import httpx

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    PermissionDeniedError,
    UnavailableError,
)
from openviking_mcp.storage.queue import TransientError

__all__ = [
    "DNS_TIMEOUT",
    "CheckedURL",
    "IPNetwork",
    "Resolver",
    "TransientUpstreamError",
    "UpstreamError",
    "address_refusal",
    "check_public_url",
    "guarded_client",
    "pinned_send",
    "resolve_host",
    "system_resolver",
    "tls_failure",
]

DNS_TIMEOUT = 10.0

IPNetwork = IPv4Network | IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> addresses``; raises :class:`socket.gaierror` when the name has none."""


class UpstreamError(UnavailableError):
    """The remote side of a URL import failed (unreachable, TLS, bad answer): 502 with the
    code ``UNAVAILABLE``. Only :class:`TransientUpstreamError` is worth retrying."""

    code = "UNAVAILABLE"
    http_status = 502
    default_message = "The remote server could not be fetched"


class TransientUpstreamError(UpstreamError, TransientError):
    """An :class:`UpstreamError` worth retrying later (timeouts, 5xx, dropped connections)."""


def _v4(table: list[tuple[str, str]]) -> tuple[tuple[IPv4Network, str], ...]:
    return tuple((IPv4Network(net), f"{net} ({name})") for net, name in table)


def _v6(table: list[tuple[str, str]]) -> tuple[tuple[IPv6Network, str], ...]:
    return tuple((IPv6Network(net), f"{net} ({name})") for net, name in table)


_V4_REFUSED = _v4(
    [
        ("0.0.0.0/8", "this network"),
        ("10.0.0.0/8", "private use"),
        ("100.64.0.0/10", "shared address space, carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private use"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation, TEST-NET-1"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private use"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation, TEST-NET-2"),
        ("203.0.113.0/24", "documentation, TEST-NET-3"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "limited broadcast"),
        ("240.0.0.0/4", "reserved"),
    ]
)

_V6_REFUSED = _v6(
    [
        ("::1/128", "loopback"),
        ("::/128", "unspecified"),
        ("::/96", "IPv4-compatible, deprecated"),
        ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
        ("100::/64", "discard-only"),
        ("100:0:0:1::/64", "dummy prefix"),
        ("2001::/32", "Teredo"),
        ("2001::/23", "IETF protocol assignments"),
        ("2001:db8::/32", "documentation"),
        ("2002::/16", "6to4"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing SIDs"),
        ("fc00::/7", "unique local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local, deprecated"),
        ("ff00::/8", "multicast"),
    ]
)
_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")
_NAT64 = IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")


def _embedded_v4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address carried by an IPv4-mapped, NAT64 or 6to4 address."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def address_refusal(address: str | IPv4Address | IPv6Address) -> str | None:
    """Why a URL import must not connect to ``address`` (the range and its name), or ``None``
    when the address is globally reachable unicast. A zone suffix (``fe80::1%eth0``) is
    ignored; a string that is no IP address raises :class:`ValueError`."""
    ip = ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    if isinstance(ip, IPv4Address):
        return next((why for net, why in _V4_REFUSED if ip in net), None)
    inner = _embedded_v4(ip)
    if ip.ipv4_mapped is not None or ip in _NAT64:
        assert inner is not None
        why = address_refusal(inner)
        kind = "IPv4-mapped" if ip.ipv4_mapped is not None else "NAT64"
        return None if why is None else f"{kind} form of {inner}, {why}"
    for net, why in _V6_REFUSED:
        if ip in net:
            return why if inner is None else f"{why}, embeds {inner}"
    if ip not in _V6_GLOBAL_UNICAST:
        return "outside 2000::/3 (reserved by the IETF)"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the system resolver (``getaddrinfo``), in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


async def resolve_host(
    host: str, port: int, url: str, resolver: Resolver | None = None
) -> list[str]:
    """The addresses of ``host``: an IP literal is itself; names under ``.invalid`` never
    resolve (RFC 6761, answered without a query); failures become typed errors."""
    try:
        return [str(ip_address(host.split("%", 1)[0]))]
    except ValueError:
        pass
    details = {"url": url, "host": host}
    if host.rstrip(".").lower().endswith(".invalid") or host.lower() == "invalid":
        raise InvalidArgumentError(
            f"Cannot resolve host {host}", {**details, "cause": "unresolvable_host"}
        )
    try:
        async with asyncio.timeout(DNS_TIMEOUT):
            addresses = await (resolver or system_resolver)(host, port)
    except TimeoutError as exc:
        raise TransientUpstreamError(
            f"Resolving {host} timed out after {DNS_TIMEOUT:.0f}s", {**details, "cause": "dns"}
        ) from exc
    except UnicodeError as exc:  # a label the IDNA codec refuses (empty, over 63 characters)
        raise InvalidArgumentError(
            f"Not a valid host name: {host}", {**details, "cause": "invalid_url"}
        ) from exc
    except socket.gaierror as exc:
        if exc.errno in _NO_SUCH_NAME:
            raise InvalidArgumentError(
                f"Cannot resolve host {host}", {**details, "cause": "unresolvable_host"}
            ) from exc
        raise TransientUpstreamError(
            f"Resolving {host} failed: {exc.strerror or exc}", {**details, "cause": "dns"}
        ) from exc
    if not addresses:
        raise InvalidArgumentError(
            f"Cannot resolve host {host}", {**details, "cause": "unresolvable_host"}
        )
    return addresses


def _allowed(address: str, networks: Collection[IPNetwork]) -> bool:
    ip = ip_address(address.split("%", 1)[0])
    return any(ip.version == net.version and ip in net for net in networks)


@dataclass(frozen=True, slots=True)
class CheckedURL:
    """A parsed http(s) URL and the addresses its host resolved to (all checked)."""

    url: httpx.URL
    addresses: tuple[str, ...]


def _parse(url: str) -> httpx.URL:
    details = {"url": url, "cause": "invalid_url"}
    try:
        parsed = httpx.URL(url)
        port = parsed.port
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise InvalidArgumentError(f"Not a valid URL: {url}", details) from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidArgumentError(f"Not an http(s) URL: {url}", details)
    if port is not None and not 0 < port < 65536:
        raise InvalidArgumentError(f"Not a valid port in URL: {url}", details)
    return parsed


async def check_public_url(
    url: str,
    *,
    allow_private: bool,
    allow_networks: Collection[IPNetwork] = (),
    resolver: Resolver | None = None,
    action: str = "fetch",
) -> CheckedURL:
    """Parse ``url``, resolve its host and refuse it when any address is not public (unless
    ``allow_private``, or the address is in one of ``allow_networks``). Raises 400 for a bad
    URL or an unknown host, 403 for a non-public address, 502 when resolution failed.
    ``action`` names what the URL is for in the refusal ("Refusing to <action> <url>")."""
    parsed = _parse(url)
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = await resolve_host(host, port, url, resolver)
    if not allow_private:
        for address in addresses:
            why = address_refusal(address)
            if why is not None and not _allowed(address, allow_networks):
                raise PermissionDeniedError(
                    f"Refusing to {action} {url}: {host} resolves to {address}, a non-public "
                    f"address in {why} (set allow_private_networks to allow it)",
                    {
                        "url": url,
                        "host": host,
                        "address": address,
                        "range": why,
                        "cause": "non_public_address",
                    },
                )
    return CheckedURL(parsed, tuple(addresses))


def guarded_client(timeout: float, headers: Mapping[str, str] | None = None) -> httpx.AsyncClient:
    """A client for requests to checked addresses (:func:`pinned_send`): no redirects
    followed, no proxies from the environment (the transport still honours ``SSL_CERT_FILE``
    and ``SSL_CERT_DIR``)."""
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        headers=headers,
        trust_env=False,
        transport=httpx.AsyncHTTPTransport(trust_env=True),
    )


def tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind an httpx error, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


@asynccontextmanager
async def pinned_send(
    client: httpx.AsyncClient,
    checked: CheckedURL,
    method: str,
    *,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[httpx.Response]:
    """A streamed request to ``checked.url`` sent to the first of its checked addresses that
    accepts the connection (never to an address resolved again later), with the URL's own
    ``Host`` header and TLS server name."""
    url = checked.url
    extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
    last: httpx.ConnectError | None = None
    for address in checked.addresses:
        try:
            pinned = url.copy_with(host=address)
        except httpx.InvalidURL:  # an address the URL cannot carry (a scoped link-local)
            continue
        sent = {**(headers or {}), "Host": url.netloc.decode("ascii")}
        request = client.build_request(
            method, pinned, headers=sent, content=content, extensions=extensions
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            if tls_failure(exc) is not None:
                raise
            last = exc
            continue
        try:
            yield response
        finally:
            await response.aclose()
        return
    raise last or httpx.ConnectError(f"No usable address for {url.host}")
