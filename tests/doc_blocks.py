"""Fenced code blocks of the Markdown docs, and running them as a reader would.

A ```bash, ```sh or ```python block runs unless the last non-blank line before its fence is an
HTML comment that starts with ``illustrative`` or ``not run``, e.g. ``<!-- illustrative -->``
or ``<!-- not run: needs a model server -->``. Other fences (```json, plain ```) are never run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RUNNABLE", "Block", "DocRunner", "blocks"]

RUNNABLE = frozenset({"bash", "sh", "python"})
_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*(illustrative|not run)\b.*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its language, text, first line number and illustrative marker."""

    path: Path
    line: int
    lang: str
    text: str
    illustrative: bool

    @property
    def runs(self) -> bool:
        return self.lang in RUNNABLE and not self.illustrative

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line} ({self.lang})"


def blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path``, in document order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        start = index
        index += 1
        while index < len(lines) and lines[index].rstrip() != "```":
            index += 1
        before = [line for line in lines[:start] if line.strip()]
        marked = bool(before) and _MARKER.match(before[-1].strip()) is not None
        text = "\n".join(lines[start + 1 : index]) + "\n"
        found.append(Block(path, start + 1, fence.group(1), text, marked))
        index += 1
    return found


class DocRunner:
    """Runs the runnable blocks of one document in ``workdir``: shell blocks with ``bash -e``
    and ``env``, Python blocks in this process, sharing one namespace per run so that a later
    block may use what an earlier one defined. ``replace`` maps text of the docs to the text
    run (e.g. the documented server address to the one the test started)."""

    def __init__(self, workdir: Path, env: dict[str, str], replace: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.replace = replace
        self.output: list[str] = []
        self._namespace: dict[str, Any] = {}

    def run(self, blocks_of_doc: list[Block]) -> str:
        """Run the document's blocks once, top to bottom; returns all their output."""
        self._namespace = {"__name__": "__main__"}
        start = len(self.output)
        for block in blocks_of_doc:
            if block.runs:
                self.output.append(self._run_block(block))
        return "".join(self.output[start:])

    def _text(self, block: Block) -> str:
        text = block.text
        for old, new in self.replace.items():
            text = text.replace(old, new)
        return text

    def _run_block(self, block: Block) -> str:
        text = self._text(block)
        if block.lang == "python":
            return self._run_python(block, text)
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", text],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"{block} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def _run_python(self, block: Block, text: str) -> str:
        out = io.StringIO()
        cwd = Path.cwd()
        os.chdir(self.workdir)
        try:
            code = compile(text, str(block), "exec")
            with contextlib.redirect_stdout(out):
                exec(code, self._namespace)
        except Exception as exc:
            raise AssertionError(f"{block} raised {exc!r}; output:\n{out.getvalue()}") from exc
        finally:
            os.chdir(cwd)
        return out.getvalue()
