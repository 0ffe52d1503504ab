"""Zip archives built in memory for upload and import tests."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

__all__ = ["zip_bytes"]


def zip_bytes(files: Mapping[str, str | bytes]) -> bytes:
    """A zip (stored, no compression) holding ``files``: entry name to text or bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
