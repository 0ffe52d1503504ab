"""Typed errors: one ``OpenVikingError`` subclass per error code of seed 000.

Every surface reports failures through the same mapping:

* :func:`error_to_envelope` turns any exception into ``(http_status, error_body)`` where
  ``error_body`` is ``{"code", "message", "details"}``; HTTP, MCP and the CLI all use it.
* :func:`exit_code_for` gives the CLI exit code (seed 000: 0 ok, 1 error, 2 config, 3 connection).
* :func:`error_from_payload` rebuilds the typed exception from an envelope, for HTTP clients.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

__all__ = [
    "HTTP_STATUS_CODES",
    "AlreadyExistsError",
    "ConfigError",
    "ConflictError",
    "ConnectionFailedError",
    "DeadlineExceededError",
    "EmbeddingFailedError",
    "FailedPreconditionError",
    "IdempotencyInProgressError",
    "IdempotencyKeyReusedError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidURIError",
    "MethodNotAllowedError",
    "NotFoundError",
    "NotInitializedError",
    "OpenVikingError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "ProcessingError",
    "ResourceExhaustedError",
    "SessionExpiredError",
    "StorageFullError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "VLMFailedError",
    "error_class_for_code",
    "error_from_payload",
    "error_to_envelope",
    "exit_code_for",
    "http_status_for_code",
    "storage_error",
    "validation_items",
    "validation_problem",
]


def validation_items(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic-style errors (``exc.errors()``) as the ``{loc, message, type}`` items of
    ``details.validation_errors``."""
    return [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "message": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in errors
    ]


def validation_problem(errors: Iterable[Mapping[str, Any]]) -> str:
    """The first error as ``where: message`` (only the message when it has no location)."""
    first = validation_items(errors)[0]
    where = ".".join(first["loc"])
    return f"{where}: {first['message']}" if where else first["message"]


class OpenVikingError(Exception):
    """Base of every error the store raises on purpose.

    ``code`` is the wire code (``NOT_FOUND``...), ``http_status`` the status that goes with it,
    ``details`` a JSON-able dict of facts a caller can act on.
    """

    code: ClassVar[str] = "UNKNOWN"
    http_status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Operation failed"

    def __init__(self, message: str | None = None, details: dict[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The ``error`` object of the envelope."""
        return {"code": self.code, "message": self.message, "details": self.details}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, details={self.details!r})"


class InvalidArgumentError(OpenVikingError):
    code = "INVALID_ARGUMENT"
    http_status = 400
    default_message = "Invalid argument"


class PayloadTooLargeError(InvalidArgumentError):
    """A request (or an upload, a header block) larger than the server accepts: HTTP 413 with
    the code ``INVALID_ARGUMENT`` and the limit in ``details``."""

    http_status = 413
    default_message = "Request too large"


class MethodNotAllowedError(InvalidArgumentError):
    """A method the route does not serve: HTTP 405 with the code ``INVALID_ARGUMENT``
    (``details.allowed`` lists the methods it does serve)."""

    http_status = 405
    default_message = "Method not allowed"


class InvalidURIError(OpenVikingError):
    """A ``viking://`` URI that cannot be parsed or is not allowed in that place."""

    code = "INVALID_URI"
    http_status = 400
    default_message = "Invalid URI"

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"Invalid URI: {uri} ({reason})", {"uri": uri, "reason": reason})


class _ResourceError(OpenVikingError):
    """An error about one named resource: message ``"{Type} {phrase}: {resource}"``."""

    phrase: ClassVar[str] = ""

    def __init__(self, resource: str = "", type: str = "resource", message: str | None = None):
        text = message or (f"{type.capitalize()} {self.phrase}: {resource}" if resource else None)
        super().__init__(text, {"type": type, "resource": resource})


class NotFoundError(_ResourceError):
    code = "NOT_FOUND"
    http_status = 404
    default_message = "Resource not found"
    phrase = "not found"


class AlreadyExistsError(_ResourceError):
    code = "ALREADY_EXISTS"
    http_status = 409
    default_message = "Resource already exists"
    phrase = "already exists"


class UnauthenticatedError(OpenVikingError):
    code = "UNAUTHENTICATED"
    http_status = 401
    default_message = "Authentication required"


class PermissionDeniedError(OpenVikingError):
    code = "PERMISSION_DENIED"
    http_status = 403
    default_message = "Permission denied"


class ResourceExhaustedError(OpenVikingError):
    code = "RESOURCE_EXHAUSTED"
    http_status = 429
    default_message = "Rate limit exceeded"


class FailedPreconditionError(OpenVikingError):
    code = "FAILED_PRECONDITION"
    http_status = 412
    default_message = "Precondition failed"


class ConflictError(OpenVikingError):
    code = "CONFLICT"
    http_status = 409
    default_message = "Operation conflicts with an in-progress task or existing state"


class IdempotencyKeyReusedError(ConflictError):
    """An ``Idempotency-Key`` already used by the same caller for a different request (another
    method, path, query or body): HTTP 409."""

    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "Idempotency-Key already used for a different request"


class IdempotencyInProgressError(ConflictError):
    """The first request with this ``Idempotency-Key`` is still running after the wait for it
    ran out (``details.waited``): HTTP 409; retry later to get its response."""

    code = "IDEMPOTENCY_IN_PROGRESS"
    default_message = "A request with this Idempotency-Key is still in progress"


class DeadlineExceededError(OpenVikingError):
    code = "DEADLINE_EXCEEDED"
    http_status = 504
    default_message = "Operation timed out"

    def __init__(self, operation: str = "operation", timeout: float | None = None) -> None:
        text = f"{operation.capitalize()} timed out" + (f" after {timeout}s" if timeout else "")
        super().__init__(text, {"operation": operation, "timeout": timeout})


class UnavailableError(OpenVikingError):
    code = "UNAVAILABLE"
    http_status = 503
    default_message = "Service unavailable"


class StorageFullError(ResourceExhaustedError):
    """The server's storage has no space (or quota) left: HTTP 507 with the code
    ``RESOURCE_EXHAUSTED``."""

    http_status = 507
    default_message = "No space left in the server's storage"


class ProcessingError(OpenVikingError):
    code = "PROCESSING_ERROR"
    http_status = 500
    default_message = "Resource or semantic processing failed"


class InternalError(OpenVikingError):
    code = "INTERNAL"
    http_status = 500
    default_message = "Internal server error"


class UnimplementedError(OpenVikingError):
    code = "UNIMPLEMENTED"
    http_status = 501
    default_message = "Feature not implemented"


class EmbeddingFailedError(OpenVikingError):
    code = "EMBEDDING_FAILED"
    http_status = 500
    default_message = "Embedding generation failed"


class VLMFailedError(OpenVikingError):
    code = "VLM_FAILED"
    http_status = 500
    default_message = "VLM call failed"


class SessionExpiredError(OpenVikingError):
    code = "SESSION_EXPIRED"
    http_status = 410
    default_message = "Session no longer exists"


class NotInitializedError(OpenVikingError):
    code = "NOT_INITIALIZED"
    http_status = 500
    default_message = "Service not initialized: call initialize() first"


class ConfigError(InvalidArgumentError):
    """``ov.conf`` (or an override) is unreadable or invalid. The CLI exits with code 2."""

    default_message = "Invalid configuration"


class ConnectionFailedError(UnavailableError):
    """A client could not reach the server. The CLI exits with code 3."""

    default_message = "Could not connect to the server"


_BY_CODE: dict[str, type[OpenVikingError]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        InvalidURIError,
        NotFoundError,
        AlreadyExistsError,
        UnauthenticatedError,
        PermissionDeniedError,
        ResourceExhaustedError,
        FailedPreconditionError,
        ConflictError,
        DeadlineExceededError,
        UnavailableError,
        ProcessingError,
        InternalError,
        UnimplementedError,
        EmbeddingFailedError,
        VLMFailedError,
        SessionExpiredError,
        NotInitializedError,
        IdempotencyKeyReusedError,
        IdempotencyInProgressError,
    )
}
# Codes the original also sends; mapped onto our classes so clients get a typed error.
_ALIASES: dict[str, type[OpenVikingError]] = {
    "INTERNAL_ERROR": InternalError,
    "UNKNOWN": InternalError,
    "ABORTED": ConflictError,
    "WRITE_CONFLICT": ConflictError,
    "UNSUPPORTED_URI": InvalidArgumentError,
    "UNSUPPORTED_MODE": InvalidArgumentError,
    "INVALID_FILTER": InvalidArgumentError,
    "MODEL_UNAVAILABLE": UnavailableError,
    "NO_VECTOR_DB": UnavailableError,
}


def error_class_for_code(code: str) -> type[OpenVikingError]:
    """The exception class for a wire code; unknown codes give :class:`InternalError`."""
    return _BY_CODE.get(code) or _ALIASES.get(code) or InternalError


#: The wire code of an HTTP status that came without an envelope (a framework 405, a proxy's
#: 502...), as the server maps framework errors (reference §2.3); both the server and the HTTP
#: clients use it.
HTTP_STATUS_CODES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "CONFLICT",
    410: "SESSION_EXPIRED",
    405: "INVALID_ARGUMENT",
    412: "FAILED_PRECONDITION",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    431: "INVALID_ARGUMENT",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    507: "RESOURCE_EXHAUSTED",
}


def http_status_for_code(code: str) -> int:
    """HTTP status for a wire code (seed 000's table); unknown codes are 500."""
    if code == "OK":
        return 200
    return error_class_for_code(code).http_status


#: errno values of a name the storage cannot hold (a client mistake: 400).
_NAME_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.ELOOP})
#: errno values of storage that refuses to change (permissions, a read-only mount: 403).
_REFUSED_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
#: errno values of storage that is full (507).
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def storage_error(exc: OSError, resource: str = "") -> OpenVikingError:
    """The typed error of a storage ``OSError``, naming ``resource`` (a ``viking://`` URI,
    never a server path) when given; ``InternalError`` for errors no caller can act on.

    Messages are fixed texts: the ``OSError``'s own text holds server paths and never leaks.
    """
    code = exc.errno
    where = {"resource": resource} if resource else {}
    suffix = f": {resource}" if resource else ""
    if isinstance(exc, FileNotFoundError):
        return NotFoundError(resource, message=None if resource else "Resource not found")
    if isinstance(exc, FileExistsError):
        return AlreadyExistsError(resource, message=None if resource else "Resource already exists")
    if code in _NAME_ERRNOS:
        return InvalidArgumentError(
            f"Name too long for the storage{suffix}", {**where, "reason": "name_too_long"}
        )
    if code in _REFUSED_ERRNOS or isinstance(exc, PermissionError):
        reason = "read_only" if code == errno.EROFS else "storage_permission"
        return PermissionDeniedError(
            f"Storage refused the change{suffix}", {**where, "reason": reason}
        )
    if code in _FULL_ERRNOS:
        return StorageFullError(details={**where, "reason": "no_space"})
    if isinstance(exc, NotADirectoryError):
        return FailedPreconditionError(
            f"Not a directory (a file is in the way){suffix}",
            {**where, "reason": "not_a_directory"},
        )
    if isinstance(exc, IsADirectoryError):
        return InvalidArgumentError(f"Is a directory{suffix}", {**where, "reason": "is_directory"})
    if code == errno.ENOTEMPTY:
        return FailedPreconditionError(f"Directory not empty{suffix}", where)
    return InternalError()


def _coerce(exc: BaseException) -> OpenVikingError:
    """Map a foreign exception onto the closest typed error, hiding internals."""
    if isinstance(exc, OpenVikingError):
        return exc
    if isinstance(exc, TimeoutError):
        return DeadlineExceededError()
    if isinstance(exc, OSError):
        return storage_error(exc)
    if isinstance(exc, NotImplementedError):
        return UnimplementedError()
    return InternalError()


def error_to_envelope(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """Turn any exception into ``(http_status, {"code", "message", "details"})``.

    This is the one mapping used by HTTP, MCP and the CLI. Unknown exceptions become 500
    ``INTERNAL`` with a generic message: internals never leak to callers.
    """
    err = _coerce(exc)
    return err.http_status, err.to_dict()


def error_from_payload(error: dict[str, Any] | None, http_status: int | None = None) -> Exception:
    """Rebuild the typed exception from an envelope's ``error`` object (HTTP clients)."""
    error = error or {}
    code = str(error.get("code") or "")
    if not code and http_status is not None:
        code = next((c for c, k in _BY_CODE.items() if k.http_status == http_status), "INTERNAL")
    cls = error_class_for_code(code)
    exc = cls.__new__(cls)
    OpenVikingError.__init__(
        exc, str(error.get("message") or cls.default_message), error.get("details")
    )
    return exc


def exit_code_for(exc: BaseException) -> int:
    """CLI exit code for an exception: 2 configuration, 3 connection, 1 anything else."""
    if isinstance(exc, ConfigError):
        return 2
    if isinstance(exc, ConnectionFailedError):
        return 3
    return 1
