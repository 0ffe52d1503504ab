"""Running the upstream clients against a live server, each in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.compat._tools import Tools

__all__ = ["Live", "OvResult", "run_ov", "run_sdk"]

_SDK_PRELUDE = """
import json, sys, traceback
from openviking_sdk import SyncHTTPClient
client = SyncHTTPClient(url=sys.argv[1], api_key=sys.argv[2], timeout=60)
client.initialize()
try:
{body}
    out = {{"ok": True, "result": result}}
except Exception as exc:
    out = {{"ok": False, "error": type(exc).__name__, "message": str(exc)}}
finally:
    client.close()
print(json.dumps(out, default=str))
"""


@dataclass(frozen=True)
class Live:
    """A running server and the keys of account ``acme``: ``ann`` (admin) and ``ben`` (user)."""

    url: str
    root_key: str
    admin_key: str
    user_key: str
    home: Path  # a private HOME for the clients
    tools: Tools


def _env(live: Live, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENVIKING", "PYTHON"))}
    env["HOME"] = str(home)
    env["PYTHONPATH"] = str(live.tools.sdk_path)
    return env


def run_sdk(live: Live, body: str, *, key: str | None = None) -> dict[str, Any]:
    """Run ``body`` (which sets ``result``; ``client`` is a ``SyncHTTPClient``) and return
    ``{"ok": True, "result": ...}`` or ``{"ok": False, "error": <class>, "message": ...}``."""
    script = _SDK_PRELUDE.format(body=textwrap.indent(textwrap.dedent(body).strip(), "    "))
    done = subprocess.run(
        [sys.executable, "-c", script, live.url, key or live.user_key],
        capture_output=True,
        text=True,
        env=_env(live, live.home),
        cwd=live.home,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


@dataclass(frozen=True)
class OvResult:
    """One ``ov -o json`` run: exit code, the JSON envelope (``{"ok", "result"|"error"}``, or
    None) and the texts."""

    returncode: int
    envelope: Any
    stdout: str
    stderr: str

    def check(self) -> Any:
        """The result of a successful run (fails the test otherwise)."""
        assert self.returncode == 0, f"{self.stdout}\n{self.stderr}"
        assert isinstance(self.envelope, dict), self.stdout
        assert self.envelope.get("ok") is True, self.stdout
        return self.envelope["result"]

    @property
    def result(self) -> Any:
        return self.check()


def _envelope(stdout: str) -> Any:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def run_ov(live: Live, *args: str, json_output: bool = True, key: str | None = None) -> OvResult:
    """``ov [-o json] args...`` with HOME holding an ovcli.conf for ``ben``; with ``key``, a
    config file (``OPENVIKING_CLI_CONFIG_FILE``) for that key instead."""
    command = [str(live.tools.ov), *(["-o", "json"] if json_output else []), *args]
    env = _env(live, live.home)
    if key is not None:
        conf = live.home / f"ovcli-{key[:12]}.conf"
        conf.write_text(json.dumps({"url": live.url, "api_key": key}))
        env["OPENVIKING_CLI_CONFIG_FILE"] = str(conf)
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        cwd=live.home,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    # ov prints a failure's JSON envelope on stderr
    envelope = _envelope(done.stdout) or _envelope(done.stderr)
    return OvResult(done.returncode, envelope, done.stdout, done.stderr)
