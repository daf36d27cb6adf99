"""Big results read a chunk of rows at a time, so that a job's read does not freeze the window.

psycopg converts the rows one fetch asks for in one C call that keeps the GIL throughout: a
``fetchall`` of a million rows held it for 350–460 ms (a rescan's list of known files at a million
photos), and 86–109 ms for a million photo ids (the thumbnails job's discovery).  Jobs run in the
window's process too, and its GUI thread could not run a line of Python meanwhile.  Read
:data:`FETCH_ROWS` at a time, the GIL changes hands between chunks (one takes ~1 ms).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

FETCH_ROWS = 2000


def rows_of(cur: Any, chunk: int | None = None) -> Iterator[Any]:
    """Every row of ``cur``'s result (an executed psycopg cursor), fetched ``chunk`` at a time."""
    size = chunk or FETCH_ROWS
    while rows := cur.fetchmany(size):
        yield from rows
