"""Checking a privacy config's ``values``: an object of named JSON values.

A field name is a non-empty string of at most 255 UTF-8 bytes without control characters (at
the top level and in nested objects). A value is any JSON value — string, number, boolean,
``null``, list or object — stored and returned as it is; numbers must be finite. Nesting stops at
16 levels, collections at 4096 items and the whole object at 1 MiB of compact JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError

__all__ = ["MAX_DEPTH", "MAX_ITEMS", "MAX_NAME_BYTES", "MAX_VALUES_BYTES", "check_values"]

MAX_NAME_BYTES = 255
MAX_DEPTH = 16
MAX_ITEMS = 4096
MAX_VALUES_BYTES = 1024 * 1024


def _refuse(message: str, where: str, reason: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, {"field": where, "reason": reason})


def _check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise _refuse(f"{where}: field names must be non-empty strings", where, "field name")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise _refuse(
            f"{where}: field name longer than {MAX_NAME_BYTES} UTF-8 bytes", where, "field name"
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise _refuse(f"{where}: field names must not hold control characters", where, "field name")
    return name


def _check_tree(value: object, where: str, depth: int) -> None:
    """Refuse anything JSON cannot hold as it is, and trees that are too deep or wide."""
    if depth > MAX_DEPTH:
        raise _refuse(f"{where}: nested deeper than {MAX_DEPTH} levels", where, "too deep")
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _refuse(f"{where}: numbers must be finite", where, "non-finite number")
        return
    if isinstance(value, (list, dict)):
        if len(value) > MAX_ITEMS:
            raise _refuse(f"{where}: more than {MAX_ITEMS} items", where, "too many items")
        if isinstance(value, list):
            for index, item in enumerate(value):
                _check_tree(item, f"{where}[{index}]", depth + 1)
            return
        for name, item in value.items():
            _check_tree(item, f"{where}.{_check_name(name, where)}", depth + 1)
        return
    raise _refuse(f"{where}: {type(value).__name__} is no JSON value", where, "not JSON")


def check_values(values: object, field: str = "values") -> dict[str, Any]:
    """``values`` if it is an object of named JSON values within the limits (a copy of the
    top level), else ``INVALID_ARGUMENT`` naming ``field``."""
    if not isinstance(values, dict):
        raise _refuse(f"{field} must be an object of named values", field, "expected object")
    _check_tree(values, field, 1)
    size = len(json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > MAX_VALUES_BYTES:
        raise _refuse(
            f"{field} takes {size} bytes as JSON; at most {MAX_VALUES_BYTES} are kept",
            field,
            "too large",
        )
    return dict(values)
