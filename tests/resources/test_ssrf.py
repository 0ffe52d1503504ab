"""The SSRF guard of URL imports: one row per special-purpose range, every address of a name,
every redirect hop, and the connection pinned to the address that was checked.

The address tables are judged by the functions alone (IP literals need no resolver); the
fetch tests use a fake resolver and an HTTP server on loopback, so nothing leaves the host.
"""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from ipaddress import ip_address, ip_network
from pathlib import Path

import pytest

from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    PermissionDeniedError,
    UnavailableError,
)
from openviking_mcp.resources.fetch import fetch_url
from openviking_mcp.resources.netguard import address_refusal, check_public_url
from tests.servers import loopback_http

pytestmark = pytest.mark.anyio

# (range, an address inside it); every row must be refused.
REFUSED: list[tuple[str, str]] = [
    ("0.0.0.0/8", "0.1.2.3"),
    ("0.0.0.0/8", "0.0.0.0"),
    ("10.0.0.0/8", "10.20.30.40"),
    ("100.64.0.0/10", "100.64.0.1"),
    ("100.64.0.0/10", "100.100.100.200"),  # a cloud metadata address behind CGNAT
    ("100.64.0.0/10", "100.127.255.254"),
    ("127.0.0.0/8", "127.0.0.1"),
    ("127.0.0.0/8", "127.255.0.9"),
    ("169.254.0.0/16", "169.254.169.254"),
    ("172.16.0.0/12", "172.31.255.1"),
    ("192.0.0.0/24", "192.0.0.8"),
    ("192.0.0.0/24", "192.0.0.170"),  # NAT64/DNS64 discovery
    ("192.0.2.0/24", "192.0.2.10"),
    ("192.88.99.0/24", "192.88.99.1"),
    ("192.168.0.0/16", "192.168.1.1"),
    ("198.18.0.0/15", "198.19.0.1"),
    ("198.51.100.0/24", "198.51.100.7"),
    ("203.0.113.0/24", "203.0.113.99"),
    ("224.0.0.0/4", "224.0.0.251"),
    ("224.0.0.0/4", "239.255.255.250"),
    ("240.0.0.0/4", "240.0.0.1"),
    ("255.255.255.255/32", "255.255.255.255"),
    ("::1/128", "::1"),
    ("::/128", "::"),
    ("::/96", "::7f00:1"),  # IPv4-compatible 127.0.0.1
    ("::/96", "::a9fe:a9fe"),  # IPv4-compatible 169.254.169.254
    ("::ffff:0:0/96", "::ffff:127.0.0.1"),
    ("::ffff:0:0/96", "::ffff:169.254.169.254"),
    ("::ffff:0:0/96", "::ffff:100.64.0.1"),
    ("::ffff:0:0/96", "::ffff:10.0.0.1"),
    ("64:ff9b::/96", "64:ff9b::a9fe:a9fe"),  # NAT64 of 169.254.169.254
    ("64:ff9b::/96", "64:ff9b::7f00:1"),
    ("64:ff9b::/96", "64:ff9b::6440:1"),  # NAT64 of 100.64.0.1
    ("64:ff9b:1::/48", "64:ff9b:1::808:808"),
    ("100::/64", "100::1"),
    ("100:0:0:1::/64", "100:0:0:1::1"),
    ("2001::/32", "2001:0:4136:e378:8000:63bf:3fff:fdd2"),  # Teredo
    ("2001::/23", "2001:2::1"),  # benchmarking
    ("2001::/23", "2001:10::1"),  # ORCHID
    ("2001:db8::/32", "2001:db8::1"),
    ("2002::/16", "2002:a9fe:a9fe::"),  # 6to4 of 169.254.169.254
    ("2002::/16", "2002:7f00:1::1"),
    ("2002::/16", "2002:0808:0808::1"),  # 6to4 of a public address: refused as well
    ("3fff::/20", "3fff::1"),
    ("5f00::/16", "5f00::1"),
    ("fc00::/7", "fd00::1"),
    ("fc00::/7", "fc00::1"),
    ("fe80::/10", "fe80::1"),
    ("fe80::/10", "fe80::1%eth0"),
    ("fec0::/10", "fec0::1"),
    ("ff00::/8", "ff02::1"),
    ("outside 2000::/3", "4000::1"),
    ("outside 2000::/3", "::ffff:0:7f00:1"),  # IPv4-translated form
]

# Globally reachable addresses, among them the embedded forms of public IPv4 addresses.
ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",  # just below 100.64.0.0/10
    "100.128.0.0",  # just above it
    "172.32.0.1",  # just above 172.16.0.0/12
    "192.31.196.1",  # AS112, globally reachable
    "2606:4700:4700::1111",
    "2a00:1450:4001::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8 (DNS64 networks)
]


def _url(address: str) -> str:
    host = address.replace("%", "%25")
    return f"http://[{host}]/" if ":" in address else f"http://{address}/"


@pytest.mark.parametrize(("net", "address"), REFUSED, ids=[f"{n} {a}" for n, a in REFUSED])
async def test_special_purpose_address_is_refused(net: str, address: str) -> None:
    why = address_refusal(address)
    assert why is not None
    if not net.startswith("outside") and "embeds" not in why and "form of" not in why:
        assert why.startswith(net), why
    with pytest.raises(PermissionDeniedError) as info:
        await check_public_url(_url(address), allow_private=False)
    details = info.value.details
    assert details["cause"] == "non_public_address"
    assert details["range"] == why
    assert info.value.http_status == 403


@pytest.mark.parametrize(
    ("address", "embedded"),
    [
        ("2002:a9fe:a9fe::", "169.254.169.254"),
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
        ("::ffff:100.64.0.1", "100.64.0.1"),
    ],
)
def test_embedded_ipv4_is_named(address: str, embedded: str) -> None:
    assert embedded in (address_refusal(address) or "")


@pytest.mark.parametrize("address", ALLOWED)
async def test_public_address_is_allowed(address: str) -> None:
    assert address_refusal(address) is None
    checked = await check_public_url(_url(address), allow_private=False)
    assert [ip_address(a) for a in checked.addresses] == [ip_address(address)]


async def test_private_networks_setting_lets_everything_through() -> None:
    for _, address in REFUSED:
        await check_public_url(_url(address), allow_private=True)


async def test_every_address_of_a_name_is_checked() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        assert (host, port) == ("mixed.example", 443)
        return ["8.8.8.8", "2606:4700::1", "10.1.2.3"]

    with pytest.raises(PermissionDeniedError) as info:
        await check_public_url("https://mixed.example/x", allow_private=False, resolver=resolver)
    assert info.value.details["address"] == "10.1.2.3"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://example.com/",
        "http:///nohost",
        "http://example.com:99999/",
        "http://a..b/",
        "http://" + "x" * 70 + ".example/",
    ],
)
async def test_bad_urls_are_invalid_arguments(url: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        await check_public_url(url, allow_private=True)
    assert info.value.details["cause"] == "invalid_url"


async def test_numeric_host_forms_are_resolved_then_checked() -> None:
    # 2130706433 is 127.0.0.1 for getaddrinfo (inet_aton forms): judged by what it becomes
    with pytest.raises(PermissionDeniedError):
        await check_public_url("http://2130706433/", allow_private=False)
    with pytest.raises(PermissionDeniedError):
        await check_public_url("http://0x7f.1/", allow_private=False)


# -- fetching: redirects and pinning ----------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    hosts: list[str] = []

    def do_GET(self) -> None:
        type(self).hosts.append(self.headers.get("Host", ""))
        if self.path.startswith("/redirect?to="):
            self.send_response(302)
            self.send_header("Location", self.path.split("=", 1)[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"<html><body><p>Pinned page.</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[int]:
    _Handler.hosts = []
    with loopback_http(_Handler) as port:
        yield port


def _files(folder: Path) -> list[Path]:
    return list(folder.iterdir())


LOOPBACK_ONE = (ip_network("127.0.0.1/32"),)


async def test_fetch_connects_to_the_checked_address(server: int, tmp_path: Path) -> None:
    """The name resolves once per hop, through the guard; the request goes to that address
    with the name in Host (the system resolver never sees ``rebind.test``)."""
    calls: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    path = await fetch_url(
        f"http://rebind.test:{server}/page.html",
        tmp_path,
        allow_private=False,
        allow_networks=LOOPBACK_ONE,
        resolver=resolver,
    )
    assert b"Pinned page" in path.read_bytes()
    assert calls == ["rebind.test"]
    assert _Handler.hosts == [f"rebind.test:{server}"]


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://[2002:a9fe:a9fe::]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[::ffff:127.0.0.2]/",
        "http://127.0.0.2:{port}/",  # loopback, but not the one allowed address
    ],
)
async def test_each_redirect_hop_is_checked(server: int, tmp_path: Path, target: str) -> None:
    location = target.format(port=server)
    with pytest.raises(PermissionDeniedError) as info:
        await fetch_url(
            f"http://127.0.0.1:{server}/redirect?to={location}",
            tmp_path,
            allow_private=False,
            allow_networks=LOOPBACK_ONE,
        )
    assert info.value.details["cause"] == "non_public_address"
    assert len(_Handler.hosts) == 1  # the refused hop was never requested
    assert not _files(tmp_path)


async def test_a_rebinding_name_is_checked_again_on_each_hop(server: int, tmp_path: Path) -> None:
    answers = iter([["127.0.0.1"], ["127.0.0.1"], ["10.0.0.7"]])

    async def resolver(host: str, port: int) -> list[str]:
        return next(answers)

    first = f"http://flip.test:{server}/redirect?to=/redirect?to=/page.html"
    with pytest.raises(PermissionDeniedError) as info:
        await fetch_url(
            first, tmp_path, allow_private=False, allow_networks=LOOPBACK_ONE, resolver=resolver
        )
    assert info.value.details["address"] == "10.0.0.7"
    assert len(_Handler.hosts) == 2


async def test_proxy_variables_are_not_used(
    server: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # a proxy that would refuse
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    path = await fetch_url(f"http://127.0.0.1:{server}/p.html", tmp_path, allow_private=True)
    assert b"Pinned page" in path.read_bytes()


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for ``name`` (and its key), written as PEM files."""
    import datetime

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    import ssl

    cert, key = _self_signed(tmp_path, "pinned.test")
    _Handler.hosts = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with loopback_http(_Handler, tls=context) as port:
        yield port, cert


async def test_tls_to_the_checked_address_verifies_the_host_name(
    tls_server: tuple[int, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection goes to the checked IP while TLS (SNI and the certificate check)
    uses the URL's host name: the certificate of ``pinned.test`` is accepted for it, and
    refused for another name served from the same address."""
    port, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    dest = tmp_path / "out"
    path = await fetch_url(
        f"https://pinned.test:{port}/page.html",
        dest,
        allow_private=False,
        allow_networks=LOOPBACK_ONE,
        resolver=resolver,
    )
    assert b"Pinned page" in path.read_bytes()
    assert _Handler.hosts == [f"pinned.test:{port}"]
    with pytest.raises(UnavailableError) as info:
        await fetch_url(
            f"https://impostor.test:{port}/page.html",
            dest,
            allow_private=False,
            allow_networks=LOOPBACK_ONE,
            resolver=resolver,
        )
    assert info.value.details["cause"] == "tls"
