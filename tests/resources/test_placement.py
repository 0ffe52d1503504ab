"""Where imports land as the original places them (media folders, a folder per document) and
what the media parsers read from headers."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openviking_mcp import OpenViking, OpenVikingConfig
from openviking_mcp.parsers import parse_document
from openviking_mcp.parsers.media import media_info, media_kind
from openviking_mcp.resources.placement import folder_per_file, media_name, media_parent
from tests.conftest import hashing_config


def png(width: int, height: int) -> bytes:
    """A real (tiny, valid) PNG of the given size."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + bytes(width) for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def wav(seconds: float, rate: int = 8000, channels: int = 2) -> bytes:
    """A silent 16-bit PCM WAV."""
    frames = int(seconds * rate)
    body = bytes(frames * channels * 2)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(body))
    return b"RIFF" + struct.pack("<I", 4 + len(chunks) + len(body)) + b"WAVE" + chunks + body


def jpeg(width: int, height: int) -> bytes:
    """The headers of a baseline JPEG (APP0, then SOF0 with the size)."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + bytes(9)
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + bytes(3)
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + bytes(20)


# -- pure --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.png", png(7, 3), {"format": "png", "width": 7, "height": 3}),
        ("a.jpg", jpeg(640, 480), {"format": "jpeg", "width": 640, "height": 480}),
        ("a.gif", gif(2, 9), {"format": "gif", "width": 2, "height": 9}),
        (
            "a.wav",
            wav(1.5),
            {"format": "wav", "duration": 1.5, "sample_rate": 8000, "channels": 2},
        ),
        ("a.mp3", b"ID3\x03" + bytes(100), {"format": "mp3"}),
        ("a.png", b"\x89PNG\r\n\x1a\n", {"format": "png"}),  # truncated: format only
        ("a.jpg", b"\xff\xd8\xff", {"format": "jpg"}),
    ],
)
def test_media_info_reads_headers(name: str, data: bytes, expected: dict[str, object]) -> None:
    assert media_info(name, data) == expected


def test_media_kinds_and_names() -> None:
    assert [media_kind(n) for n in ("a.PNG", "b.wav", "c.mp4", "d.md", "png")] == [
        "image",
        "audio",
        "video",
        None,
        None,
    ]
    day = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    assert media_parent("p.png", False, day) == "viking://resources/images/2026/01/31"
    assert media_parent("s.flac", False, day) == "viking://resources/audio/2026/01/31"
    assert media_parent("m.mov", False, day) == "viking://resources/video/2026/01/31"
    assert media_parent("p.png", True, day) is None
    assert media_parent("notes.md", False, day) is None
    assert media_name("photo", "photo.PNG") == "photo_png"
    assert [folder_per_file(n) for n in ("a.md", "b.TXT", "c.pdf", "d.html", "e.py", "f.png")] == [
        True,
        True,
        True,
        True,
        False,
        False,
    ]


def test_media_summaries_carry_the_metadata() -> None:
    image = parse_document("shot.png", png(12, 5)).files[0]
    assert image.summary.startswith("Image shot.png: png, 12x5 px, ")
    audio = parse_document("clip.wav", wav(2.0, rate=16000, channels=1)).files[0]
    assert audio.summary.startswith("Audio clip.wav: wav, 2 s, 16000 Hz, 1 channel, ")
    assert (image.kind, audio.kind) == ("binary", "binary")


# -- imports -----------------------------------------------------------------------------


@pytest.fixture
def hov(tmp_path: Path) -> Iterator[OpenViking]:
    config: OpenVikingConfig = hashing_config(tmp_path / "data")
    with OpenViking(config=config) as client:
        yield client


def test_media_imports_land_in_the_days_media_folder(hov: OpenViking, tmp_path: Path) -> None:
    (tmp_path / "photo.png").write_bytes(png(4, 4))
    (tmp_path / "voice.wav").write_bytes(wav(0.5))
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    image = hov.add_resource(str(tmp_path / "photo.png"), wait=True)
    assert image["root_uri"] == f"viking://resources/images/{day}/photo_png"
    assert hov.ls(image["root_uri"], simple=True) == [f"{image['root_uri']}/photo.png"]
    again = hov.add_resource(str(tmp_path / "photo.png"), wait=True)
    assert again["root_uri"] == f"viking://resources/images/{day}/photo_png_1"
    audio = hov.add_resource(str(tmp_path / "voice.wav"), wait=True)
    assert audio["root_uri"] == f"viking://resources/audio/{day}/voice_wav"
    assert hov.abstract(audio["root_uri"])  # indexed like any import
    # an explicit parent or target wins over the media folder
    placed = hov.add_resource(str(tmp_path / "photo.png"), to="viking://resources/pics")
    assert placed["root_uri"] == "viking://resources/pics"


def test_folder_imports_give_each_document_a_folder(hov: OpenViking, tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "note_00.md").write_text("# Note zero\n\nAbout herons.")
    (bench / "todo.txt").write_text("Feed the herons.")
    (bench / "tool.py").write_text("def heron() -> int:\n    return 1\n")
    (bench / "logo.png").write_bytes(png(2, 2))
    result = hov.add_resource(str(bench), wait=True)
    root = result["root_uri"]
    assert root == "viking://resources/bench"
    files = set(hov.glob("**/*", uri=root)["matches"])
    assert {
        f"{root}/note_00/note_00.md",
        f"{root}/todo/todo.txt",
        f"{root}/tool.py",
        f"{root}/logo.png",
    } <= files
    assert f"{root}/note_00.md" not in files
