"""The operations journal (psycopg only here; any non-GUI thread).

An operation is one user action that moves files (to the trash); its items are the files, each
written here, with the trash path it will take, *before* it moves.  Item states: ``planned``
(journaled, maybe moving), ``trashed`` (in the trash; the photo is hidden), ``restored`` (back
where it was), ``failed`` (it could not go: ``error`` says why; the file did not move).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

PLANNED, TRASHED, RESTORED, FAILED = "planned", "trashed", "restored", "failed"


@dataclass(frozen=True, slots=True)
class OperationRow:
    id: int
    catalog_id: int | None
    description: str
    created_at: datetime
    undone_at: datetime | None
    counts: dict[str, int]
    bytes_trashed: int

    @property
    def files(self) -> int:
        return sum(self.counts.values())


def create_operation(conn: psycopg.Connection, catalog_id: int | None, description: str,
                     items: Sequence[tuple[int | None, str, bytes | None, str, str, str | None, str, int | None]]) -> int:
    """Journal an operation: items are (photo id, original path, its exact bytes, trash kind,
    trash path, .trashinfo path, content hash, size).  Returns its id."""
    row = conn.execute("INSERT INTO operations (catalog_id, description) VALUES (%s, %s) RETURNING id",
                       (catalog_id, description)).fetchone()
    assert row is not None
    op_id = int(row[0])
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO operation_items (operation_id, photo_id, original_path, original_bytes, trash_kind, "
            "trash_path, trash_info, content_hash, size_bytes) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(op_id, *it) for it in items])
    return op_id


_ITEM = ("SELECT id, operation_id, photo_id, original_path, original_bytes, trash_kind, trash_path, trash_info, "
         "content_hash, size_bytes, state, error FROM operation_items ")


def items(conn: psycopg.Connection, *, operation_id: int | None = None, states: Sequence[str] = (),
          item_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    where, params = [], []
    if operation_id is not None:
        where.append("operation_id = %s")
        params.append(operation_id)
    if states:
        where.append("state = ANY(%s)")
        params.append(list(states))
    if item_ids is not None:
        where.append("id = ANY(%s)")
        params.append(list(item_ids))
    sql = _ITEM + ("WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    cols = ("id", "operation_id", "photo_id", "original_path", "original_bytes", "trash_kind", "trash_path",
            "trash_info", "content_hash", "size_bytes", "state", "error")
    return [dict(zip(cols, r)) for r in conn.execute(sql, params).fetchall()]


def mark_trashed(conn: psycopg.Connection, item_ids: Sequence[int]) -> list[int]:
    """These items are in the trash: their photos leave every view.  Returns the photos."""
    rows = conn.execute("UPDATE operation_items SET state = 'trashed', error = NULL, updated_at = now() "
                        "WHERE id = ANY(%s) RETURNING photo_id", (list(item_ids),)).fetchall()
    photos = [r[0] for r in rows if r[0] is not None]
    conn.execute("UPDATE photos SET trashed_at = now() WHERE id = ANY(%s)", (photos,))
    return photos


def mark_restored(conn: psycopg.Connection, item_ids: Sequence[int]) -> list[int]:
    """These items are back where they were, unchanged: their photos show again.  Returns the photos."""
    rows = conn.execute("UPDATE operation_items SET state = 'restored', error = NULL, updated_at = now() "
                        "WHERE id = ANY(%s) RETURNING photo_id", (list(item_ids),)).fetchall()
    photos = [r[0] for r in rows if r[0] is not None]
    conn.execute("UPDATE photos SET trashed_at = NULL, status = 'ok' WHERE id = ANY(%s) AND content_hash IS NOT NULL",
                 (photos,))
    conn.execute("UPDATE operations o SET undone_at = now() WHERE o.id IN (SELECT operation_id FROM operation_items "
                 "WHERE id = ANY(%s)) AND NOT EXISTS (SELECT 1 FROM operation_items i WHERE i.operation_id = o.id "
                 "AND i.state IN ('planned', 'trashed'))", (list(item_ids),))
    return photos


def put_back_outside(conn: psycopg.Connection, photo_ids: Sequence[int]) -> None:
    """A scan found these trashed photos at their paths again: their items are restored (by
    someone else), and an operation with nothing left in the trash is undone."""
    rows = conn.execute("UPDATE operation_items SET state = 'restored', error = 'put back outside Lumina', "
                        "updated_at = now() WHERE photo_id = ANY(%s) AND state = 'trashed' RETURNING operation_id",
                        (list(photo_ids),)).fetchall()
    ops = sorted({r[0] for r in rows})
    if ops:
        conn.execute("UPDATE operations o SET undone_at = now() WHERE o.id = ANY(%s) AND NOT EXISTS "
                     "(SELECT 1 FROM operation_items i WHERE i.operation_id = o.id AND i.state IN ('planned', 'trashed'))",
                     (ops,))


def mark_failed(conn: psycopg.Connection, item_id: int, error: str, *, state: str = FAILED) -> None:
    """A move that did not happen (``state`` failed), or an undo refused (the item stays trashed)."""
    conn.execute("UPDATE operation_items SET state = %s, error = %s, updated_at = now() WHERE id = %s",
                 (state, error, item_id))


def list_operations(conn: psycopg.Connection, *, catalog_id: int | None = None, limit: int = 50) -> list[OperationRow]:
    rows = conn.execute(
        "SELECT o.id, o.catalog_id, o.description, o.created_at, o.undone_at, "
        "       coalesce(jsonb_object_agg(s.state, s.n) FILTER (WHERE s.state IS NOT NULL), '{}'), "
        "       coalesce(sum(s.bytes) FILTER (WHERE s.state = 'trashed'), 0) "
        "FROM operations o LEFT JOIN (SELECT operation_id, state, count(*) AS n, sum(size_bytes) AS bytes "
        "                             FROM operation_items GROUP BY 1, 2) s ON s.operation_id = o.id "
        "WHERE %(c)s::bigint IS NULL OR o.catalog_id = %(c)s "
        "GROUP BY o.id ORDER BY o.id DESC LIMIT %(n)s", {"c": catalog_id, "n": limit}).fetchall()
    return [OperationRow(r[0], r[1], r[2], r[3], r[4], {k: int(v) for k, v in r[5].items()}, int(r[6])) for r in rows]


def undoable(conn: psycopg.Connection, *, catalog_id: int | None = None) -> list[int]:
    """Operations with files still in the trash, newest first."""
    rows = conn.execute(
        "SELECT DISTINCT o.id FROM operations o JOIN operation_items i ON i.operation_id = o.id "
        "WHERE i.state = 'trashed' AND (%(c)s::bigint IS NULL OR o.catalog_id = %(c)s) ORDER BY o.id DESC",
        {"c": catalog_id}).fetchall()
    return [r[0] for r in rows]


class OperationsRepository:
    """What the trash kind reads and writes, over a connection in a transaction (``tx``)."""

    def items(self, tx: psycopg.Connection, *, operation_id: int | None = None, states: Sequence[str] = (),
              item_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
        return items(tx, operation_id=operation_id, states=states, item_ids=item_ids)

    def mark_trashed(self, tx: psycopg.Connection, item_ids: Sequence[int]) -> list[int]:
        return mark_trashed(tx, item_ids)

    def mark_restored(self, tx: psycopg.Connection, item_ids: Sequence[int]) -> list[int]:
        return mark_restored(tx, item_ids)

    def mark_failed(self, tx: psycopg.Connection, item_id: int, error: str, *, state: str = FAILED) -> None:
        mark_failed(tx, item_id, error, state=state)
