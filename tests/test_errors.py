from __future__ import annotations

import pytest

from openviking_mcp.contract import errors
from openviking_mcp.contract.errors import (
    ConfigError,
    ConnectionFailedError,
    InvalidURIError,
    NotFoundError,
    OpenVikingError,
    error_from_payload,
    error_to_envelope,
    exit_code_for,
    http_status_for_code,
)

SEED_TABLE = {
    "OK": 200,
    "INVALID_ARGUMENT": 400,
    "INVALID_URI": 400,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 412,
    "CONFLICT": 409,
    "DEADLINE_EXCEEDED": 504,
    "UNAVAILABLE": 503,
    "PROCESSING_ERROR": 500,
    "INTERNAL": 500,
    "UNIMPLEMENTED": 501,
    "EMBEDDING_FAILED": 500,
    "VLM_FAILED": 500,
    "SESSION_EXPIRED": 410,
    "NOT_INITIALIZED": 500,
}


@pytest.mark.parametrize(("code", "status"), sorted(SEED_TABLE.items()))
def test_every_seed_code_has_its_status_and_class(code: str, status: int) -> None:
    assert http_status_for_code(code) == status
    if code != "OK":
        cls = errors.error_class_for_code(code)
        assert cls.code == code
        assert cls.http_status == status


def test_unknown_code_is_internal_500() -> None:
    assert http_status_for_code("NO_SUCH_CODE") == 500


def test_envelope_of_typed_error_carries_details() -> None:
    status, body = error_to_envelope(InvalidURIError("viking://x", "bad scope"))
    assert status == 400
    assert body == {
        "code": "INVALID_URI",
        "message": "Invalid URI: viking://x (bad scope)",
        "details": {"uri": "viking://x", "reason": "bad scope"},
    }


def test_foreign_exceptions_map_without_leaking_internals() -> None:
    assert error_to_envelope(FileNotFoundError("/secret/path"))[0] == 404
    assert error_to_envelope(PermissionError("x"))[0] == 403
    status, body = error_to_envelope(RuntimeError("db password is hunter2"))
    assert status == 500
    assert body["code"] == "INTERNAL"
    assert "hunter2" not in body["message"]


def test_payload_round_trip_rebuilds_the_subclass() -> None:
    _, body = error_to_envelope(NotFoundError("viking://resources/x", "file"))
    exc = error_from_payload(body, 404)
    assert isinstance(exc, NotFoundError)
    assert isinstance(exc, OpenVikingError)
    assert exc.details["resource"] == "viking://resources/x"
    assert str(exc) == "File not found: viking://resources/x"


def test_payload_without_code_uses_http_status() -> None:
    exc = error_from_payload({"message": "nope"}, 403)
    assert isinstance(exc, errors.PermissionDeniedError)


def test_cli_exit_codes() -> None:
    assert exit_code_for(ConfigError("bad")) == 2
    assert exit_code_for(ConnectionFailedError("down")) == 3
    assert exit_code_for(NotFoundError("x")) == 1
    assert exit_code_for(ValueError()) == 1
