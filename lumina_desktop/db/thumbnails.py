"""The catalog's record of which thumbnail sizes exist (``photos.thumb_sizes``), kept by the
thumbnail store as it writes and prunes (psycopg only here; any non-GUI thread)."""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from lumina_desktop.core.paths import path_from_db
from lumina_desktop.db.rows import rows_of

log = logging.getLogger(__name__)


def add_sizes(conn: psycopg.Connection, content_hash: str, sizes: Sequence[int]) -> int:
    """Every photo with this content now has these sizes too; returns the photos updated."""
    cur = conn.execute(
        "UPDATE photos SET thumb_sizes = (SELECT array_agg(DISTINCT s ORDER BY s) "
        "                                 FROM unnest(thumb_sizes || %s::smallint[]) s) "
        "WHERE content_hash = %s AND NOT thumb_sizes @> %s::smallint[]",
        (list(sizes), content_hash, list(sizes)))
    return cur.rowcount


def remove_sizes(conn: psycopg.Connection, content_hash: str, sizes: Sequence[int]) -> int:
    cur = conn.execute(
        "UPDATE photos SET thumb_sizes = coalesce((SELECT array_agg(s ORDER BY s) FROM unnest(thumb_sizes) s "
        "                                          WHERE s <> ALL(%s::smallint[])), '{}') "
        "WHERE content_hash = %s AND thumb_sizes && %s::smallint[]",
        (list(sizes), content_hash, list(sizes)))
    return cur.rowcount


def grid_hashes(conn: psycopg.Connection) -> set[str]:
    """Content hashes of every catalogued photo (their grid thumbnails are never pruned)."""
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT content_hash FROM photos WHERE content_hash IS NOT NULL")
        return {r[0] for r in cur}


def shared_store_dir(conn: psycopg.Connection, own: Path, *, is_owner: bool) -> Path:
    """The thumbnail store folder every process of this database uses (the ``thumbnail_store`` row).

    The owner of the embedded server records ``own`` (its folder) and uses it.  Any other process
    uses the recorded folder, recording ``own`` first if none is; a recorded folder this process
    cannot write (another machine's path, another user's folder) leaves it on ``own``, with a
    warning, since the owner's window will not see those thumbnails (it makes them on demand).
    """
    host = socket.gethostname()
    try:
        text = os.fspath(own)
        text.encode("utf-8")
    except UnicodeEncodeError:   # an undecodable folder name: not shareable as text
        return own
    with conn.transaction():
        if is_owner:
            conn.execute("INSERT INTO thumbnail_store (path, host) VALUES (%s, %s) ON CONFLICT (singleton) "
                         "DO UPDATE SET path = EXCLUDED.path, host = EXCLUDED.host, recorded_at = now() "
                         "WHERE thumbnail_store.path <> EXCLUDED.path OR thumbnail_store.host <> EXCLUDED.host",
                         (text, host))
            return own
        conn.execute("INSERT INTO thumbnail_store (path, host) VALUES (%s, %s) ON CONFLICT (singleton) DO NOTHING",
                     (text, host))
        row = conn.execute("SELECT path, host FROM thumbnail_store").fetchone()
    if row is None or row[0] == text:
        return own
    recorded = Path(row[0])
    probe = recorded if recorded.exists() else recorded.parent
    if probe.is_dir() and os.access(probe, os.W_OK | os.X_OK):
        return recorded
    log.warning("the catalog's thumbnails are in %s (on %s), which this process cannot write; it writes "
                "its thumbnails to %s instead, where the catalog's window does not look for them",
                row[0], row[1] or "?", text)
    return own


class ThumbnailSizes:
    """The store's :class:`~lumina_desktop.storage.thumbnails.SizesRecorder` on a pooled database."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def add_sizes(self, content_hash: str, sizes: Sequence[int]) -> None:
        with self._db.connection() as conn:
            add_sizes(conn, content_hash, sizes)

    def remove_sizes(self, content_hash: str, sizes: Sequence[int]) -> None:
        with self._db.connection() as conn:
            remove_sizes(conn, content_hash, sizes)

    def grid_hashes(self) -> set[str]:
        with self._db.connection() as conn:
            return grid_hashes(conn)


class ThumbnailsRepository:
    """What the thumbnails job kind reads and writes, over a connection in a transaction (``tx``)."""

    def photos_without(self, tx: psycopg.Connection, catalog_id: int, px: int, *,
                       photo_ids: Sequence[int] | None = None, everything: bool = False) -> list[tuple[str, str, list[int]]]:
        """(content hash, one readable path, every photo id with that content) of the catalog's
        analysed pictures lacking ``px`` (``everything``: all of them), optionally among ``photo_ids``."""
        where = ["catalog_id = %(c)s", "status = 'ok'", "content_hash IS NOT NULL", "kind IN ('image', 'raw')"]
        if not everything:
            where.append("NOT (thumb_sizes @> ARRAY[%(px)s]::smallint[])")
        if photo_ids is not None:
            where.append("id = ANY(%(ids)s)")
        cur = tx.execute(
            "SELECT content_hash, (array_agg(path ORDER BY id))[1], (array_agg(path_bytes ORDER BY id))[1], "
            "       array_agg(id ORDER BY id) FROM photos WHERE " + " AND ".join(where) +
            " GROUP BY content_hash ORDER BY min(id)",
            {"c": catalog_id, "px": px, "ids": list(photo_ids or ())})
        # (a row holds every photo of a content: a hundred rows a fetch keeps each under ~10 ms)
        return [(r[0], path_from_db(r[1], r[2]), list(r[3])) for r in rows_of(cur, 100)]

    def add_sizes(self, tx: psycopg.Connection, content_hash: str, sizes: Sequence[int]) -> int:
        return add_sizes(tx, content_hash, sizes)

    def remove_sizes(self, tx: psycopg.Connection, content_hash: str, sizes: Sequence[int]) -> int:
        return remove_sizes(tx, content_hash, sizes)

    def grid_hashes(self, tx: psycopg.Connection) -> set[str]:
        return grid_hashes(tx)
