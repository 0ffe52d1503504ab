"""Fitting a table (``-o table``) into the console's width.

A table that fits is printed as it is. One that does not is made narrower, step by step:

1. ids (a column named ``id`` or ``..._id`` whose values are hex or UUIDs, with an optional
   ``word_`` prefix) show their first :data:`SHORT_ID` characters, and ISO timestamps show the
   local date and minute;
2. if it is still too wide, the wide columns (but ids and timestamps) share the room the
   narrow ones leave: free text (values with spaces) wraps inside its share, any other value
   (URIs, names) keeps its start and its end around an ellipsis. No value of the other
   columns is cut or wrapped.

:func:`fit_table` tells whether a value was shortened, so that the caller can say where the
full values are (``-o json``). Widths are terminal cells (a wide character takes two).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len

__all__ = ["ELLIPSIS", "SHORT_ID", "Column", "fit_table", "middle_ellipsis"]

ELLIPSIS = "…"
SHORT_ID = 8
"""How many characters of an id a narrowed table shows."""

GAP = 2
"""Cells between two columns (the table's padding)."""

_MIN_WIDE = 12
"""A column wider than this gives way when the table is too wide; the others keep their width."""

_ID = re.compile(r"([a-z]+_)?([0-9a-f]{16,}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?")


@dataclass
class Column:
    """One column of a fitted table: its header, its values and how to render them."""

    name: str
    cells: list[str]
    width: int | None = None
    """Its width in cells once fitted (``None``: the table fits as it is)."""
    wrap: bool = False
    """Free text: wraps on words inside :attr:`width` (the other columns never wrap)."""
    compacted: bool = False
    """It holds ids or timestamps, shown short: it gives way only when nothing else can."""

    def natural(self) -> int:
        """The width this column needs to show every value on one line."""
        return max([cell_len(self.name), *(cell_len(c) for c in self.cells)])


def fit_table(names: list[str], rows: list[list[str]], width: int) -> tuple[list[Column], bool]:
    """The columns of ``rows`` fitted into ``width`` cells (see the module docs), and whether a
    value was shortened."""
    columns = [Column(name, [row[i] for row in rows]) for i, name in enumerate(names)]
    if _total(columns) <= width:
        return columns, False
    before = [list(c.cells) for c in columns]
    for column in columns:
        column.compacted = _compact(column)
        column.wrap = not column.compacted and any(" " in c.strip() for c in column.cells)
    if _total(columns) > width:
        _share(columns, width)
    for column in columns:
        column.width = column.width or column.natural()
    return columns, any(c.cells != old for c, old in zip(columns, before, strict=True))


def middle_ellipsis(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells: its start and its end around an ellipsis (the end
    gets the extra cell: a URI's last segment says the most)."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    room = width - cell_len(ELLIPSIS)
    head = _take(text, room // 2)
    tail = _take(text[::-1], room - cell_len(head))[::-1]
    return f"{head}{ELLIPSIS}{tail}"


def _take(text: str, width: int) -> str:
    """The longest start of ``text`` that fits in ``width`` cells."""
    used = 0
    for i, char in enumerate(text):
        used += cell_len(char)
        if used > width:
            return text[:i]
    return text


def _total(columns: list[Column]) -> int:
    return sum(c.width or c.natural() for c in columns) + GAP * (len(columns) - 1)


def _compact(column: Column) -> bool:
    """Step 1 of the module docs, for one column; whether it holds ids or timestamps."""
    values = [c for c in column.cells if c]
    if not values:
        return False
    if _is_id(column.name) and all(_ID.fullmatch(v) for v in values):
        column.cells = [_short_id(c) for c in column.cells]
        return True
    if all(_TIME.fullmatch(v) for v in values):
        column.cells = [_local_minute(c) for c in column.cells]
        return True
    return False


def _short_id(value: str) -> str:
    match = _ID.fullmatch(value)
    if match is None:
        return value
    return (match.group(1) or "") + match.group(2)[:SHORT_ID]


def _local_minute(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _share(columns: list[Column], width: int) -> None:
    """Step 2 of the module docs: the wide columns share what the others leave, each getting
    at most what it needs (the narrowest first, so that the room left goes on to the wider
    ones). An id the first step could not shorten (a session id) stays whole while the other
    wide columns can get :data:`_MIN_WIDE` cells each; when the narrow columns leave too little
    even without it, every column shares the width."""
    room = width - GAP * (len(columns) - 1)
    wide = [c for c in columns if c.wrap or (c.natural() > _MIN_WIDE and not c.compacted)]
    for keep in ([c for c in wide if _is_id(c.name)], []):
        shared = [c for c in wide if c not in keep]
        narrow = sum(c.natural() for c in columns if c not in shared)
        if room - narrow >= _MIN_WIDE * len(shared):
            break
    else:
        shared, narrow = list(columns), 0
    room -= narrow
    ordered = sorted(shared, key=Column.natural)
    for i, column in enumerate(ordered):
        column.width = max(1, min(column.natural(), room // (len(ordered) - i)))
        room -= column.width
    for column in shared:
        if not column.wrap:
            column.cells = [middle_ellipsis(c, column.width or 1) for c in column.cells]


def _is_id(name: str) -> bool:
    return name.lower() == "id" or name.endswith(("_id", "Id"))
