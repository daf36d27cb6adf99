"""Big results are read a chunk at a time (db/rows.py): a job's read in the window's process
lets the GUI thread run between chunks instead of waiting for a million rows to be converted."""
from __future__ import annotations

from typing import Any

import pytest

from lumina_desktop.db import rows as rows_mod
from lumina_desktop.db.rows import rows_of

pytestmark = pytest.mark.db


class Recording:
    """A connection whose cursors record how their rows are fetched."""

    def __init__(self, conn: Any) -> None:
        self.conn, self.fetches = conn, []

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return RecordingCursor(self.conn.execute(*args, **kwargs), self.fetches)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


class RecordingCursor:
    def __init__(self, cur: Any, fetches: list[tuple[str, int]]) -> None:
        self.cur, self.fetches = cur, fetches

    def fetchmany(self, size: int) -> list[Any]:
        got = self.cur.fetchmany(size)
        self.fetches.append(("fetchmany", len(got)))
        return got

    def fetchall(self) -> list[Any]:
        got = self.cur.fetchall()
        self.fetches.append(("fetchall", len(got)))
        return got

    def fetchone(self) -> Any:
        self.fetches.append(("fetchone", 1))
        return self.cur.fetchone()


def test_rows_come_in_order_a_chunk_at_a_time(conn) -> None:  # type: ignore[no-untyped-def]
    rec = Recording(conn)
    got = list(rows_of(rec.execute("SELECT g FROM generate_series(1, 25) g ORDER BY g"), 10))
    assert [r[0] for r in got] == list(range(1, 26))
    assert rec.fetches == [("fetchmany", 10), ("fetchmany", 10), ("fetchmany", 5), ("fetchmany", 0)]


def test_a_rescan_s_known_files_and_the_thumbnails_discovery_are_read_in_chunks(conn, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.db.photos import known_files
    from lumina_desktop.db.thumbnails import ThumbnailsRepository

    cat = conn.execute("INSERT INTO catalogs (name) VALUES ('C') RETURNING id").fetchone()[0]
    folder = conn.execute("INSERT INTO catalog_folders (catalog_id, path) VALUES (%s, '/p') RETURNING id",
                          (cat,)).fetchone()[0]
    conn.execute("INSERT INTO photos (catalog_id, folder_id, path, file_name, size_bytes, mtime_ns, content_hash, "
                 "kind, status) SELECT %s, %s, '/p/' || g, g || '.jpg', g, g, md5((g %% 300)::text), 'image', 'ok' "
                 "FROM generate_series(1, 1000) g", (cat, folder))
    conn.commit()
    monkeypatch.setattr(rows_mod, "FETCH_ROWS", 64)
    rec = Recording(conn)
    known = known_files(rec, cat, [folder])
    assert len(known) == 1000 and known["/p/7"].size == 7
    assert not [f for f in rec.fetches if f[0] == "fetchall"] and max(n for _, n in rec.fetches) <= 64
    rec.fetches.clear()
    rows = ThumbnailsRepository().photos_without(rec, cat, 1280, everything=True)
    assert len(rows) == 300 and sum(len(r[2]) for r in rows) == 1000
    assert not [f for f in rec.fetches if f[0] == "fetchall"] and len(rec.fetches) > 1
