"""Duplicate runs, groups, members and decisions (psycopg only here; any non-GUI thread).

Rows go in and out as plain tuples/dicts: the algorithm's types live in ``analysis`` and the
job (``jobs/duplicates.py``) translates, since ``db`` and ``analysis`` never import each other.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Sequence

import psycopg
from psycopg.rows import dict_row

_FP_SELECT = """
SELECT i.id, i.content_hash, i.image_data_hash, f.phash, f.dhash, f.grey, f.aspect, i.width, i.height,
       i.size_bytes, CASE WHEN i.kind = 'raw' THEN i.file_type ELSE i.format END AS format,
       i.kind = 'raw' AS is_raw, (i.camera_make IS NOT NULL OR i.camera_model IS NOT NULL) AS has_camera_exif,
       i.capture_time, i.mtime_ns / 1e9 AS mtime, i.path
FROM images i JOIN image_fingerprints f ON f.image_id = i.id
"""


def hash_rows(conn: psycopg.Connection, catalog_id: int) -> list[tuple[int, bytes, str, str | None, datetime | None]]:
    """(id, phash, content hash, image-data hash, analysed_at) of every analysed photo: what the index needs."""
    return conn.execute(
        "SELECT i.id, f.phash, i.content_hash, i.image_data_hash, i.analysed_at FROM images i "
        "JOIN image_fingerprints f ON f.image_id = i.id WHERE i.catalog_id = %s AND i.status = 'ok' "
        "ORDER BY i.id", (catalog_id,)).fetchall()


def fingerprint_rows(conn: psycopg.Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_FP_SELECT + " WHERE i.id = ANY(%s) AND i.status = 'ok'", (list(ids),)).fetchall()


def current_run(conn: psycopg.Connection, catalog_id: int) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM duplicate_runs WHERE catalog_id = %s AND is_current",
                           (catalog_id,)).fetchone()


def start_run(conn: psycopg.Connection, job_id: int, catalog_id: int, *, incremental: bool, photos: int,
              high_water: datetime | None) -> None:
    conn.execute(
        "INSERT INTO duplicate_runs (job_id, catalog_id, incremental, photos, high_water) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (job_id) DO UPDATE SET photos = EXCLUDED.photos, high_water = EXCLUDED.high_water",
        (job_id, catalog_id, incremental, photos, high_water))


def replace_component_groups(conn: psycopg.Connection, run_job_id: int, catalog_id: int, component_key: int,
                             groups: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]]) -> int:
    """Store the groups of one component (idempotent: a rerun of the batch replaces them)."""
    conn.execute("DELETE FROM duplicate_groups WHERE run_job_id = %s AND component_key = %s", (run_job_id, component_key))
    n = 0
    for g, members in groups:
        row = conn.execute(
            "INSERT INTO duplicate_groups (run_job_id, catalog_id, component_key, tier, keeper_image_id, "
            "keeper_content_hash, size, is_suspicious, has_unverified) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING id", (run_job_id, catalog_id, component_key, g["tier"], g["keeper_id"], g["keeper_content_hash"],
                             g["size"], g["is_suspicious"], g["has_unverified"])).fetchone()
        assert row is not None
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO duplicate_members (group_id, image_id, content_hash, tier, match, similarity, "
                "phash_distance, is_verified, reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(row[0], m["photo_id"], m["content_hash"], m["tier"], m["match"], m["similarity"],
                  m["phash_distance"], m["is_verified"], m["reason"]) for m in members])
        n += 1
    return n


def finish_run(conn: psycopg.Connection, job_id: int, catalog_id: int, *, carry_from: int | None,
               affected_ids: Sequence[int]) -> None:
    """Make this run current; an incremental run carries over the previous run's untouched groups."""
    if carry_from is not None:
        conn.execute(
            """
            WITH old AS (
                SELECT g.* FROM duplicate_groups g WHERE g.run_job_id = %(prev)s
                AND NOT EXISTS (SELECT 1 FROM duplicate_members m WHERE m.group_id = g.id AND m.image_id = ANY(%(ids)s))
                AND g.keeper_image_id <> ALL(%(ids)s)),
            copied AS (
                INSERT INTO duplicate_groups (run_job_id, catalog_id, component_key, tier, keeper_image_id,
                    keeper_content_hash, size, is_suspicious, has_unverified)
                SELECT %(run)s, catalog_id, -id, tier, keeper_image_id, keeper_content_hash, size, is_suspicious,
                       has_unverified FROM old
                RETURNING id, -component_key AS old_id)
            INSERT INTO duplicate_members (group_id, image_id, content_hash, tier, match, similarity, phash_distance,
                                           is_verified, reason)
            SELECT c.id, m.image_id, m.content_hash, m.tier, m.match, m.similarity, m.phash_distance, m.is_verified,
                   m.reason FROM copied c JOIN duplicate_members m ON m.group_id = c.old_id
            """, {"prev": carry_from, "ids": list(affected_ids), "run": job_id})
    conn.execute("UPDATE duplicate_runs SET is_current = false WHERE catalog_id = %s AND is_current", (catalog_id,))
    conn.execute("UPDATE duplicate_runs SET is_current = true, finished_at = now() WHERE job_id = %s", (job_id,))
    conn.execute("DELETE FROM duplicate_runs WHERE catalog_id = %s AND NOT is_current AND finished_at IS NOT NULL",
                 (catalog_id,))


def current_groups(conn: psycopg.Connection, catalog_id: int) -> list[dict[str, Any]]:
    """The current run's groups: one dict per group with its keeper facts and member rows."""
    with conn.cursor(row_factory=dict_row) as cur:
        groups = cur.execute(
            "SELECT g.id, g.tier, g.keeper_image_id, g.keeper_content_hash, g.size, g.is_suspicious, "
            "g.has_unverified, i.path AS keeper_path, i.size_bytes AS keeper_bytes FROM duplicate_groups g "
            "JOIN duplicate_runs r ON r.job_id = g.run_job_id AND r.is_current JOIN images i ON i.id = g.keeper_image_id "
            "WHERE g.catalog_id = %s ORDER BY g.id", (catalog_id,)).fetchall()
        members = cur.execute(
            "SELECT m.*, i.path, i.size_bytes FROM duplicate_members m JOIN duplicate_groups g ON g.id = m.group_id "
            "JOIN duplicate_runs r ON r.job_id = g.run_job_id AND r.is_current JOIN images i ON i.id = m.image_id "
            "WHERE g.catalog_id = %s ORDER BY m.group_id, m.image_id", (catalog_id,)).fetchall()
    by_group: dict[int, list[dict[str, Any]]] = {}
    for m in members:
        by_group.setdefault(m["group_id"], []).append(m)
    for g in groups:
        g["members"] = by_group.get(g["id"], [])
    return groups


def image_facts(conn: psycopg.Connection, ids: Sequence[int]) -> dict[int, tuple[str, int]]:
    rows = conn.execute("SELECT id, path, size_bytes FROM images WHERE id = ANY(%s)", (list(ids),)).fetchall()
    return {r[0]: (r[1], r[2] or 0) for r in rows}


def add_decision(conn: psycopg.Connection, catalog_id: int, decision: str, a: str, b: str = "") -> None:
    if decision == "not_duplicate" and b < a:
        a, b = b, a
    conn.execute("INSERT INTO duplicate_decisions (catalog_id, decision, content_hash_a, content_hash_b) "
                 "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", (catalog_id, decision, a, b))


def remove_decision(conn: psycopg.Connection, catalog_id: int, decision: str, a: str, b: str = "") -> None:
    if decision == "not_duplicate" and b < a:
        a, b = b, a
    conn.execute("DELETE FROM duplicate_decisions WHERE catalog_id = %s AND decision = %s AND content_hash_a = %s "
                 "AND content_hash_b = %s", (catalog_id, decision, a, b))


def decisions(conn: psycopg.Connection, catalog_id: int) -> list[tuple[str, str, str]]:
    return conn.execute("SELECT decision, content_hash_a, content_hash_b FROM duplicate_decisions "
                        "WHERE catalog_id = %s ORDER BY id", (catalog_id,)).fetchall()


def content_hash_of(conn: psycopg.Connection, catalog_id: int, path: str) -> str | None:
    row = conn.execute("SELECT content_hash FROM images WHERE catalog_id = %s AND path = %s", (catalog_id, path)).fetchone()
    return row[0] if row else None


class DuplicatesRepository:
    """What the duplicates kind reads and writes, over a connection in a transaction (``tx``)."""

    def hash_rows(self, tx: psycopg.Connection, catalog_id: int) -> list[tuple[int, bytes, str, str | None, datetime | None]]:
        return hash_rows(tx, catalog_id)

    def fingerprint_rows(self, tx: psycopg.Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
        return fingerprint_rows(tx, ids)

    def current_run(self, tx: psycopg.Connection, catalog_id: int) -> dict[str, Any] | None:
        return current_run(tx, catalog_id)

    def start_run(self, tx: psycopg.Connection, job_id: int, catalog_id: int, *, incremental: bool, photos: int,
                  high_water: datetime | None) -> None:
        start_run(tx, job_id, catalog_id, incremental=incremental, photos=photos, high_water=high_water)

    def replace_component_groups(self, tx: psycopg.Connection, run_job_id: int, catalog_id: int, component_key: int,
                                 groups: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]]) -> int:
        return replace_component_groups(tx, run_job_id, catalog_id, component_key, groups)

    def finish_run(self, tx: psycopg.Connection, job_id: int, catalog_id: int, *, carry_from: int | None,
                   affected_ids: Sequence[int]) -> None:
        finish_run(tx, job_id, catalog_id, carry_from=carry_from, affected_ids=affected_ids)

    def current_groups(self, tx: psycopg.Connection, catalog_id: int) -> list[dict[str, Any]]:
        return current_groups(tx, catalog_id)

    def decisions(self, tx: psycopg.Connection, catalog_id: int) -> list[tuple[str, str, str]]:
        return decisions(tx, catalog_id)
