from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.parsers import (
    ParsedFile,
    ParsedResource,
    code_skeleton,
    detect_kind,
    parse_document,
    sanitize_name,
)

# -- helpers ------------------------------------------------------------------------------------


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A minimal valid PDF with one Helvetica text line per entry of each page."""
    n = len(pages)
    page_ids = [4 + 2 * i for i in range(n)]
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    objs: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    for pid, lines in zip(page_ids, pages, strict=True):
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        ops += [f"({line}) Tj T*" for line in lines] + ["ET"]
        stream = "\n".join(ops).encode()
        objs[pid] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (pid + 1)
        )
        objs[pid + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
    info = ""
    if title:
        objs[max(objs) + 1] = f"<< /Title ({title}) >>".encode()
        info = f" /Info {max(objs)} 0 R"
    out = bytearray(b"%PDF-1.4\n")
    offsets: dict[int, int] = {}
    for oid in sorted(objs):
        offsets[oid] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (oid, objs[oid])
    xref, size = len(out), max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[i] for i in range(1, size))
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        info.encode(),
        xref,
    )
    return bytes(out)


def words(n: int, tag: str = "w") -> str:
    return " ".join(f"{tag}{i}" for i in range(n)) + "."


def joined(resource: ParsedResource) -> str:
    return "\n".join((f.text or "") for f in sorted(resource.files, key=lambda f: f.path))


def one(resource: ParsedResource) -> ParsedFile:
    assert len(resource.files) == 1, [f.path for f in resource.files]
    return resource.files[0]


# -- names and kinds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("guide", "guide"),
        ("My Guide (v2).md", "My_Guide_v2_.md"),
        ("../etc/passwd", "etc_passwd"),
        ("..", "untitled"),
        (".", "untitled"),
        ("", "untitled"),
        ("  .hidden", "hidden"),
        ("a///b", "a_b"),
        ("a...b", "a.b"),
        ("__init__.py", "__init__.py"),
        ("what?", "what"),
        ("文档 说明.md", "文档_说明.md"),
        ("café", "café"),
    ],
)
def test_sanitize_name(raw: str, expected: str) -> None:
    assert sanitize_name(raw) == expected


def test_sanitize_name_is_bounded_and_keeps_the_extension() -> None:
    name = sanitize_name("x" * 300 + ".md")
    assert len(name) == 100
    assert name.endswith(".md")


@given(st.text())
def test_sanitize_name_is_always_a_safe_segment(raw: str) -> None:
    name = sanitize_name(raw)
    assert name
    assert name not in (".", "..")
    assert "/" not in name
    assert "\\" not in name
    assert len(name) <= 100
    assert not name.startswith((".", " "))
    assert sanitize_name(name) == name


@pytest.mark.parametrize(
    ("filename", "data", "kind"),
    [
        ("a.md", b"# hi", "markdown"),
        ("a.html", b"<p>x</p>", "markdown"),
        ("a.pdf", b"%PDF-1.4", "markdown"),
        ("a.txt", b"hello", "text"),
        ("LICENSE", b"MIT License", "text"),
        ("page", b"<!DOCTYPE html><html><body>x</body></html>", "markdown"),
        ("a.py", b"x = 1", "code"),
        ("Dockerfile", b"FROM python", "code"),
        ("a.json", b"{}", "data"),
        ("a.csv", b"a,b", "data"),
        ("a.png", b"\x89PNG", "binary"),
        ("blob", bytes(range(256)), "binary"),
        ("a.txt", b"\x00\x01\x02binary", "binary"),
    ],
)
def test_detect_kind(filename: str, data: bytes, kind: str) -> None:
    assert detect_kind(filename, data) == kind


@pytest.mark.parametrize("filename", ["", "   "])
def test_empty_filename_is_an_invalid_argument(filename: str) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_document(filename, b"data")


# -- markdown -----------------------------------------------------------------------------------


def test_small_markdown_is_one_file_with_bom_and_crlf_normalised() -> None:
    data = "\ufeff# Quick Start\r\n\r\nInstall the tool with pip. Then run it.\r\n".encode()
    resource = parse_document("docs/Quick Start.md", data)
    f = one(resource)
    assert resource.name == "Quick_Start"
    assert (f.path, f.kind, f.title) == ("Quick_Start.md", "markdown", "Quick Start")
    assert f.content == b"# Quick Start\n\nInstall the tool with pip. Then run it.\n"
    assert f.summary == "Install the tool with pip. Then run it."
    assert resource.warnings == []


def big_guide() -> str:
    setup = "\n\n".join(f"### Step {i}\n\n{words(120, f's{i}_')}" for i in range(4))
    return (
        "# Guide\n\nThe guide explains the frobnicator.\n\n"
        f"## Install\n\n{words(150, 'inst')}\n\n"
        f"## Setup\n\nSetup has several steps.\n\n{setup}\n\n"
        f"## Usage\n\n{words(150, 'use')}\n\n"
        "```bash\n# this is a comment, not a heading\nfrob --run\n```\n\n"
        "## Notes\n\nShort notes.\n\n"
        f"## Reference\n\n" + "\n\n".join(words(60, f"ref{i}_") for i in range(6)) + "\n"
    )


def test_large_markdown_becomes_a_tree_of_sections() -> None:
    text = big_guide()
    resource = parse_document(
        "guide.md", text.encode(), max_section_tokens=300, min_section_tokens=60
    )
    paths = [f.path for f in resource.files]
    assert paths == sorted(paths)
    assert paths[0] == "01-install.md"  # the tiny preamble joined the first section
    assert [p for p in paths if p.startswith("02-setup/")] == [
        "02-setup/01-step-0.md",
        "02-setup/02-step-1.md",
        "02-setup/03-step-2.md",
        "02-setup/04-step-3.md",
    ]
    assert "03-usage.md" in paths
    assert not any("notes" in p for p in paths)  # small section merged into the previous one
    reference = [p for p in paths if p.startswith("04-reference")]
    assert reference == ["04-reference-1.md", "04-reference-2.md", "04-reference-3.md"]
    by_path = {f.path: f for f in resource.files}
    assert by_path["01-install.md"].text is not None
    assert by_path["01-install.md"].text.startswith("# Guide\n")
    assert by_path["02-setup/01-step-0.md"].text.startswith("## Setup\n")  # type: ignore[union-attr]
    usage = by_path["03-usage.md"].text or ""
    assert "# this is a comment, not a heading\nfrob --run\n```" in usage
    assert "## Notes" in usage
    part2 = by_path["04-reference-2.md"]
    assert part2.title == "Reference (part 2)"
    assert (part2.text or "").startswith("## Reference (part 2)\n\n")
    for f in resource.files:
        assert f.kind == "markdown"
        assert f.summary
        assert len(f.summary) <= 400
        assert f.content == (f.text or "").encode()
    for line in text.splitlines():
        if line.strip():
            assert line in joined(resource)


def test_no_split_keeps_one_file() -> None:
    resource = parse_document(
        "guide.md", big_guide().encode(), max_section_tokens=300, no_split=True
    )
    assert one(resource).path == "guide.md"


def test_headings_inside_fences_do_not_split() -> None:
    body = "\n".join(f"# comment {i}\nprint({i})" for i in range(200))
    text = f"Intro text here.\n\n```python\n{body}\n```\n\nAfter the fence.\n"
    resource = parse_document("code.md", text.encode(), max_section_tokens=200)
    fence_files = [f for f in resource.files if "```python" in (f.text or "")]
    assert len(fence_files) == 1
    assert f"```python\n{body}\n```" in (fence_files[0].text or "")
    assert all(f.title != "comment 1" for f in resource.files)


def test_setext_headings_split_and_front_matter_is_not_a_heading() -> None:
    text = (
        "---\ntitle: x\n# not a heading\n---\n\n"
        f"Alpha\n=====\n\n{words(200, 'a')}\n\nBeta\n=====\n\n{words(200, 'b')}\n"
    )
    resource = parse_document(
        "doc.md", text.encode(), max_section_tokens=300, min_section_tokens=10
    )
    assert [f.path for f in resource.files] == ["01-alpha.md", "02-beta.md"]
    assert (resource.files[0].text or "").startswith("---\ntitle: x\n")
    assert resource.files[1].title == "Beta"


_word = st.sampled_from(["alpha", "beta", "gamma", "delta", "omega", "setup", "run", "x1"])
_sentence = st.lists(_word, min_size=1, max_size=40).map(" ".join)
_heading = st.tuples(st.integers(1, 4), _sentence).map(lambda t: "#" * t[0] + " " + t[1])
_paragraph = st.lists(_sentence, min_size=1, max_size=4).map("\n".join)
_fence = st.lists(st.one_of(_sentence, _heading, st.just("")), max_size=6).map(
    lambda lines: "\n".join(["```", *lines, "```"])
)
_block = st.one_of(_heading, _paragraph, _paragraph, _fence, _sentence.map(lambda s: "- " + s))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_block, min_size=1, max_size=40),
    st.integers(10, 120),
    st.integers(0, 40),
)
def test_markdown_split_loses_no_line_and_keeps_fences(
    blocks: list[str], max_tokens: int, min_tokens: int
) -> None:
    text = "\n\n".join(blocks) + "\n"
    resource = parse_document(
        "doc.md", text.encode(), max_section_tokens=max_tokens, min_section_tokens=min_tokens
    )
    files = sorted(resource.files, key=lambda f: f.path)
    assert len({f.path for f in files}) == len(files)
    out_lines = joined(resource).split("\n")
    expected = [line for line in text.split("\n") if line.strip()]
    it = iter(out_lines)
    assert all(line in it for line in expected), "a line was lost or reordered"
    fences = [b for b in blocks if b.startswith("```")]
    for f in files:
        body = f.text or ""
        assert body.strip(), f"{f.path} is empty"
        assert sum(1 for line in body.split("\n") if line.startswith("```")) % 2 == 0
        assert re.fullmatch(r"(?:\d{2,}-[\w.-]+/)*\d{2,}-[\w.-]+\.md|doc(?:-\d+)?\.md", f.path)
    for fence in fences:
        assert any(fence in (f.text or "") for f in files)


# -- text, html, pdf -----------------------------------------------------------------------------


def test_plain_text_is_never_split() -> None:
    text = "\n\n".join(words(100) for _ in range(50))
    f = one(parse_document("notes.rst", text.encode(), max_section_tokens=50))
    assert (f.path, f.kind, f.text) == ("notes.txt", "text", text)
    assert f.summary.startswith("w0 w1")


def test_text_without_extension_and_windows_1252_fallback() -> None:
    f = one(parse_document("README", b"Read me first. It matters."))
    assert (f.path, f.kind) == ("README.txt", "text")
    resource = parse_document("menu.txt", "Café crème is served daily.".encode("cp1252"))
    assert one(resource).text == "Café crème is served daily."
    assert len(resource.warnings) == 1
    assert "Windows-1252" in resource.warnings[0]


HTML = b"""<!DOCTYPE html><html><head><title>Frob Manual</title>
<style>.x{color:red}</style><script>alert("x")</script></head>
<body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
<h2>Overview</h2><p>The <b>frobnicator</b> converts widgets into gadgets.</p>
<pre><code class="language-python">def frob():\n    return 1\n</code></pre>
<footer>Copyright footer text</footer></body></html>"""


@pytest.mark.parametrize("filename", ["manual.html", "manual"])
def test_html_becomes_markdown(filename: str) -> None:
    f = one(parse_document(filename, HTML))
    assert (f.path, f.kind, f.title) == ("manual.md", "markdown", "Frob Manual")
    text = f.text or ""
    assert text.startswith("# Frob Manual\n")
    assert "## Overview" in text
    assert "```python\ndef frob():" in text
    for dropped in ("Home", "alert", "color:red", "Copyright footer"):
        assert dropped not in text
    assert f.summary == "The frobnicator converts widgets into gadgets."


def test_pdf_text_is_extracted_with_page_headings() -> None:
    pdf = make_pdf(
        [["First page talks about apples."], ["Second page talks about pears."]],
        title="Fruit Report",
    )
    resource = parse_document("report.pdf", pdf)
    f = one(resource)
    assert (f.path, f.kind, f.title) == ("report.md", "markdown", "Fruit Report")
    text = f.text or ""
    assert text.index("## Page 1") < text.index("apples") < text.index("## Page 2")
    assert "pears" in text
    assert "apples" in f.summary


def test_long_pdf_splits_by_page() -> None:
    pages = [
        [f"Page {p} line {i} " + "lorem ipsum dolor sit amet " * 6 for i in range(10)]
        for p in range(3)
    ]
    resource = parse_document("long.pdf", make_pdf(pages), max_section_tokens=600)
    assert [f.path for f in resource.files] == ["01-page-1.md", "02-page-2.md", "03-page-3.md"]


def test_encrypted_and_broken_pdfs_are_kept_as_binary() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["secret text"]]))))
    writer.encrypt(user_password="pw", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    for name, data, reason in [
        ("locked.pdf", buffer.getvalue(), "encrypted"),
        ("broken.pdf", b"%PDF-1.4\nnot really a pdf", "could not be read"),
    ]:
        resource = parse_document(name, data)
        f = one(resource)
        assert (f.path, f.kind, f.text, f.content) == (name, "binary", None, data)
        assert f.summary.startswith(f"Binary file {name}, ")
        assert "application/pdf" in f.summary
        assert len(resource.warnings) == 1
        assert reason in resource.warnings[0]


# -- code, data, binary --------------------------------------------------------------------------

PYTHON = b'''"""Widget tools for the factory.

Longer description."""
import os
from typing import Any


class Widget(Base):
    def frob(self, x: int = 1) -> str:
        return ""

    class Part:
        pass


async def build(name: str, **options: Any) -> Widget:
    return Widget()
'''


def test_python_code_is_kept_as_is_with_an_ast_summary() -> None:
    f = one(parse_document("widgets.py", PYTHON))
    assert (f.path, f.kind, f.title, f.content) == ("widgets.py", "code", "widgets.py", PYTHON)
    assert f.summary == (
        "Python source file widgets.py: Widget tools for the factory. Defines 1 class (Widget) "
        "and 1 function (build). 17 lines, 2 import statements."
    )
    assert code_skeleton("widgets.py", PYTHON.decode()).splitlines() == [
        "class Widget(Base):",
        "    def frob(self, x: int=1) -> str",
        "    class Part:",
        "async def build(name: str, **options: Any) -> Widget",
    ]


def test_broken_python_falls_back_to_the_regex_skeleton() -> None:
    text = "def ok(a):\n    pass\n\ndef broken(:\nclass Thing:\n"
    assert code_skeleton("x.py", text).splitlines() == [
        "def ok(a):",
        "def broken(:",
        "class Thing:",
    ]


@pytest.mark.parametrize(
    ("filename", "source", "expected"),
    [
        (
            "server.go",
            "// Package server serves HTTP.\npackage server\n\ntype Server struct {\n}\n\n"
            "func (s *Server) Start(port int) error {\n}\n",
            ["type Server struct", "func (s *Server) Start(port int) error"],
        ),
        (
            "api.ts",
            "export interface User {\n}\nexport const load = async (id: string) => {\n}\n"
            "class Api {\n  async get(url: string): Promise<User> {\n    if (x) {\n    }\n  }\n}\n",
            [
                "export interface User",
                "export const load = async (id: string) =>",
                "class Api",
                "  async get(url: string): Promise<User>",
            ],
        ),
        (
            "Main.java",
            "package app;\n/** Entry. */\npublic class Main {\n"
            "    public static void main(String[] args) {\n        run(args);\n    }\n}\n",
            ["public class Main", "    public static void main(String[] args)"],
        ),
        (
            "schema.sql",
            "-- Users\nCREATE TABLE IF NOT EXISTS users (\n  id int\n);\n",
            ["CREATE TABLE IF NOT EXISTS users ("],
        ),
    ],
)
def test_regex_skeletons(filename: str, source: str, expected: list[str]) -> None:
    assert code_skeleton(filename, source).splitlines() == expected
    summary = one(parse_document(filename, source.encode())).summary
    assert summary.startswith(f"{summary.split(' ')[0]} source file {filename}")


def test_code_skeleton_respects_max_chars() -> None:
    source = "\n".join(f"def function_{i}(a, b):\n    pass" for i in range(500))
    skeleton = code_skeleton("big.py", source, max_chars=300)
    assert 0 < len(skeleton) <= 300
    assert skeleton.splitlines()[0] == "def function_0(a, b)"


@pytest.mark.parametrize(
    ("filename", "data", "summary"),
    [
        (
            "a.json",
            json.dumps({f"k{i}": i for i in range(12)}).encode(),
            "JSON object with 12 top-level keys: k0, k1, k2, k3, k4, k5, k6, k7, k8, k9 (+2 more).",
        ),
        (
            "b.json",
            b'[{"id": 1, "name": "a"}, {"id": 2, "tags": []}]',
            "JSON array of 2 items; items are objects with keys id, name, tags.",
        ),
        (
            "c.yaml",
            b"server:\n  port: 80\nusers: [a, b]\n",
            "YAML mapping with 2 top-level keys: server, users.",
        ),
        (
            "d.csv",
            b"id,name,city\r\n1,Ann,Oslo\r\n2,Bob,Rome\r\n3,Cy,Bern\r\n",
            "CSV table with 3 rows and 3 columns: id, name, city.",
        ),
        ("e.tsv", b"a\tb\n1\t2\n", "TSV table with 1 row and 2 columns: a, b."),
        (
            "f.toml",
            b'[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n',
            "TOML document with 2 top-level keys: project, tool.",
        ),
        (
            "g.jsonl",
            b'{"a": 1}\n{"a": 2, "b": 3}\n',
            "JSON Lines file with 2 records; records are objects with keys a, b.",
        ),
    ],
)
def test_data_files_are_described_by_shape(filename: str, data: bytes, summary: str) -> None:
    f = one(parse_document(filename, data))
    assert (f.path, f.kind, f.content) == (filename, "data", data)
    assert f.summary == summary


@pytest.mark.parametrize("filename", ["bad.json", "bad.yaml", "bad.toml"])
def test_invalid_data_is_kept_and_says_so(filename: str) -> None:
    data = b"{ not: [valid"
    f = one(parse_document(filename, data))
    assert (f.kind, f.content) == ("data", data)
    assert "could not be parsed" in f.summary
    assert len(f.summary) <= 400


def test_binary_files_are_kept_byte_for_byte() -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(2040)
    f = one(parse_document("images/Logo Final.png", data))
    assert (f.path, f.kind, f.text, f.content) == ("Logo_Final.png", "binary", None, data)
    # a media file's summary names its kind and what its header tells (here: no IHDR)
    assert f.summary == "Image Logo_Final.png: png, 2.0 KB, type image/png."
    g = one(parse_document("blob", bytes(range(256)) * 4))
    assert g.summary == "Binary file blob, 1.0 KB, type unknown."


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        [
            "x.md",
            "x.txt",
            "x.html",
            "x.pdf",
            "x.py",
            "x.go",
            "x.json",
            "x.yaml",
            "x.csv",
            "x.toml",
            "x",
            "x.bin",
        ]
    ),
    st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)),
)
def test_parse_document_never_raises_and_never_returns_empty_summaries(
    filename: str, data: bytes
) -> None:
    resource = parse_document(filename, data, max_section_tokens=20, min_section_tokens=5)
    assert resource.files
    for f in resource.files:
        assert f.summary.strip()
        assert len(f.summary) <= 400
        assert (f.text is None) == (f.kind == "binary")


def test_text_with_an_unknown_extension_keeps_its_name() -> None:
    f = one(parse_document("server.conf", b"listen 80; # the web server settings"))
    assert (f.path, f.kind) == ("server.conf", "text")
