"""Duplicate runs, groups, members and decisions (psycopg only here; any non-GUI thread).

Rows go in and out as the ``core.duplicates`` values the algorithm (``analysis.duplicates``)
works on: fingerprints and hashes are built by ``class_row``, groups and decisions from their
rows here, so nothing above ``db`` sees a row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.rows import class_row, dict_row

from lumina_desktop.core.duplicates import (
    Decision,
    DecisionKind,
    DuplicateGroup,
    DuplicateTier,
    GroupMember,
    KeepThis,
    NotDuplicate,
    PhotoFingerprint,
    PhotoHashes,
    StoredGroup,
)

# the columns are PhotoFingerprint's fields, in order (class_row builds it)
_FP_SELECT = """
SELECT p.id, p.content_hash, p.image_data_hash, f.phash, f.dhash, f.grey, coalesce(f.aspect, 1.0)::float8 AS aspect,
       coalesce(p.width, 0) AS width, coalesce(p.height, 0) AS height, coalesce(p.size_bytes, 0) AS size,
       coalesce(CASE WHEN p.kind = 'raw' THEN p.file_type ELSE p.format END, '') AS format,
       coalesce(p.kind = 'raw', false) AS is_raw,
       (p.camera_make IS NOT NULL OR p.camera_model IS NOT NULL) AS has_camera_exif,
       p.capture_time, coalesce(p.mtime_ns / 1e9, 0)::float8 AS mtime, p.path, p.orientation::int AS orientation
FROM photos p JOIN photo_fingerprints f ON f.photo_id = p.id
WHERE p.id = ANY(%s) AND p.status = 'ok'
"""


def hash_rows(conn: psycopg.Connection, catalog_id: int) -> list[PhotoHashes]:
    """The hashes of every analysed photo of the catalog, by id: what the index needs."""
    with conn.cursor(row_factory=class_row(PhotoHashes)) as cur:
        return cur.execute(
            "SELECT p.id, f.phash, p.content_hash, p.image_data_hash, p.analysed_at FROM photos p "
            "JOIN photo_fingerprints f ON f.photo_id = p.id WHERE p.catalog_id = %s AND p.status = 'ok' AND p.trashed_at IS NULL "
            "ORDER BY p.id", (catalog_id,)).fetchall()


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NO_TIME = -(1 << 63)     # analysed_at NULL
_PG_EPOCH_US = 946_684_800_000_000   # 2000-01-01, PostgreSQL's epoch, in µs since 1970


@dataclass(frozen=True)
class HashArrays:
    """The pHashes of every photo :func:`hash_rows` returns, as arrays (what an incremental run
    indexes): ids ascending, pHashes (N × 32 bytes), and ``analysed_at`` in µs since the epoch."""

    ids: npt.NDArray[np.int64]
    phashes: npt.NDArray[np.uint8]
    analysed_us: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def high_water(self) -> datetime | None:
        """The newest ``analysed_at``."""
        known = self.analysed_us[self.analysed_us != _NO_TIME]
        return to_time(int(known.max())) if len(known) else None

    def analysed_after(self, mark: datetime | None) -> npt.NDArray[np.int64]:
        """Ids of the photos analysed after ``mark`` (every photo when there is none)."""
        if mark is None:
            return self.ids
        return self.ids[self.analysed_us > to_us(mark)]


def to_us(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(microseconds=1)


def to_time(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


# one photo in :func:`hash_arrays`'s blob: id, pHash, analysed_at (µs since 2000-01-01; -infinity
# for none), as PostgreSQL's binary send functions write them (big-endian)
_HASH_ROW = np.dtype([("id", ">i8"), ("phash", "u1", 32), ("at", ">i8")])


def hash_arrays(conn: psycopg.Connection, catalog_id: int) -> HashArrays:
    """:func:`hash_rows` without the content hashes, as arrays.

    The server packs the rows into a few byteas (48 bytes a photo; one per million ids, far below
    a value's 1 GB limit) that numpy reads in place: a million photos cost the join (about a
    second) and 48 MB, where a million row objects, or a COPY's million messages, cost seconds in
    Python.  ``work_mem`` is raised for this transaction so the join does not spill to disk."""
    conn.execute("SELECT set_config('work_mem', '64MB', true)")
    chunks = conn.execute(
        "SELECT string_agg(int8send(p.id) || f.phash || timestamptz_send(coalesce(p.analysed_at, '-infinity')), "
        "''::bytea) FROM photos p JOIN photo_fingerprints f ON f.photo_id = p.id "
        "WHERE p.catalog_id = %s AND p.status = 'ok' AND p.trashed_at IS NULL GROUP BY p.id >> 20",
        (catalog_id,), binary=True).fetchall()
    rows = np.frombuffer(b"".join(bytes(c[0]) for c in chunks), dtype=_HASH_ROW)
    rows = rows[np.argsort(rows["id"], kind="stable")]     # by id, as hash_rows
    at = rows["at"].astype(np.int64)
    at[at != _NO_TIME] += _PG_EPOCH_US
    return HashArrays(rows["id"].astype(np.int64), np.ascontiguousarray(rows["phash"]), at)


def same_hash(conn: psycopg.Connection, catalog_id: int, ids: Sequence[int]) -> dict[int, set[int]]:
    """For each of ``ids``, the other photos of :func:`hash_rows` with its content hash or its
    image-data hash (by index; what the duplicate index's exact-hash cliques hold)."""
    if not len(ids):
        return {}
    out: dict[int, set[int]] = {}
    rows = conn.execute(
        "WITH q AS (SELECT p.id, p.content_hash, p.image_data_hash FROM photos p "
        "  WHERE p.id = ANY(%(ids)s::bigint[]) AND p.catalog_id = %(cat)s) "
        "SELECT q.id, o.id FROM q JOIN photos o ON o.catalog_id = %(cat)s AND o.content_hash = q.content_hash "
        "  WHERE q.content_hash <> '' AND o.id <> q.id AND o.status = 'ok' AND o.trashed_at IS NULL "
        "  AND EXISTS (SELECT 1 FROM photo_fingerprints f WHERE f.photo_id = o.id) "
        "UNION "
        "SELECT q.id, o.id FROM q JOIN photos o ON o.catalog_id = %(cat)s AND o.image_data_hash = q.image_data_hash "
        "  WHERE q.image_data_hash <> '' AND o.id <> q.id AND o.status = 'ok' AND o.trashed_at IS NULL "
        "  AND EXISTS (SELECT 1 FROM photo_fingerprints f WHERE f.photo_id = o.id)",
        {"ids": id_array(ids), "cat": catalog_id}).fetchall()
    for a, b in rows:
        out.setdefault(a, set()).add(b)
    return out


def fingerprints(conn: psycopg.Connection, ids: Sequence[int]) -> list[PhotoFingerprint]:
    """The fingerprints (greys included) of those of ``ids`` that are analysed photos."""
    with conn.cursor(row_factory=class_row(PhotoFingerprint)) as cur:
        return cur.execute(_FP_SELECT, (list(ids),)).fetchall()


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
                             groups: Iterable[DuplicateGroup]) -> int:
    """Store the groups of one component (idempotent: a rerun of the batch replaces them)."""
    conn.execute("DELETE FROM duplicate_groups WHERE run_job_id = %s AND component_key = %s", (run_job_id, component_key))
    n = 0
    for g in groups:
        row = conn.execute(
            "INSERT INTO duplicate_groups (run_job_id, catalog_id, component_key, tier, keeper_photo_id, "
            "keeper_content_hash, size, is_suspicious, has_unverified) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING id", (run_job_id, catalog_id, component_key, g.tier, g.keeper_id, g.keeper_content_hash,
                             g.size, g.is_suspicious, g.has_unverified)).fetchone()
        assert row is not None
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO duplicate_members (group_id, photo_id, content_hash, tier, match, similarity, "
                "phash_distance, is_verified, reason, copy_of) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(row[0], m.photo_id, m.content_hash, m.tier, m.match, m.similarity, m.phash_distance,
                  m.is_verified, m.reason, m.copy_of) for m in g.members])
        n += 1
    return n


def finish_run(conn: psycopg.Connection, job_id: int, catalog_id: int, *, carry_from: int | None,
               affected_ids: Sequence[int]) -> None:
    """Make this run current; an incremental run carries over the previous run's untouched groups.

    Carried groups move to this run (their ids and members stay as they are, where a copy of
    every group and member on every run was most of an incremental run's finalize at 20,000
    groups), with ``component_key = -id`` so no part key of this run names one; the previous run
    then goes, with the groups it still holds."""
    if carry_from is not None:
        conn.execute(
            "UPDATE duplicate_groups g SET run_job_id = %(run)s, component_key = -g.id "
            "WHERE g.run_job_id = %(prev)s AND g.keeper_photo_id <> ALL(%(ids)s::bigint[]) "
            "AND g.id NOT IN (SELECT m.group_id FROM duplicate_members m WHERE m.photo_id = ANY(%(ids)s::bigint[]))",
            {"prev": carry_from, "ids": id_array(affected_ids), "run": job_id})
    conn.execute("UPDATE duplicate_runs SET is_current = false WHERE catalog_id = %s AND is_current", (catalog_id,))
    conn.execute("UPDATE duplicate_runs SET is_current = true, finished_at = now() WHERE job_id = %s", (job_id,))
    conn.execute("DELETE FROM duplicate_runs WHERE catalog_id = %s AND NOT is_current AND finished_at IS NOT NULL",
                 (catalog_id,))


def current_groups(conn: psycopg.Connection, catalog_id: int) -> list[StoredGroup]:
    """The current run's groups as detected (decisions not applied), in stored order, with the
    display paths and sizes of their photos."""
    groups = conn.execute(
        "SELECT g.id, g.tier, g.keeper_photo_id, g.keeper_content_hash, g.is_suspicious, "
        "p.path, p.size_bytes FROM duplicate_groups g "
        "JOIN duplicate_runs r ON r.job_id = g.run_job_id AND r.is_current JOIN photos p ON p.id = g.keeper_photo_id "
        "WHERE g.catalog_id = %s ORDER BY g.id", (catalog_id,)).fetchall()
    members = conn.execute(
        "SELECT m.group_id, m.photo_id, m.content_hash, m.tier, m.match, m.similarity, "
        "coalesce(m.phash_distance, 0), m.is_verified, m.reason, m.copy_of, p.path, p.size_bytes "
        "FROM duplicate_members m JOIN duplicate_groups g ON g.id = m.group_id "
        "JOIN duplicate_runs r ON r.job_id = g.run_job_id AND r.is_current JOIN photos p ON p.id = m.photo_id "
        "WHERE g.catalog_id = %s ORDER BY m.group_id, m.photo_id", (catalog_id,)).fetchall()
    by_group: dict[int, list[tuple[GroupMember, str, int]]] = {}
    tiers = {t.value: t for t in DuplicateTier}     # one lookup, not an enum call per row (10k groups: 0.14 s)
    for group_id, photo_id, content_hash, tier, match, similarity, distance, is_verified, reason, copy_of, path, size in members:
        member = GroupMember(photo_id, content_hash, tiers[tier], match, similarity, distance, is_verified, reason, copy_of)
        by_group.setdefault(group_id, []).append((member, path, size or 0))
    out = []
    for group_id, tier, keeper_id, keeper_hash, is_suspicious, path, size in groups:
        found = by_group.get(group_id, [])
        group = DuplicateGroup(keeper_id, keeper_hash, tuple(m for m, _, _ in found), tiers[tier], is_suspicious)
        paths = {keeper_id: path, **{m.photo_id: p for m, p, _ in found}}
        sizes = {keeper_id: size or 0, **{m.photo_id: n for m, _, n in found}}
        out.append(StoredGroup(group_id, group, paths, sizes))
    return out


def add_decision(conn: psycopg.Connection, catalog_id: int, decision: DecisionKind | str, a: str, b: str = "") -> None:
    """Remember a decision: NOT_DUPLICATE names two contents (``a``, ``b``), KEEP one content
    (``a``) and the file of it to keep (``b``, its path; '' for any file of that content)."""
    decision = DecisionKind(decision)
    if decision is DecisionKind.NOT_DUPLICATE and b < a:
        a, b = b, a
    conn.execute("INSERT INTO duplicate_decisions (catalog_id, decision, content_hash_a, content_hash_b) "
                 "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", (catalog_id, decision, a, b))


def remove_decision(conn: psycopg.Connection, catalog_id: int, decision: DecisionKind | str, a: str,
                    b: str = "") -> None:
    decision = DecisionKind(decision)
    if decision is DecisionKind.NOT_DUPLICATE and b < a:
        a, b = b, a
    conn.execute("DELETE FROM duplicate_decisions WHERE catalog_id = %s AND decision = %s AND content_hash_a = %s "
                 "AND content_hash_b = %s", (catalog_id, decision, a, b))


def decisions(conn: psycopg.Connection, catalog_id: int) -> list[Decision]:
    """The catalog's remembered decisions, oldest first."""
    rows = conn.execute("SELECT decision, content_hash_a, content_hash_b FROM duplicate_decisions "
                        "WHERE catalog_id = %s ORDER BY id", (catalog_id,)).fetchall()
    return [NotDuplicate(a, b) if kind == DecisionKind.NOT_DUPLICATE else KeepThis(a, b) for kind, a, b in rows]


def content_hash_of(conn: psycopg.Connection, catalog_id: int, path: str) -> str | None:
    row = conn.execute("SELECT content_hash FROM photos WHERE catalog_id = %s AND path = %s", (catalog_id, path)).fetchone()
    return row[0] if row else None


class DuplicatesRepository:
    """What the duplicates kind reads and writes, over a connection in a transaction (``tx``)."""

    def hash_rows(self, tx: psycopg.Connection, catalog_id: int) -> list[PhotoHashes]:
        return hash_rows(tx, catalog_id)

    def hash_arrays(self, tx: psycopg.Connection, catalog_id: int) -> HashArrays:
        return hash_arrays(tx, catalog_id)

    def same_hash(self, tx: psycopg.Connection, catalog_id: int, ids: Sequence[int]) -> dict[int, set[int]]:
        return same_hash(tx, catalog_id, ids)

    def fingerprints(self, tx: psycopg.Connection, ids: Sequence[int]) -> list[PhotoFingerprint]:
        return fingerprints(tx, ids)

    def current_run(self, tx: psycopg.Connection, catalog_id: int) -> dict[str, Any] | None:
        return current_run(tx, catalog_id)

    def start_run(self, tx: psycopg.Connection, job_id: int, catalog_id: int, *, incremental: bool, photos: int,
                  high_water: datetime | None) -> None:
        start_run(tx, job_id, catalog_id, incremental=incremental, photos=photos, high_water=high_water)

    def replace_component_groups(self, tx: psycopg.Connection, run_job_id: int, catalog_id: int, component_key: int,
                                 groups: Iterable[DuplicateGroup]) -> int:
        return replace_component_groups(tx, run_job_id, catalog_id, component_key, groups)

    def finish_run(self, tx: psycopg.Connection, job_id: int, catalog_id: int, *, carry_from: int | None,
                   affected_ids: Sequence[int]) -> None:
        finish_run(tx, job_id, catalog_id, carry_from=carry_from, affected_ids=affected_ids)

    def current_groups(self, tx: psycopg.Connection, catalog_id: int) -> list[StoredGroup]:
        return current_groups(tx, catalog_id)

    def decisions(self, tx: psycopg.Connection, catalog_id: int) -> list[Decision]:
        return decisions(tx, catalog_id)

    def trashed_among(self, tx: psycopg.Connection, photo_ids: Sequence[int]) -> set[int]:
        rows = tx.execute("SELECT id FROM photos WHERE id = ANY(%s::bigint[]) AND trashed_at IS NOT NULL",
                          (id_array(photo_ids),)).fetchall()
        return {r[0] for r in rows}

    def burst_of_photos(self, tx: psycopg.Connection, photo_ids: Sequence[int]) -> dict[int, int]:
        """photo id → the burst it is in, for those of ``photo_ids`` in one."""
        rows = tx.execute("SELECT photo_id, burst_id FROM burst_members WHERE photo_id = ANY(%s::bigint[])",
                          (id_array(photo_ids),)).fetchall()
        return dict(rows)


def id_array(ids: Sequence[int]) -> str:
    """Photo ids as one array literal: psycopg dumps a Python list of 30,000 ints element by
    element (about 8 µs each); a text literal cast to bigint[] costs one string join."""
    return "{" + ",".join(map(str, map(int, ids))) + "}"
