"""In-memory BM25 over the ``text`` of the rows held by :mod:`._mirror`.

Tokens are made the way the LanceDB FTS index makes them (:data:`._fts.FTS_SETTINGS`): text
splits on anything that is not a letter or a digit (``_`` included), is lower-cased, folded
to ASCII and stemmed with the English Snowball stemmer. A codename written with punctuation
(``XJ-9000``, ``parse_config``) also yields one compound token (``xj 9000``), which plays the
part of the index's phrase query: a row holding the exact codename outranks one that merely
holds its words apart.

Scores are Okapi BM25 with ``k1 = 1.2`` and ``b = 0.75`` and the IDF
``ln(1 + (N - n + 0.5) / (n + 0.5))``, over every live row (as the FTS index counts them).

Postings are per-token ``array`` buffers of row slots and term frequencies; a removed row only
loses its document-frequency counts (its stale postings are masked out by the caller's live
mask, and dropped when :meth:`Postings.compact` renumbers the slots). Each token's BM25
weights per posting are kept until the next change, so repeated searches only add them up.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from openviking_mcp.storage.index._stem import STEMS as _STEMS
from openviking_mcp.storage.index._stem import stem_word as _stem
from openviking_mcp.storage.index._terms import plain_terms

__all__ = ["Postings", "query_tokens", "text_tokens"]

_K1 = 1.2
_B = 0.75
_WORD = re.compile(r"[^\W_]+")
_COMPOUND = re.compile(r"\w+(?:[-_.:/@'+#&]+\w+)+")


def _words(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text)]


def text_tokens(text: str) -> Counter[str]:
    """Token counts of a row's ``text``: its stemmed words plus its compound tokens."""
    counts: Counter[str] = Counter()
    for word, count in Counter(_WORD.findall(text)).items():  # each distinct word stemmed once
        counts[_STEMS.get(word) or _stem(word)] += count
    for compound in _COMPOUND.findall(text):
        words = _words(compound)
        if len(words) > 1:
            counts[" ".join(words)] += 1
    return counts


def query_tokens(query: str) -> list[str]:
    """The distinct tokens of a user query (its plain terms, as the FTS query is built)."""
    tokens: dict[str, None] = {}
    for term in plain_terms(query):
        words = _words(term)
        tokens.update(dict.fromkeys(words))
        if len(words) > 1:
            tokens[" ".join(words)] = None
    return list(tokens)


#: Postings whose weights are cached at most (4 bytes each).
_WEIGHED_POSTINGS = 4_000_000


class Postings:
    """Token → (slots, term frequencies), document frequencies and row lengths."""

    def __init__(self) -> None:
        self._slots: dict[str, array[int]] = {}
        self._freqs: dict[str, array[int]] = {}
        self._df: Counter[str] = Counter()
        self._lengths = array("f")
        self._weights: dict[str, np.ndarray] = {}  # token -> BM25 weight of each posting
        self._changes = 0  # rows added or removed so far
        self._weighed_at = -1  # the value of _changes the cached weights were computed at
        self._weighed = 0  # postings weighed in the cache
        self._live_rows = 0
        self._total_length = 0.0

    def add(self, slot: int, counts: Counter[str]) -> None:
        """Index the row at ``slot`` (a new slot, never one in use)."""
        while len(self._lengths) <= slot:
            self._lengths.append(0.0)
        length = float(sum(counts.values()))
        self._lengths[slot] = length
        for token, count in counts.items():
            slots = self._slots.get(token)
            if slots is None:
                slots = self._slots[token] = array("i")
                self._freqs[token] = array("i")
            slots.append(slot)
            self._freqs[token].append(count)
        self._df.update(counts.keys())
        self._live_rows += 1
        self._total_length += length
        self._changes += 1

    def remove(self, slot: int, counts: Counter[str]) -> None:
        """Forget the row at ``slot`` (indexed with ``counts``) for the statistics; its
        postings stay until compacted."""
        self._df.subtract(counts.keys())
        self._live_rows -= 1
        self._total_length -= self._lengths[slot]
        self._changes += 1

    def compact(self, remap: np.ndarray) -> None:
        """Renumber slots: ``remap[old]`` is the new slot, or -1 for a row that is gone."""
        for token in list(self._slots):
            new = remap[np.frombuffer(self._slots[token], dtype=np.int32)]
            keep = new >= 0
            if not keep.any():
                del self._slots[token], self._freqs[token]
                continue
            freqs = np.frombuffer(self._freqs[token], dtype=np.int32)[keep]
            self._slots[token] = array("i", new[keep].astype(np.int32).tobytes())
            self._freqs[token] = array("i", freqs.tobytes())
        self._df = +self._df  # drops tokens no live row holds any more
        self._changes += 1
        old_lengths = np.frombuffer(self._lengths, dtype=np.float32)
        moved = np.flatnonzero(remap >= 0)
        lengths = np.zeros(int(remap.max(initial=-1)) + 1, dtype=np.float32)
        lengths[remap[moved]] = old_lengths[moved]
        self._lengths = array("f", lengths.tobytes())

    def scores(self, tokens: Iterable[str], size: int) -> np.ndarray:
        """BM25 of every slot below ``size`` for the query ``tokens`` (0 where none occurs)."""
        out = np.zeros(size, dtype=np.float32)
        for slots, weights in self._terms(tokens):
            out[slots] += weights
        return out

    def scores_of(self, tokens: Iterable[str], wanted: np.ndarray) -> np.ndarray:
        """BM25 of the slots ``wanted`` (sorted) only: each token's postings (sorted, as slots
        are only ever appended or renumbered in order) are searched for them, so a few
        candidates cost a few lookups, whatever the size of the table."""
        out = np.zeros(len(wanted), dtype=np.float32)
        for slots, weights in self._terms(tokens):
            at = np.minimum(np.searchsorted(slots, wanted), len(slots) - 1)
            found = slots[at] == wanted
            out[found] += weights[at[found]]
        return out

    def _terms(self, tokens: Iterable[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(slots, weights)`` of each known token: its postings' slots and their BM25
        contribution (cached until the rows change)."""
        rows = self._live_rows
        if rows <= 0:
            return
        if self._weighed_at != self._changes:  # any change moves the IDFs or the slots
            self._weights.clear()
            self._weighed, self._weighed_at = 0, self._changes
        for token in tokens:
            slots_buf = self._slots.get(token)
            df = self._df.get(token, 0)
            if slots_buf is None or df <= 0 or not len(slots_buf):
                continue
            slots = np.frombuffer(slots_buf, dtype=np.int32)
            weights = self._weights.get(token)
            if weights is None:
                weights = self._weigh(slots, np.frombuffer(self._freqs[token], dtype=np.int32), df)
                if self._weighed + len(weights) <= _WEIGHED_POSTINGS:
                    self._weights[token] = weights
                    self._weighed += len(weights)
            yield slots, weights

    def _weigh(self, slots: np.ndarray, tf: np.ndarray, df: int) -> np.ndarray:
        """The BM25 contribution of a token found ``df`` times, to the rows at ``slots``."""
        rows = self._live_rows
        idf = math.log(1.0 + (rows - df + 0.5) / (df + 0.5))
        avg = self._total_length / rows or 1.0
        lengths = np.frombuffer(self._lengths, dtype=np.float32)[slots]
        freq = tf.astype(np.float32)
        norm = _K1 * (1.0 - _B + _B * lengths / avg)
        out: np.ndarray = (idf * freq * (_K1 + 1.0) / (freq + norm)).astype(np.float32)
        return out

    def candidates(self, tokens: Sequence[str]) -> bool:
        """Whether any of ``tokens`` occurs in a live row."""
        return any(self._df.get(t, 0) > 0 for t in tokens)
