"""Light entry points: the HTTP client, the package root and the CLI's version and remote mode
never load the storage engine, the model runtimes or the server frameworks.

Each check runs in a fresh interpreter (``sys.executable``), since this test process has loaded
everything already, and asserts which modules are absent from ``sys.modules`` afterwards; it
never asserts timings (``benchmarks/cli_latency.py`` measures those).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import clean_env, free_port, start_server

# What a light entry point must not import (top-level package names).
HEAVY = (
    "lancedb",
    "pyarrow",
    "numpy",
    "onnxruntime",
    "tokenizers",
    "litellm",
    "pydantic_ai",
    "fastapi",
    "starlette",
    "uvicorn",
    "mcp",
    "mcp_types",
    "langchain_core",
    "agents",
)

# What a local store command that lists or reads files must not import: the model runtimes, the
# server frameworks, the MCP SDK (skill imports), the HTML converter. LanceDB, Arrow and NumPy
# are left out: they load with ``openviking_mcp.storage.index``, which the services import.
LOCAL_READ_HEAVY = (
    "onnxruntime",
    "tokenizers",
    "litellm",
    "pydantic_ai",
    "fastapi",
    "starlette",
    "uvicorn",
    "mcp",
    "mcp_types",
    "bs4",
    "markdownify",
    "langchain_core",
    "agents",
)

# Runs the snippet given on the command line, then prints the heavy modules that got loaded
# (as the last line of stdout, JSON). SystemExit from a CLI run is expected and swallowed.
_PROBE = textwrap.dedent(
    """
    import json, sys
    heavy = {heavy!r}
    try:
        exec(sys.argv[1])
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set(heavy))
    print(json.dumps(loaded))
    """
).format(heavy=HEAVY + LOCAL_READ_HEAVY)


def _loaded_heavy(code: str, env: dict[str, str] | None = None) -> tuple[list[str], str]:
    """The heavy modules a fresh interpreter holds after running ``code``, and its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    *output, last = done.stdout.rstrip("\n").split("\n")
    return json.loads(last), "\n".join(output)


def test_the_probe_sees_heavy_modules() -> None:
    """The check itself works: using the search index does load the storage engine (the
    service alone no longer does: the index loads LanceDB on first use)."""
    loaded, _ = _loaded_heavy("from openviking_mcp.storage.index import VectorIndex")
    assert "lancedb" in loaded
    light, _ = _loaded_heavy("import openviking_mcp.service")
    assert "lancedb" not in light


def test_package_root_is_light() -> None:
    loaded, _ = _loaded_heavy("import openviking_mcp; openviking_mcp.__version__")
    assert loaded == []


def test_client_package_is_light() -> None:
    loaded, _ = _loaded_heavy("import openviking_mcp.client")
    assert loaded == []


def test_http_clients_are_light() -> None:
    loaded, _ = _loaded_heavy(
        "from openviking_mcp.client import AsyncHTTPClient, SyncHTTPClient\n"
        "from openviking_mcp import SyncHTTPClient as Root\n"
        "SyncHTTPClient('http://127.0.0.1:9').close()"
    )
    assert loaded == []


def test_cli_version_is_light() -> None:
    loaded, out = _loaded_heavy("from openviking_mcp.cli import main; main(['--version'])")
    assert out.startswith("openviking-mcp ")
    assert loaded == []


def test_cli_help_is_light() -> None:
    loaded, out = _loaded_heavy("from openviking_mcp.cli import main; main(['--help'])")
    assert "serve" in out
    assert loaded == []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real server on loopback (embedded defaults, temporary workspace) with one file."""
    tmp_path = tmp_path_factory.mktemp("light-imports")
    port = free_port()
    proc = start_server(tmp_path, ["openviking-mcp", "serve"], port)
    url = f"http://127.0.0.1:{port}"
    try:
        done = subprocess.run(
            [
                str(Path(sys.executable).with_name("openviking-mcp")),
                "--url",
                url,
                "write",
                "viking://resources/light.md",
                "light",
                "--mode",
                "create",
            ],
            capture_output=True,
            text=True,
            env=clean_env(tmp_path),
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        yield url, tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_cli_remote_ls_is_light(server: tuple[str, Path]) -> None:
    url, tmp_path = server
    loaded, out = _loaded_heavy(
        "from openviking_mcp.cli import main\n"
        f"main(['--url', {url!r}, '-o', 'json', 'ls', 'viking://resources'])",
        env=clean_env(tmp_path),
    )
    assert [entry["name"] for entry in json.loads(out)] == ["light.md"]
    assert loaded == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ls", "viking://"], "resources"),  # the table renderer
        (["read", "viking://resources/light.md"], "light"),  # plain text
        (["tree", "viking://resources"], "light.md"),
    ],
)
def test_cli_remote_output_is_light(
    server: tuple[str, Path], args: list[str], expected: str
) -> None:
    url, tmp_path = server
    loaded, out = _loaded_heavy(
        f"from openviking_mcp.cli import main; main(['--url', {url!r}, *{args!r}])",
        env=clean_env(tmp_path),
    )
    assert expected in out
    assert loaded == []


@pytest.mark.slow
def test_sync_http_client_call_is_light(server: tuple[str, Path]) -> None:
    url, tmp_path = server
    loaded, out = _loaded_heavy(
        "from openviking_mcp.client import SyncHTTPClient\n"
        f"with SyncHTTPClient({url!r}) as ov:\n"
        "    print(ov.read('viking://resources/light.md'))",
        env=clean_env(tmp_path),
    )
    assert out == "light"
    assert loaded == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ls", "viking://resources"], "local.md"),
        (["read", "viking://resources/local.md"], "local text"),
    ],
)
def test_cli_local_reads_open_no_models(tmp_path: Path, args: list[str], expected: str) -> None:
    """``--path`` listing and reading: the embedder is never built and the index never opened
    (it opens on first use), so no model runtime loads."""
    workspace = str(tmp_path / "data")
    exe = str(Path(sys.executable).with_name("openviking-mcp"))
    write = [exe, "--path", workspace, "write", "viking://resources/local.md", "local text"]
    done = subprocess.run(write, capture_output=True, text=True, env=clean_env(tmp_path))
    assert done.returncode == 0, done.stderr
    code = f"from openviking_mcp.cli import main; main(['--path', {workspace!r}, *{args!r}])"
    loaded, out = _loaded_heavy(code, env=clean_env(tmp_path))
    assert expected in out
    assert sorted(set(loaded) & set(LOCAL_READ_HEAVY)) == []


@pytest.mark.slow
def test_cli_remote_skips_http2_and_the_httpx_command_line(server: tuple[str, Path]) -> None:
    """The client speaks HTTP/1.1 only: a remote command loads neither httpcore's HTTP/2
    stack nor httpx's own command line (click, rich progress bars, pygments)."""
    url, tmp_path = server
    code = (
        "import sys\nfrom openviking_mcp.cli import main\n"
        f"try:\n    main(['--url', {url!r}, 'ls', 'viking://resources'])\n"
        "except SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
        "print(sorted(m for m in ('h2', 'pygments', 'httpx._main') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "light.md" in done.stdout
    assert done.stdout.rstrip("\n").split("\n")[-1] == "[]"
