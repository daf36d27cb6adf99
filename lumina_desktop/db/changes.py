"""The change feed: ``catalog_changes`` rows and the ``lumina_changes`` NOTIFY (psycopg only).

Writers add a row in the transaction that made the change, so a reader never sees a change
before its data; the NOTIFY is delivered when that transaction commits.  Its payload is the row
itself as JSON — ``{"c": catalog, "s": seq, "a": [aspects], "i": [photo ids]}`` — so a listener
needs no query per change; a row naming more than ``PAYLOAD_IDS`` photos is sent without ``i``
and the listener reads it (:func:`changes_since`).
"""
from __future__ import annotations

import json
from collections.abc import Collection, Sequence

import psycopg

from lumina_desktop.core.changes import Aspect, CatalogChange

CHANGES_CHANNEL = "lumina_changes"
PAYLOAD_IDS = 500      # 500 ids of up to 12 digits stay well inside NOTIFY's 8000-byte payload


def record_changes(conn: psycopg.Connection, catalog_id: int, job_id: int | None, kind: str,
                   photo_ids: Sequence[int], aspects: Collection[Aspect]) -> None:
    """These photos changed in these aspects (committed with the caller's transaction); NOTIFY.

    ``photo_ids`` may be empty when ``aspects`` is not: "some photos changed, not itemised"."""
    if not photo_ids and not aspects:
        return
    conn.execute(
        "WITH r AS (INSERT INTO catalog_changes (catalog_id, job_id, kind, photo_ids, aspects) "
        "           VALUES (%(c)s, %(j)s, %(k)s, %(i)s, %(a)s) RETURNING id, catalog_id, aspects, photo_ids) "
        "SELECT pg_notify(%(ch)s, json_strip_nulls(json_build_object('c', catalog_id, 's', id, 'a', aspects, "
        "       'i', CASE WHEN cardinality(photo_ids) <= %(n)s THEN photo_ids END))::text) FROM r",
        {"c": catalog_id, "j": job_id, "k": kind, "i": list(photo_ids), "a": sorted(a.value for a in aspects),
         "ch": CHANGES_CHANNEL, "n": PAYLOAD_IDS})


def parse_payload(payload: str) -> CatalogChange | tuple[int, int] | None:
    """A change NOTIFY's payload: the whole row, or (catalog, seq) of a row to read; None if foreign."""
    try:
        d = json.loads(payload)
        catalog_id, seq = int(d["c"]), int(d["s"])
    except (ValueError, TypeError, KeyError):
        return None
    if "i" not in d:
        return catalog_id, seq
    return CatalogChange(seq, catalog_id, None, Aspect.parse_all(d.get("a") or ()), tuple(int(i) for i in d["i"]))


def changed_photos(conn: psycopg.Connection, job_id: int) -> list[int]:
    """Every photo a job reported changed (what its follow-ons work on)."""
    rows = conn.execute("SELECT DISTINCT unnest(photo_ids) AS id FROM catalog_changes WHERE job_id = %s "
                        "ORDER BY id", (job_id,)).fetchall()
    return [int(r[0]) for r in rows]


def latest_seq(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(id), 0) FROM catalog_changes").fetchone()
    return int(row[0]) if row else 0


def changes_since(conn: psycopg.Connection, floor: int, limit: int = 5000) -> list[CatalogChange]:
    """Rows with a sequence number above ``floor``, oldest first (at most ``limit``)."""
    rows = conn.execute("SELECT id, catalog_id, job_id, aspects, photo_ids FROM catalog_changes "
                        "WHERE id > %s ORDER BY id LIMIT %s", (floor, limit)).fetchall()
    return [CatalogChange(int(r[0]), int(r[1]), r[2], Aspect.parse_all(r[3] or ()), tuple(r[4] or ()))
            for r in rows]
