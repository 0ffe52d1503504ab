"""Documents and queries for ``scale.py``: BEIR passages laid out as a folder tree, in batches.

The base corpus is the 5,000 MS MARCO passages followed by the 5,000 DBpedia-Entity abstracts
of ``../shared/data/beir-subsets`` (10,000 distinct texts). Document ``i`` is base text
``i % 10,000``; past the first 10,000 (the 100k size) each copy is made distinct: the first
sentence of another passage is appended and the title carries the copy number, so copies never
repeat a text (the source subsets themselves hold three repeated passages: 9,997 distinct of
10,000).

Layout: a batch of documents is one zip imported to ``viking://resources/corpus/part-NNNN``;
inside it, 100 documents per folder (``sNN/doc-NNNNNN.md``), so a file sits four levels below
``viking://resources``. Queries are the data sets' own (50 MS MARCO, 50 DBpedia).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "beir-subsets"
DATASETS = ("msmarco", "dbpedia")
PER_FOLDER = 100
ROOT = "viking://resources/corpus"


def _jsonl(path: Path) -> list[dict[str, str]]:
    # Split on "\n" only: some passages hold U+2028, which str.splitlines() breaks on.
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n") if line.strip()]


@dataclass(frozen=True)
class Passage:
    title: str
    text: str


class Corpus:
    """The base passages and the query texts, loaded once."""

    def __init__(self, data: Path = DATA) -> None:
        self.passages: list[Passage] = []
        self.queries: list[str] = []
        for name in DATASETS:
            for row in _jsonl(data / name / "corpus.jsonl"):
                self.passages.append(Passage(row.get("title") or "", row["text"]))
            self.queries.extend(row["text"] for row in _jsonl(data / name / "queries.jsonl"))
        if not self.passages:
            raise RuntimeError(f"no passages under {data}")

    def document(self, i: int) -> tuple[str, str]:
        """Document ``i`` as (path inside its batch's zip, Markdown text)."""
        count = len(self.passages)
        base, copy = self.passages[i % count], i // count
        text = base.text
        title = base.title or " ".join(text.split()[:8])
        if copy:
            other = self.passages[(i * 7919 + copy) % count].text
            text = f"{text} {other.split('. ')[0].rstrip('.')}."
            title = f"{title} (copy {copy})"
        folder = (i // PER_FOLDER) % 100
        return f"s{folder:02d}/doc-{i:06d}.md", f"# {title}\n\n{text}\n"

    def batches(
        self, start: int, stop: int, size: int
    ) -> Iterator[tuple[str, list[tuple[str, str]]]]:
        """(target URI, documents) for documents ``start`` to ``stop``, ``size`` per batch.

        Batches are aligned on multiples of ``size``, so growing a store step by step gives
        the same parts as building it in one go."""
        i = start
        while i < stop:
            end = min(stop, (i // size + 1) * size)
            part = f"{ROOT}/part-{i // size:04d}"
            if i % size:  # a partly filled part from an earlier step: a sibling, not a merge
                part += f"-{i % size:04d}"
            yield part, [self.document(j) for j in range(i, end)]
            i = end

    def query_texts(self, count: int) -> list[str]:
        """``count`` query texts, cycling the data sets' queries."""
        return [self.queries[i % len(self.queries)] for i in range(count)]
