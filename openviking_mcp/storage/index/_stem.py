"""Stemming as the keyword index does it, with no LanceDB import: words are lower-cased,
folded to ASCII where they have a plain-letter form and stemmed with the English Snowball
stemmer (PyStemmer), as the LanceDB FTS index's settings ask."""

from __future__ import annotations

import unicodedata

import Stemmer  # type: ignore[import-not-found]

__all__ = ["STEMS", "stem_word"]

_STEMMER = Stemmer.Stemmer("english")
STEMS: dict[str, str] = {}
"""Word -> stem, for the words seen so far (at most ``_MAX_STEM_CACHE``)."""
_MAX_STEM_CACHE = 200_000


def _fold(word: str) -> str:
    """``word`` lower-cased and folded to ASCII where it has a plain-letter form."""
    word = word.lower()
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem_word(word: str) -> str:
    """``word`` as the index stores it: folded to ASCII, lower-cased and stemmed."""
    stem = STEMS.get(word)
    if stem is None:
        stem = _STEMMER.stemWord(_fold(word))
        if len(STEMS) < _MAX_STEM_CACHE:
            STEMS[word] = stem
    return stem
