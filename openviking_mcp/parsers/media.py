"""Images, audio and video: which files are media, and the facts their headers tell.

:func:`media_kind` decides by extension (``image``, ``audio``, ``video`` or ``None``).
:func:`media_info` reads what the original's media parsers record without decoding anything:
``format`` always; ``width``/``height`` for PNG, GIF, JPEG, WebP and BMP; ``duration`` (seconds),
``sample_rate`` and ``channels`` for WAV. Unknown or truncated headers just yield fewer keys.
Pure and bounded: only the first bytes (JPEG: its segment headers) are looked at.
"""

from __future__ import annotations

import struct
from typing import Any

__all__ = ["AUDIO_EXTENSIONS", "IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "media_info", "media_kind"]

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".avif"}
    | {".ico", ".svg"}
)
AUDIO_EXTENSIONS = frozenset(
    {".mp3", ".wav", ".m4a", ".aac", ".flac", ".ogg", ".oga", ".opus", ".wma", ".aiff", ".aif"}
)
VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".wmv", ".flv", ".mpeg", ".mpg"}
)
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE})
_JPEG_SCAN_LIMIT = 1 << 20


def media_kind(filename: str) -> str | None:
    """``image``, ``audio`` or ``video`` by the file's extension, else ``None``."""
    dot = filename.rfind(".")
    ext = filename[dot:].lower() if dot > 0 else ""
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in AUDIO_EXTENSIONS:
        return "audio"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    return None


def media_info(filename: str, data: bytes) -> dict[str, Any]:
    """``{format, width?, height?, duration?, sample_rate?, channels?}`` of a media file."""
    dot = filename.rfind(".")
    info: dict[str, Any] = {"format": filename[dot + 1 :].lower() if dot > 0 else "unknown"}
    size = _image_size(data)
    if size is not None:
        info["format"], info["width"], info["height"] = size
        return info
    wav = _wav_info(data)
    if wav is not None:
        info.update(wav)
    return info


def _image_size(data: bytes) -> tuple[str, int, int] | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "gif", width, height
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return "bmp", abs(width), abs(height)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _webp_size(data: bytes) -> tuple[str, int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return "webp", width, height
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return "webp", width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_size(data: bytes) -> tuple[str, int, int] | None:
    pos = 2
    end = min(len(data), _JPEG_SCAN_LIMIT)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in _JPEG_SOF and pos + 9 <= end:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return "jpeg", width, height
        if length < 2:
            return None
        pos += 2 + length
    return None


def _wav_info(data: bytes) -> dict[str, Any] | None:
    if not (data.startswith(b"RIFF") and data[8:12] == b"WAVE"):
        return None
    pos, rate, channels, byte_rate = 12, 0, 0, 0
    while pos + 8 <= min(len(data), 1 << 20):
        chunk, length = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk == b"fmt " and length >= 16 and pos + 20 <= len(data):
            channels, rate, byte_rate = struct.unpack("<HII", data[pos + 10 : pos + 20])
        elif chunk == b"data":
            out: dict[str, Any] = {"format": "wav", "sample_rate": rate, "channels": channels}
            if byte_rate:
                out["duration"] = round(length / byte_rate, 3)
            return out
        pos += 8 + length + (length & 1)
    return {"format": "wav", "sample_rate": rate, "channels": channels} if rate else None
