"""The success envelope's JSON encoder: orjson, with the standard encoder as the fallback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.responses import JSONResponse

from http_api.envelope import EnvelopeResponse


def _body(content: Any) -> bytes:
    return bytes(EnvelopeResponse(content).body)


@pytest.mark.parametrize(
    "content",
    [
        {"status": "ok", "result": {"uri": "viking://resources/é 漢字 😀", "score": 0.125}},
        {"status": "ok", "result": [1, 2.5, None, True, 'x\n"y"'], "time": 0.001},
        {"status": "ok", "result": {"nested": {"list": [{"a": []}], "empty": {}}}},
    ],
)
def test_same_json_as_the_standard_response(content: dict[str, Any]) -> None:
    body = _body(content)
    assert json.loads(body) == content
    assert body == bytes(JSONResponse(content).body)  # compact UTF-8, the same bytes


def test_non_string_keys_and_big_integers() -> None:
    assert json.loads(_body({1: "a", "b": 2})) == {"1": "a", "b": 2}
    big = {"n": 2**70}  # past 64 bits: the standard encoder writes it
    assert json.loads(_body(big)) == big


def test_nan_becomes_null() -> None:
    assert json.loads(_body({"score": float("nan")})) == {"score": None}
