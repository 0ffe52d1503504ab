from __future__ import annotations

import pytest

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.search.patterns import compile_glob, compile_grep


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("*.md", "a.md", True),
        ("*.md", "dir/a.md", False),
        ("**/*.md", "a.md", True),
        ("**/*.md", "x/y/a.md", True),
        ("docs/**", "docs/a/b.txt", True),
        ("docs/**", "other/a.txt", False),
        ("?.py", "a.py", True),
        ("?.py", "ab.py", False),
        ("[ab].txt", "b.txt", True),
        ("[!ab].txt", "b.txt", False),
        ("[!ab].txt", "c.txt", True),
        ("a+b(1).md", "a+b(1).md", True),
    ],
)
def test_glob(pattern: str, path: str, hit: bool) -> None:
    assert bool(compile_glob(pattern).match(path)) is hit


def test_grep_compiles_and_refuses_bad_patterns() -> None:
    assert compile_grep("foo.*bar", True).search("FOO and BAR")
    with pytest.raises(InvalidArgumentError, match="Invalid regular expression"):
        compile_grep("(unclosed", False)
    with pytest.raises(InvalidArgumentError):
        compile_grep("", False)
