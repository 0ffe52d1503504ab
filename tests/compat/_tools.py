"""The upstream clients (``openviking-sdk`` and the ``ov`` binary), cached outside the repo.

Both come from the package registry through ``pip download --no-deps`` with this interpreter:
the SDK is installed with ``pip install --target`` (its only dependency, httpx, is already in
our virtualenv) and ``ov`` is taken from the ``openviking`` wheel together with the shared
libraries it links (``openviking.libs/``, found through the binary's relative RPATH). The folder
is keyed by both versions and built under a temporary name, then renamed, so that concurrent
test workers never see half an installation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["OV_VERSION", "SDK_VERSION", "Tools", "cache_root", "install_tools"]

OV_VERSION = "0.5.2"
SDK_VERSION = "0.1.17"


@dataclass(frozen=True)
class Tools:
    """Where the cached clients live."""

    sdk_path: Path  # a folder to put on PYTHONPATH
    ov: Path  # the ``ov`` executable


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "openviking-mcp" / "compat"


def _tools(folder: Path) -> Tools:
    return Tools(sdk_path=folder / "sdk", ov=folder / "ov" / "openviking" / "bin" / "ov")


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", *args, "--retries", "0", "--timeout", "15"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def _build(work: Path) -> str | None:
    """Download and unpack both clients into ``work``; why not, or None."""
    wheels = work / "wheels"
    done = _pip(
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "-d",
        str(wheels),
        f"openviking=={OV_VERSION}",
        f"openviking-sdk=={SDK_VERSION}",
    )
    if done.returncode != 0:
        return f"pip download failed: {done.stderr.strip()[-500:]}"
    (sdk_wheel,) = wheels.glob("openviking_sdk-*.whl")
    (ov_wheel,) = wheels.glob("openviking-*.whl")
    target = str(work / "sdk")
    done = _pip("install", "--no-deps", "--no-compile", "--target", target, str(sdk_wheel))
    if done.returncode != 0:
        return f"pip install failed: {done.stderr.strip()[-500:]}"
    with zipfile.ZipFile(ov_wheel) as archive:
        for name in archive.namelist():
            if name == "openviking/bin/ov" or name.startswith("openviking.libs/"):
                archive.extract(name, work / "ov")
    tools = _tools(work)
    if not tools.ov.is_file():
        return f"no openviking/bin/ov in {ov_wheel.name}"
    tools.ov.chmod(0o755)
    shutil.rmtree(wheels)
    return None


def install_tools() -> Tools | str:
    """The cached clients, installed on first use; or why they cannot be had."""
    folder = cache_root() / f"openviking-{OV_VERSION}-sdk-{SDK_VERSION}"
    if _tools(folder).ov.is_file() and (folder / "sdk" / "openviking_sdk").is_dir():
        return _tools(folder)
    work = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        why = _build(work)
        if why is not None:
            return why
        try:
            work.rename(folder)
        except OSError:  # another worker finished first
            if not _tools(folder).ov.is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _tools(folder)
