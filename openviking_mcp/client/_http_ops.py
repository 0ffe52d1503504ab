"""The HTTP call behind each operation method of the HTTP clients.

:func:`operation_call` turns an operation's name and arguments into a :class:`~._http_base.Call`
by its route in :data:`~._operations.ROUTES`: ``{field}`` placeholders of the path are filled
(and quoted), the other arguments go to the query string or the JSON body, ``fixed`` fields are
added. Two kinds of client-side step are named by the route: ``upload`` (a local file or folder
is sent to the temp upload first, and the call names its ``temp_file_id``) and ``convert`` (the
answer turned into the method's result, such as a pack saved to a file).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from openviking_mcp.client._http_base import Call, call, segment
from openviking_mcp.client._operations import ROUTES
from openviking_mcp.client._uploads import UploadSource, resource_source, skill_source
from openviking_mcp.contract.errors import UnimplementedError

__all__ = ["operation_call"]

Arguments = dict[str, Any]
Converter = Callable[[Any, Mapping[str, Any]], Any]
Uploader = Callable[[Arguments], UploadSource | None]


def _leaf(uri: str) -> str:
    leaf = uri.rstrip("/").rsplit("/", 1)[-1]
    return leaf if leaf and not leaf.endswith(":") and leaf != "~" else "export"


def _save_pack(data: Any, args: Mapping[str, Any]) -> Path:
    """A pack's bytes saved into a new temporary folder (the file is the caller's to move or
    delete, as the embedded client's export is)."""
    uri = args.get("uri")
    filename = f"{_leaf(uri)}.ovpack" if isinstance(uri, str) else "openviking-backup.ovpack"
    path = Path(tempfile.mkdtemp(prefix="openviking-pack-")) / filename
    path.write_bytes(data)
    return path


def _skills_list(result: Any, args: Mapping[str, Any]) -> list[dict[str, Any]]:
    if isinstance(result, dict):
        skills: list[dict[str, Any]] = result.get("skills") or []
        return skills
    return list(result or [])


def _privacy_values(result: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    current = result.get("current") if isinstance(result, dict) else None
    values = current.get("values") if isinstance(current, dict) else None
    if not isinstance(values, dict):
        return {}
    return {str(k): v for k, v in values.items()}


def _resource_upload(args: Arguments) -> UploadSource | None:
    """A local file or folder to import is uploaded; a URL goes to the server as ``path``."""
    path = args.get("path")
    if not isinstance(path, str):
        return None
    source = resource_source(
        path, args.get("include"), args.get("exclude"), args.get("ignore_dirs")
    )
    if source is not None:
        del args["path"]
    return source


def _skill_upload(args: Arguments) -> UploadSource | None:
    """A skill given as a local file, folder or bytes is uploaded first."""
    if "temp_file_id" in args or "data" not in args:
        return None
    source = skill_source(args["data"])
    if source is not None:
        del args["data"]
    return source


_CONVERTERS: dict[str, Converter] = {
    "save_pack": _save_pack,
    "skills_list": _skills_list,
    "privacy_values": _privacy_values,
}
_UPLOADERS: dict[str, Uploader] = {"resource": _resource_upload, "skill": _skill_upload}


def _fill_path(path: str, args: Arguments) -> str:
    while "{" in path:
        start = path.index("{")
        end = path.index("}", start)
        name = path[start + 1 : end]
        path = path[:start] + segment(args.pop(name, "")) + path[end + 1 :]
    return path


def operation_call(name: str, args: Mapping[str, Any]) -> Call[Any]:
    """The call of operation ``name`` with ``args`` (``None`` values already left out)."""
    route = ROUTES.get(name)
    if route is None:
        raise UnimplementedError(f"{name} is not served over HTTP; use the embedded client")
    given = dict(args)
    upload = _UPLOADERS[route.upload](given) if route.upload else None
    path = _fill_path(route.path, given)
    waits = route.waits is True or (route.waits == "wait" and bool(given.get("wait")))
    timeout = given.get("timeout") if waits else None
    fields = {route.names.get(k, k): v for k, v in given.items()} | dict(route.fixed)
    in_query = route.placement == "query"
    converter = _CONVERTERS[route.convert] if route.convert else None
    return call(
        route.method,
        path,
        params=fields if in_query else None,
        json=None if in_query else fields,
        upload=upload,
        raw=route.raw,
        waits=waits,
        wait_timeout=float(timeout) if isinstance(timeout, int | float) else None,
        convert=(lambda result: converter(result, args)) if converter else (lambda r: r),
    )
