"""Fuzz the REST API from its OpenAPI schema as a USER, in api_key mode (schemathesis).

The operations are split into ``parts`` shares, each fuzzed by one test module against its own
server, so that the test workers share the work.

A real server (a subprocess on loopback, ``--with-bot`` without a model: retrieval only)
with an account ``acme`` whose ADMIN ``ann`` wrote shared and private data, and whose USER
``ben`` sends every generated request. Every operation is included except the ones that
spawn commands or reach generated URLs (``skills/import-mcp``, ``POST /mcp-servers``) and the
endless event stream (``GET /api/v1/events``); a generated
``add_resource`` URL is pointed at a closed loopback port, which the SSRF guard refuses
before any connection, so nothing leaves the host.

Each operation gets seeded (derandomized) valid examples and examples that break the schema.
No answer may be a 5xx (other than a deliberate 501 UNIMPLEMENTED), a raw FastAPI
``{"detail": ...}`` body or an exception; ``ben``'s key must still work at the end. The
counts (cases, statuses, failures) are printed for the report.
"""

from __future__ import annotations

import collections
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.servers import free_port, start_server

ROOT_KEY = "schemathesis-root-key"
#: spawns generated commands or connects to generated URLs; or streams without end by design
#: (the event stream: tests/events covers it)
_NETWORK = {
    ("POST", "/api/v1/skills/import-mcp"),
    ("POST", "/api/v1/mcp-servers"),
    ("GET", "/api/v1/events"),
}
#: where a generated URL would be fetched: pointed at a closed loopback port instead
_URL_FIELDS = {("POST", "/api/v1/resources"): "path"}
_CLOSED = "http://127.0.0.1:9/"
_POSITIVE, _NEGATIVE = 8, 4


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same cases on every run
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report and move on
        database=None,
    )


def _start(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    conf = tmp_path / "ov.conf"
    conf.write_text(
        json.dumps(
            {
                "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
                "server": {"root_api_key": ROOT_KEY},
            }
        )
    )
    port = free_port()
    command = ["openviking-mcp", "serve", "--with-bot", "--config", str(conf)]
    return start_server(tmp_path, command, port), f"http://127.0.0.1:{port}"


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["result"]


def _accounts(base: str) -> dict[str, str]:
    """ann (ADMIN of acme) and ben (USER of acme), with some data of each; their headers'
    values (the API keys)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        made = http.post(
            "/api/v1/admin/accounts",
            json={"account_id": "acme", "admin_user_id": "ann"},
            headers={"X-API-Key": ROOT_KEY},
        )
        ann = _ok(made)["user_key"]
        ben_made = http.post(
            "/api/v1/admin/accounts/acme/users",
            json={"user_id": "ben", "role": "user"},
            headers={"X-API-Key": ann},
        )
        ben = _ok(ben_made)["user_key"]
        for key, uri, text in [
            (ann, "viking://resources/handbook.md", "Shared handbook: coffee at nine."),
            (ann, "viking://user/ann/memories/private.md", "ann's private note on coffee"),
            (ben, "viking://user/ben/memories/mine.md", "ben likes tea"),
        ]:
            body = {"uri": uri, "content": text, "mode": "create", "wait": True}
            _ok(http.post("/api/v1/content/write", json=body, headers={"X-API-Key": key}))
        _ok(http.post("/api/v1/sessions", json={"session_id": "s1"}, headers={"X-API-Key": ben}))
    return {"ann": ann, "ben": ben}


def _no_network(case: schemathesis.Case) -> schemathesis.Case:
    field = _URL_FIELDS.get((case.method.upper(), case.path))
    value = case.body.get(field) if field and isinstance(case.body, dict) else None
    if isinstance(value, str) and value.lower().startswith(("http:", "https:")):
        case.body[field] = _CLOSED
    return case


class _Run:
    """The counts and failures of one fuzzing run."""

    def __init__(self, base: str, key: str) -> None:
        self.base, self.headers = base, {"X-API-Key": key}
        self.cases = 0
        self.statuses: collections.Counter[int] = collections.Counter()
        self.failures: list[str] = []
        self.skipped: list[str] = []
        self.unauthenticated: list[str] = []
        self.slow: list[str] = []

    def send(self, case: schemathesis.Case) -> None:
        self.cases += 1
        try:
            response = case.call(base_url=self.base, headers=self.headers, timeout=20)
        except Exception as exc:  # a hang or a dropped connection is a failure too
            self.failures.append(f"{case.method} {case.formatted_path}: {exc!r}"[:300])
            return
        self.statuses[response.status_code] += 1
        label = f"{case.method} {case.formatted_path} -> {response.status_code}"
        if response.status_code == 401 and not (case.query or {}).get("token"):
            self.unauthenticated.append(f"{label}: {response.text[:200]} headers={case.headers}")
        body = f"{str(case.body)[:200]} query={case.query}"
        if response.status_code >= 500 and response.status_code != 501:
            self.failures.append(f"{label}: {response.text[:300]} | sent {body}")
        elif response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
            answer = response.json()
            if "detail" in answer or answer.get("status") != "error":
                self.failures.append(f"{label}: not the envelope: {str(answer)[:200]}")

    def fuzz(self, operation: Any, mode: GenerationMode, examples: int) -> None:
        strategy = operation.as_strategy(generation_mode=mode).map(_no_network)

        @_settings(examples)
        @given(case=strategy)
        def check(case: schemathesis.Case) -> None:
            self.send(case)

        try:
            check()
        except Unsatisfiable:  # no input of the operation can break its schema (none taken)
            if mode is GenerationMode.POSITIVE:
                raise
            self.skipped.append(f"{operation.method.upper()} {operation.path}")


def fuzz_as_user(tmp_path: Path, part: int, parts: int) -> None:
    """Fuzz share ``part`` (0-based) of ``parts`` of the schema's operations (module docs)."""
    proc, base = _start(tmp_path)
    started = time.monotonic()
    try:
        keys = _accounts(base)
        run = _Run(base, keys["ben"])
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        operations = 0
        for index, result in enumerate(schema.get_all_operations()):
            operation = result.ok()
            if (operation.method.upper(), operation.path) in _NETWORK or index % parts != part:
                continue
            operations += 1
            began = time.monotonic()
            run.fuzz(operation, GenerationMode.POSITIVE, _POSITIVE)
            # a path parameter alone cannot break the schema (any string fits): no
            # negative cases to generate, and hypothesis would search for seconds
            if len(operation.query) or len(operation.body) or len(operation.headers):
                run.fuzz(operation, GenerationMode.NEGATIVE, _NEGATIVE)
            if time.monotonic() - began > 3:
                run.slow.append(f"{operation.method.upper()} {operation.path}")
        still = httpx.get(f"{base}/api/v1/sessions/s1", headers=run.headers, timeout=10)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    spent = time.monotonic() - started
    statuses = dict(sorted(run.statuses.items()))
    print(
        f"\nschemathesis (USER key, part {part + 1} of {parts}): {operations} operations, "
        f"{run.cases} cases, "
        f"{len(run.failures)} failures, {spent:.0f} s; statuses {statuses}; negative mode "
        f"skipped for {len(run.skipped)} operation(s); slow (> 3 s): {run.slow}"
    )
    assert operations >= 80 // parts  # the schema really lists every route group
    assert still.status_code == 200, "ben's key stopped working during the run"
    assert not run.unauthenticated, "\n".join(run.unauthenticated)
    assert not run.failures, "\n".join(run.failures[:30])
