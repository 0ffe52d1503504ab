"""Ingest → tiers → vectors → find, end to end through the embedded client.

Most tests use the hashing embedder (fast, deterministic); one uses the real local ONNX model.
"""

from __future__ import annotations

import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import AsyncOpenViking, OpenViking, OpenVikingConfig, RequestContext
from openviking_mcp.contract.errors import (
    FailedPreconditionError,
    InvalidURIError,
    NotFoundError,
    PermissionDeniedError,
)
from openviking_mcp.storage.index import IndexFilter
from tests.fakes.quiet_http import QuietHTTPServer

pytestmark = pytest.mark.both_backends


def _config(workspace: Path, **extra: object) -> OpenVikingConfig:
    data: dict[str, object] = {
        "storage": {"workspace": str(workspace)},
        "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
    }
    data.update(extra)
    return OpenVikingConfig.from_dict(data)


@pytest.fixture
def hov(workspace: Path) -> Iterator[OpenViking]:
    with OpenViking(config=_config(workspace)) as client:
        yield client


def _uris(result: dict[str, Any]) -> list[str]:
    """Hit URIs of all buckets, best score first."""
    hits = [*result["memories"], *result["resources"], *result["skills"]]
    return [h["uri"] for h in sorted(hits, key=lambda h: -h["score"])]


GUIDE = """# Deployment guide

This guide explains how to deploy the Falcon service to production clusters.

## Requirements

You need Kubernetes 1.29 and the falconctl command line tool.

## Rollback

If a release misbehaves, run falconctl rollback with the previous release tag.
"""


def test_import_a_markdown_file(hov: OpenViking, tmp_path: Path) -> None:
    doc = tmp_path / "guide.md"
    doc.write_text(GUIDE)
    result = hov.add_resource(str(doc), wait=True)
    assert result["status"] == "success"
    assert result["root_uri"] == "viking://resources/guide"
    assert result["context_count"] >= 3
    assert hov.read("viking://resources/guide/guide.md") == GUIDE
    abstract = hov.abstract("viking://resources/guide")
    assert abstract
    assert "not ready" not in abstract
    assert len(abstract) <= 256
    overview = hov.overview("viking://resources/guide")
    assert overview.startswith("# guide")
    assert "guide.md" in overview
    found = hov.find("how do I roll back a bad release")
    assert found["resources"][0]["uri"] == "viking://resources/guide/guide.md"
    assert "rollback" in found["resources"][0]["match"].lower()
    assert found["total"] == len(_uris(found))


def test_auto_names_do_not_collide(hov: OpenViking, tmp_path: Path) -> None:
    doc = tmp_path / "notes.md"
    doc.write_text("# Notes\n\nFirst.")
    first = hov.add_resource(str(doc))
    second = hov.add_resource(str(doc))
    assert first["root_uri"] == "viking://resources/notes"
    assert second["root_uri"] == "viking://resources/notes_1"
    hov.wait_processing(timeout=60)
    assert hov.read("viking://resources/notes_1/notes.md").startswith("# Notes")
    third = hov.add_resource(str(doc), wait=True)
    assert third["root_uri"] == "viking://resources/notes_2"
    assert third["warnings"] == [
        "'viking://resources/notes' already exists. Creating 'viking://resources/notes_2'. "
        "Tip: Use --to <path> to specify exact target."
    ]
    exact = hov.add_resource(str(doc), to="viking://resources/notes", wait=True)
    assert exact["warnings"] == []  # an exact target is replaced, not renamed


def test_explicit_to_updates_in_place(hov: OpenViking, tmp_path: Path) -> None:
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "old.md").write_text("# Old\n\nObsolete zebra content.")
    hov.add_resource(str(tmp_path / "v1"), to="viking://resources/proj", wait=True)
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "new.md").write_text("# New\n\nFresh giraffe content.")
    hov.add_resource(str(tmp_path / "v2"), to="viking://resources/proj", wait=True)
    assert hov.ls("viking://resources/proj", simple=True) == ["viking://resources/proj/new"]
    assert "viking://resources/proj/old/old.md" not in _uris(hov.find("zebra"))
    assert _uris(hov.find("giraffe"))[0] == "viking://resources/proj/new/new.md"


def test_import_a_folder_with_gitignore_and_progress(hov: OpenViking, tmp_path: Path) -> None:
    src = tmp_path / "repo"
    (src / "src").mkdir(parents=True)
    (src / "README.md").write_text("# Repo\n\nA tool that converts invoices to ledgers.")
    (src / "src" / "convert.py").write_text(
        '"""Invoice conversion."""\n\ndef convert_invoice(path: str) -> dict:\n    return {}\n'
    )
    (src / "secret.env").write_text("TOKEN=abc")
    (src / ".gitignore").write_text("*.env\n")
    planned = hov.add_resource(str(src))
    assert planned["root_uri"] == "viking://resources/repo"
    hov.wait_processing(timeout=60)
    task = hov.get_task(planned["task_id"])
    assert task["status"] == "completed"
    assert task["progress"]["files_total"] == 2
    assert task["progress"]["files_indexed"] == 2
    files = hov.glob("**/*", uri="viking://resources/repo")["matches"]
    assert "viking://resources/repo/src/convert.py" in files
    assert not any(f.endswith("secret.env") for f in files)
    assert "convert_invoice" in hov.overview("viking://resources/repo/src")
    assert _uris(hov.find("convert_invoice"))[0] == "viking://resources/repo/src/convert.py"


def test_converted_names_never_overwrite_each_other(hov: OpenViking, tmp_path: Path) -> None:
    src = tmp_path / "site"
    src.mkdir()
    (src / "page.md").write_text("# Page\n\nMarkdown version about lynx.")
    (src / "page.html").write_text(
        "<html><body><h1>Page</h1><p>HTML about ocelot.</p></body></html>"
    )
    hov.add_resource(str(src), wait=True)
    assert hov.ls("viking://resources/site", simple=True) == ["viking://resources/site/page"]
    names = hov.ls("viking://resources/site/page", simple=True)
    assert names == [
        "viking://resources/site/page/page.md",
        "viking://resources/site/page/page_1.md",
    ]
    texts = {hov.read(u) for u in names}
    assert any("lynx" in t for t in texts)
    assert any("ocelot" in t for t in texts)


def test_a_large_folder_arrives_whole(hov: OpenViking, tmp_path: Path) -> None:
    """Regression: the source is fully staged before a worker can start the import."""
    src = tmp_path / "many"
    src.mkdir()
    for i in range(300):
        (src / f"{i}.txt").write_text(f"Document {i}.")
    result = hov.add_resource(str(src), wait=True)
    assert result["meta"]["files"] == 300
    assert len(hov.ls("viking://resources/many", node_limit=1000)) == 300
    assert hov.consistency("viking://resources/many")["ok"] is True


def test_import_a_zip(hov: OpenViking, tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("bundle/a.md", "# Alpha\n\nAlpha release notes.")
        zf.writestr("bundle/b/c.txt", "Charlie text.")
    result = hov.add_resource(str(archive), wait=True)
    assert result["root_uri"] == "viking://resources/bundle"
    assert hov.read("viking://resources/bundle/b/c/c.txt") == "Charlie text."


def test_codenames_and_acronyms_are_findable(hov: OpenViking) -> None:
    for i, text in enumerate(
        [
            "The XJ-9000 reactor needs quarterly maintenance by certified staff.",
            "Quarterly maintenance schedules for generic reactors and turbines.",
            "Staff certification programmes and training budgets.",
        ]
    ):
        hov.write(f"viking://resources/r/doc{i}.md", text, mode="create")
    hov.wait_processing(timeout=60)
    assert _uris(hov.find("XJ-9000"))[0] == "viking://resources/r/doc0.md"


def test_long_files_are_searchable_to_the_end(hov: OpenViking) -> None:
    filler = "\n\n".join(
        f"Paragraph {i} talks about ordinary weather patterns." for i in range(300)
    )
    text = filler + "\n\nThe secret launch code word is pomegranate."
    hov.write("viking://resources/long.md", text, mode="create", wait=True)
    hit = hov.find("pomegranate launch code")["resources"][0]
    assert hit["uri"] == "viking://resources/long.md"
    assert "pomegranate" in hit["match"]
    # one hit per file, not one per passage
    assert _uris(hov.find("pomegranate", limit=50)).count("viking://resources/long.md") == 1


def test_write_refreshes_tiers_and_vectors(hov: OpenViking) -> None:
    hov.mkdir("viking://resources/kb", "Team knowledge base")
    hov.write(
        "viking://resources/kb/a.md", "# Kiwi\n\nKiwi orchard notes.", mode="create", wait=True
    )
    assert hov.abstract("viking://resources/kb") == "Team knowledge base"  # user L0 kept
    assert "a.md" in hov.overview("viking://resources/kb")
    assert "kb" in hov.overview("viking://resources")  # bubbled up to the scope root
    result = hov.write("viking://resources/kb/a.md", "# Mango\n\nMango grove notes.", wait=True)
    assert result["vector_status"] == "complete"
    assert _uris(hov.find("mango grove"))[0] == "viking://resources/kb/a.md"
    assert not any("a.md" in u for u in _uris(hov.find("kiwi orchard", score_threshold=0.5)))


def test_rm_and_mv_keep_the_index_in_step(hov: OpenViking) -> None:
    hov.write("viking://resources/m/x.md", "Walrus migration facts.", mode="create", wait=True)
    hov.mv("viking://resources/m", "viking://resources/n")
    hov.wait_processing(timeout=60)
    assert _uris(hov.find("walrus migration"))[0] == "viking://resources/n/x.md"
    assert not any(u.startswith("viking://resources/m/") for u in _uris(hov.find("walrus")))
    hov.rm("viking://resources/n", recursive=True)
    hov.wait_processing(timeout=60)
    assert not any("/n/" in u for u in _uris(hov.find("walrus migration")))


def test_find_filters(hov: OpenViking) -> None:
    hov.write("viking://resources/f/doc.md", "Penguin colony census.", mode="create")
    hov.write("viking://~/memories/penguins.md", "User loves penguins.", mode="create")
    hov.wait_processing(timeout=60)
    mem = hov.find("penguin", context_type="memory")
    assert mem["resources"] == []
    assert mem["memories"]
    assert mem["memories"][0]["uri"] == "viking://user/default/memories/penguins.md"
    scoped = hov.find("penguin", target_uri="viking://resources/f")
    assert set(_uris(scoped)) <= {
        "viking://resources/f/doc.md",
        "viking://resources/f/.abstract.md",
        "viking://resources/f/.overview.md",
    }
    dirs = hov.find("penguin colony", level=[0, 1])
    assert all(u.endswith(("/.abstract.md", "/.overview.md")) for u in _uris(dirs))
    traced = hov.find("penguin", include_provenance=True, limit=3)
    assert all("trajectory" in h for h in traced["resources"] + traced["memories"])
    assert all(h["score"] > 0.4 for h in hov.find("penguin", score_threshold=0.4)["resources"])


def test_grep(hov: OpenViking) -> None:
    hov.write("viking://resources/g/a.txt", "alpha\nBeta line\ngamma beta\n", mode="create")
    result = hov.grep("viking://resources/g", "beta", case_insensitive=True)
    assert [(m["line"], m["content"]) for m in result["matches"]] == [
        (2, "Beta line"),
        (3, "gamma beta"),
    ]
    assert hov.grep("viking://resources/g", "beta", node_limit=1)["count"] == 1
    with pytest.raises(NotFoundError):
        hov.grep("viking://resources/none", "x")


def test_tenant_isolation_under_many_queries(workspace: Path) -> None:
    config = _config(workspace)
    with OpenViking(config=config, user="alice") as alice:
        alice.write("viking://~/memories/diary.md", "Alice secret: my PIN is 4321.", mode="create")
        alice.write(
            "viking://resources/shared.md", "Shared handbook about PIN resets.", mode="create"
        )
        alice.wait_processing(timeout=60)
    with OpenViking(config=config, user="bob") as bob:
        for query in ("PIN", "Alice secret", "diary", "4321", "my PIN is", "memories", "secret"):
            for hit_uri in _uris(bob.find(query, limit=50)):
                assert "/user/alice" not in hit_uri
        with pytest.raises(PermissionDeniedError):
            bob.find("PIN", target_uri="viking://user/alice")
        assert "viking://resources/shared.md" in _uris(bob.find("handbook PIN resets"))


@pytest.mark.anyio
async def test_consistency_and_reindex(workspace: Path) -> None:
    async with AsyncOpenViking(config=_config(workspace)) as aov:
        await aov.write("viking://resources/c/a.md", "Consistency doc.", mode="create", wait=True)
        report = await aov.consistency("viking://resources/c")
        assert report["ok"] is True
        assert report["missing_record_count"] == 0
        # The index is derived data: drop a file's rows and the check reports them.
        await aov.service.store.index.delete(
            IndexFilter(account_id="default", uri_prefixes=("viking://resources/c/a.md",))
        )
        report = await aov.consistency("viking://resources/c")
        assert report["missing_records"] == [{"uri": "viking://resources/c/a.md", "level": 2}]
        await aov.reindex("viking://resources/c")
        assert (await aov.consistency("viking://resources/c"))["ok"] is True


def test_bad_imports(hov: OpenViking, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        hov.add_resource(str(tmp_path / "missing.md"))
    doc = tmp_path / "d.md"
    doc.write_text("x")
    with pytest.raises(InvalidURIError, match="resource"):
        hov.add_resource(str(doc), to="viking://agent/skills/x")
    with pytest.raises(NotFoundError, match="create_parent"):
        hov.add_resource(str(doc), parent="viking://resources/nope")
    assert (
        hov.add_resource(str(doc), parent="viking://resources/nope", create_parent=True, wait=True)[
            "root_uri"
        ]
        == "viking://resources/nope/d"
    )


class _Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = (
            b"<html><head><title>Otter facts</title></head><body><h1>Otters</h1>"
            b"<p>Sea otters hold hands while sleeping.</p></body></html>"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def page_server() -> Iterator[str]:
    server = QuietHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/otters.html"
    server.shutdown()


def test_url_import_and_ssrf_guard(workspace: Path, page_server: str) -> None:
    with (
        OpenViking(config=_config(workspace)) as guarded,
        pytest.raises(PermissionDeniedError, match="non-public address"),
    ):
        guarded.add_resource(page_server, wait=True)
    with OpenViking(config=_config(workspace, allow_private_networks=True)) as open_:
        result = open_.add_resource(page_server, wait=True)
        assert result["root_uri"] == "viking://resources/otters"
        assert _uris(open_.find("sea otters sleeping"))[0].startswith("viking://resources/otters/")


@pytest.mark.anyio
async def test_model_change_is_a_failed_precondition_until_rebuild(workspace: Path) -> None:
    async with AsyncOpenViking(config=_config(workspace)) as first:
        await first.write(
            "viking://resources/m.md", "Marmot hibernation.", mode="create", wait=True
        )
    other = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 128}},
        }
    )
    async with AsyncOpenViking(config=other) as second:
        assert await second.read("viking://resources/m.md") == "Marmot hibernation."
        with pytest.raises(FailedPreconditionError, match="reindex") as info:
            await second.find("marmot")
        assert info.value.details["fix"] == "openviking-mcp reindex --all"
        rebuilt = await second.service.rebuild_index(RequestContext.root("default"))
        assert rebuilt["model_id"] == "hashing:v1-128"
        assert _uris(await second.find("marmot hibernation"))[0] == "viking://resources/m.md"


@pytest.mark.slow
def test_real_local_model_end_to_end(workspace: Path, tmp_path: Path) -> None:
    doc = tmp_path / "guide.md"
    doc.write_text(GUIDE)
    with OpenViking(path=workspace) as ov:
        assert ov.service.store.embedder.model_id == "local:all-MiniLM-L6-v2-int8"
        ov.add_resource(str(doc), wait=True)
        ov.write(
            "viking://resources/other.md", "Recipes for sourdough bread.", mode="create", wait=True
        )
        found = ov.find("what do I need before deploying?")
        assert _uris(found)[0].startswith("viking://resources/guide")
        assert _uris(ov.find("baking bread"))[0] == "viking://resources/other.md"
