"""The console's search playground: find with score parts and trajectory, filters, context
mode, errors as fragments, and what each user may find."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient

from http_api.console.search import trajectory_tree
from openviking_mcp.contract.search import Hit, TrajectoryStep
from tests.console._console import (
    GUIDES,
    ROOT_KEY,
    console_client,
    create_user,
    service_of,
    sign_in,
)

HTMX = {"HX-Request": "true"}
MEMORY = "viking://user/ann/memories/preferences/editor.md"


def _write(client: TestClient, key: str, uri: str, text: str) -> None:
    service = service_of(client)
    assert client.portal is not None
    ctx = client.portal.call(service.auth.resolve_api_key, key)
    client.portal.call(lambda: service.write(ctx, uri, text, mode="replace", wait=True))


@contextmanager
def _signed_in(workspace: Path) -> Iterator[tuple[TestClient, str]]:
    """A client signed in as ann (acme) after the guides were written; and ann's key."""
    with console_client(workspace) as client:
        ann = create_user(client, "acme", "ann")
        for uri, text in GUIDES.items():
            _write(client, ann, uri, text)
        sign_in(client, ann)
        yield client, ann


def _results(client: TestClient, **params: str) -> str:
    answer = client.get("/console/search/results", params=params, headers=HTMX)
    assert answer.status_code == 200, answer.text
    return answer.text


def _hit_uris(html: str) -> list[str]:
    return re.findall(r'<li class="hit" data-uri="([^"]+)"', html)


class _Steps(HTMLParser):
    """The trajectory's steps: ``{uri: parent step uri or None}`` and the open ones."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.parent: dict[str, str | None] = {}
        self.open: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "details":
            return
        found = dict(attrs)
        uri = found.get("data-uri") if found.get("class") == "step" else None
        if uri is not None:
            self.parent[uri] = next((u for u in reversed(self.stack) if u), None)
            if "open" in found:
                self.open.add(uri)
        self.stack.append(uri)

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.stack.pop()


def test_the_page_needs_a_tenant_sign_in(workspace: Path) -> None:
    with console_client(workspace) as client:
        for path in ("/console/search", "/console/search/results?query=x"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/console/login?next=")
        sign_in(client, ROOT_KEY)
        root = client.get("/console/search?query=x", follow_redirects=False)
        assert root.status_code == 303
        assert root.headers["location"] == "/console/admin"
        sign_in(client, create_user(client, "acme", "ann"))
        page = client.get("/console/search")
        assert page.status_code == 200
        assert 'id="search-form"' in page.text
        assert 'hx-get="/console/search/results"' in page.text
        assert "<script>" not in page.text
        assert 'id="search-hint"' in page.text
        assert client.get("/console/static/search.css").status_code == 200


def test_find_shows_a_written_document_with_its_score_parts(workspace: Path) -> None:
    with _signed_in(workspace) as (client, _):
        answer = client.get(
            "/console/search/results", params={"query": "python venv packages"}, headers=HTMX
        )
        assert answer.status_code == 200
        assert answer.headers["hx-push-url"] == "/console/search?query=python+venv+packages"
        html = answer.text
        venv = "viking://resources/guides/python/venv.md"
        assert _hit_uris(html)[0] == venv
        assert f'href="/console/explorer?uri={venv.replace(":", "%3A").replace("/", "%2F")}"' in (
            html
        )
        item = html[html.index(f'data-uri="{venv}"') :]
        item = item[: item.index("</li>")]
        parts = re.search(r'data-vector="([\d.]+)" data-keyword="([\d.]+)"', item)
        assert parts is not None
        assert float(parts.group(1)) > 0  # both signals found it
        assert float(parts.group(2)) > 0
        assert "rerank <b>\u2013</b>" in item  # no reranker configured
        assert "before installing packages" in item  # the abstract
        # The shareable URL renders the same results in the full page.
        page = client.get("/console/search", params={"query": "python venv packages"})
        assert page.status_code == 200
        assert _hit_uris(page.text) == _hit_uris(html)
        assert 'value="python venv packages"' in page.text


def test_filters_change_the_results(workspace: Path) -> None:
    with _signed_in(workspace) as (client, ann):
        _write(client, ann, MEMORY, "Ann prefers the helix editor for python code.")
        everything = _hit_uris(_results(client, query="python"))
        assert MEMORY in everything
        assert "viking://resources/guides/python/typing.md" in everything
        memories = _hit_uris(_results(client, query="python", context_type="memory"))
        assert memories
        assert all(u.startswith("viking://user/ann/memories") for u in memories)
        rust = _hit_uris(
            _results(client, query="python", target_uri="viking://resources/guides/rust")
        )
        assert rust
        assert all(u.startswith("viking://resources/guides/rust") for u in rust)
        files = _results(client, query="python", level="2")
        assert set(
            re.findall(
                r'class="hit" data-uri="[^"]+" data-context-type="\w+" '
                r'data-level="(\d)"',
                files,
            )
        ) == {"2"}
        assert len(_hit_uris(_results(client, query="python", limit="1"))) == 1


def test_the_trajectory_nests_the_expanded_directories(workspace: Path) -> None:
    with _signed_in(workspace) as (client, _):
        html = _results(client, query="python venv packages")
        assert '<details id="trajectory" open>' in html
        steps = _Steps()
        steps.feed(html)
        assert steps.parent["viking://resources/guides/python"] == "viking://resources/guides"
        nested = [uri for uri, parent in steps.parent.items() if parent is not None]
        assert nested
        assert not steps.open  # the steps start folded
        trail = html[html.index('id="trajectory"') :]
        python = trail[trail.index('data-uri="viking://resources/guides/python"') :]
        assert re.search(r'<span class="score">0\.\d{4}</span>', python)
        assert 'data-uri="viking://resources/guides/python/venv.md"' in python  # its hit


def test_the_tree_places_steps_and_hits_under_their_nearest_step() -> None:
    trail = [
        TrajectoryStep(uri="viking://resources/a", score=0.5),
        TrajectoryStep(uri="viking://user/ann", score=0.3),
        TrajectoryStep(uri="viking://resources/a/b/c", score=0.2),
    ]
    hits = [
        Hit(context_type="resource", uri=u, level=lv, score=0.1, trajectory=trail)
        for u, lv in (
            ("viking://resources/a/b/c/d.md", 2),
            ("viking://resources/a/b/.overview.md", 1),
            ("viking://resources/a/.abstract.md", 0),
            ("viking://resources/z.md", 2),
        )
    ]
    roots, loose = trajectory_tree(hits)
    assert [(n.uri, n.order) for n in roots] == [
        ("viking://resources/a", 1),
        ("viking://user/ann", 2),
    ]
    (deep,) = roots[0].children
    assert (deep.uri, deep.order) == ("viking://resources/a/b/c", 3)
    assert [h.uri for h in deep.hits] == ["viking://resources/a/b/c/d.md"]
    assert [h.uri for h in roots[0].hits] == [
        "viking://resources/a/b/.overview.md",
        "viking://resources/a/.abstract.md",  # the step's own directory
    ]
    assert [h.uri for h in loose] == ["viking://resources/z.md"]


def test_context_mode_shows_the_block_and_its_tokens(workspace: Path) -> None:
    with _signed_in(workspace) as (client, ann):
        _write(client, ann, MEMORY, "Ann prefers the helix editor for python code.")
        html = _results(client, query="python editor", mode="context", max_tokens="800")
        block = re.search(r'<pre id="context-block">(.*?)</pre>', html, re.S)
        assert block is not None
        assert "helix editor" in block.group(1)
        assert "&lt;memory uri=" in block.group(1)  # the block's tags, escaped
        tokens = re.search(r'<span id="context-tokens"[^>]*>(\d+)</span> of 800 tokens', html)
        assert tokens is not None
        assert int(tokens.group(1)) > 0
        assert '<li data-category="preferences">' in html
        assert '<li data-category="resources">' in html
        assert f'<tr data-uri="{MEMORY}">' in html


def test_bad_input_is_an_error_fragment(workspace: Path) -> None:
    with _signed_in(workspace) as (client, _):
        cases = [
            ({"query": "  "}, "Type something to search for."),
            ({"query": "x", "level": "7"}, "level must be 0, 1, 2"),
            ({"query": "x", "context_type": "widget"}, "context_type must be memory"),
            ({"query": "x", "limit": "many"}, "limit"),
            ({"query": "x", "mode": "guess"}, "mode"),
            ({"query": "x", "mode": "context", "target_uri": "viking://resources"}, "target_uri"),
        ]
        for params, words in cases:
            answer = client.get("/console/search/results", params=params, headers=HTMX)
            assert answer.status_code == 400, params
            assert answer.text.startswith('<div class="error" role="alert" data-status="400">')
            assert words in answer.text, (params, answer.text)
            assert "hx-push-url" not in answer.headers
        page = client.get("/console/search", params={"query": ""})
        assert page.status_code == 400
        assert "Type something to search for." in page.text
        assert 'id="search-form"' in page.text  # the form stays to correct the query


def test_a_second_user_does_not_find_the_first_users_memories(workspace: Path) -> None:
    with _signed_in(workspace) as (client, ann):
        _write(client, ann, MEMORY, "Ann prefers the helix editor with a dark theme.")
        assert MEMORY in _hit_uris(_results(client, query="helix editor dark theme"))
        sign_in(client, create_user(client, "acme", "ben"))
        for mode in ("find", "search"):
            html = _results(client, query="helix editor dark theme", mode=mode)
            assert _hit_uris(html)  # the search ran and found other things
            assert "viking://user/ann" not in html
            assert "Ann prefers" not in html
        context = _results(client, query="helix editor dark theme", mode="context")
        assert "viking://user/ann" not in context
        assert 'id="context-block"' in context
        assert "Ann prefers" not in context
