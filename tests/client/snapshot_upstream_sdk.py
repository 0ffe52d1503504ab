"""Writes ``upstream_sdk_0_1_17.json``: the public names of openviking-sdk's HTTP clients.

The SDK is read as source (``ast``), never imported, so neither it nor its dependencies need to
be installed. For each of ``SyncHTTPClient`` and ``AsyncHTTPClient`` the snapshot holds every
public method, property and class attribute, and each method's parameters in order (name, kind,
whether it has a default).

    python tests/client/snapshot_upstream_sdk.py /path/to/openviking_sdk/client.py
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["SNAPSHOT", "snapshot"]

SNAPSHOT = Path(__file__).with_name("upstream_sdk_0_1_17.json")
CLASSES = ("SyncHTTPClient", "AsyncHTTPClient")


def _parameters(args: ast.arguments) -> list[dict[str, Any]]:
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)
    params = [
        {"name": a.arg, "kind": "positional", "default": i >= first_default}
        for i, a in enumerate(positional)
    ]
    params += [
        {"name": a.arg, "kind": "keyword", "default": d is not None}
        for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    return [p for p in params if p["name"] != "self"]


def _member(node: ast.stmt) -> tuple[str, dict[str, Any]] | None:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        decorators = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
        if "property" in decorators:
            return node.name, {"kind": "property"}
        if "staticmethod" in decorators or "classmethod" in decorators:
            return None
        kind = "async" if isinstance(node, ast.AsyncFunctionDef) else "sync"
        return node.name, {"kind": kind, "parameters": _parameters(node.args)}
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            return target.id, {"kind": "attribute"}
    return None


def snapshot(source: str) -> dict[str, dict[str, Any]]:
    """``{class: {name: member}}`` of the public members of the SDK's two HTTP clients."""
    tree = ast.parse(source)
    out: dict[str, dict[str, Any]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in CLASSES:
            members = (_member(item) for item in node.body)
            out[node.name] = {
                name: member
                for name, member in sorted(m for m in members if m is not None)
                if not name.startswith("_")
            }
    return out


def main(argv: list[str]) -> int:
    source = Path(argv[0]).read_text(encoding="utf-8")
    data = {"package": "openviking-sdk", "version": "0.1.17", "classes": snapshot(source)}
    SNAPSHOT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
