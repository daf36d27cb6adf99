"""Bursts in the catalog, and the user's culling decisions (psycopg only here; any non-GUI thread).

``bursts`` / ``burst_members`` are detection results: a bursts job replaces the bursts of the
runs it regroups.  ``photo_decisions`` are the user's (best, pick, reject), keyed by content
hash, so they survive rescans, moves and re-detection; they are applied when results are read.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from lumina_desktop.core.paths import path_from_db

DECISIONS = ("best", "pick", "reject")
# capture times a burst may rest on: the camera's own clock, not a file date or a guess
TRUSTED_DATES = ("exif", "xmp", "container")


@dataclass(frozen=True, slots=True)
class FrameRow:
    """What grouping needs of one photo, without its pixels."""

    id: int
    make: str | None
    model: str | None
    serial: str | None
    time: datetime
    burst_uuid: str | None
    exposure_bias: float | None = None


@dataclass(frozen=True, slots=True)
class MemberRow:
    photo_id: int
    path: str
    content_hash: str | None
    position: int
    rank: int | None
    is_best: bool                    # the detector's pick, or the user's when they made one
    reasons: tuple[str, ...]
    relative_sharpness: float | None
    quality: float | None
    decision: str | None             # the user's: best, pick, reject
    stars: int | None = None         # the user's stars, 0–5


@dataclass(frozen=True, slots=True)
class BurstRow:
    id: int
    camera: str
    started_at: datetime
    ended_at: datetime
    size: int
    best_photo_id: int | None        # the user's best when they chose one, else the detector's
    pick_reasons: tuple[str, ...]
    summary: Mapping[str, Any]
    is_user_pick: bool = False
    members: tuple[MemberRow, ...] = field(default_factory=tuple)


def frame_index(conn: psycopg.Connection, catalog_id: int) -> list[FrameRow]:
    """Every analysed photo of the catalog with a trusted capture time or a burst id, in time order."""
    rows = conn.execute(
        "SELECT id, camera_make, camera_model, body_serial, capture_time, burst_uuid, exposure_bias FROM photos "
        "WHERE catalog_id = %s AND status = 'ok' AND capture_time IS NOT NULL "
        "AND (date_source = ANY(%s) OR burst_uuid IS NOT NULL) ORDER BY capture_time, id",
        (catalog_id, list(TRUSTED_DATES))).fetchall()
    return [FrameRow(*r) for r in rows]


_FRAME_WHERE = ("p.catalog_id = %(cat)s AND p.status = 'ok' AND p.capture_time IS NOT NULL "
                "AND (p.date_source = ANY(%(trusted)s) OR p.burst_uuid IS NOT NULL)")
_FRAME_COLS = "p.id, p.camera_make, p.camera_model, p.body_serial, p.capture_time, p.burst_uuid, p.exposure_bias"


def frames_between(conn: psycopg.Connection, catalog_id: int,
                   windows: Sequence[tuple[datetime, datetime]]) -> list[FrameRow]:
    """The frames of :func:`frame_index` whose capture time lies in one of ``windows`` (start,
    end, inclusive; disjoint), by the catalog's capture-time index; in no particular order."""
    if not windows:
        return []
    params = {"lo": [w[0] for w in windows], "hi": [w[1] for w in windows], "cat": catalog_id,
              "trusted": list(TRUSTED_DATES)}
    # photos not in the trash: one range scan of the capture-time index (partial: not trashed) per
    # window, in a LATERAL subquery kept apart by OFFSET 0 (flattened, the planner joined every
    # window to a scan of the whole table); the few in the trash by their own index
    rows = conn.execute(
        f"SELECT f.* FROM unnest(%(lo)s::timestamp[], %(hi)s::timestamp[]) AS w(lo, hi) CROSS JOIN LATERAL "
        f"(SELECT {_FRAME_COLS} FROM photos p WHERE p.capture_time BETWEEN w.lo AND w.hi AND p.trashed_at IS NULL "
        f"AND {_FRAME_WHERE} OFFSET 0) f "
        f"UNION ALL SELECT {_FRAME_COLS} FROM photos p WHERE p.trashed_at IS NOT NULL AND {_FRAME_WHERE} "
        f"AND EXISTS (SELECT 1 FROM unnest(%(lo)s::timestamp[], %(hi)s::timestamp[]) AS w(lo, hi) "
        f"WHERE p.capture_time BETWEEN w.lo AND w.hi)", params).fetchall()
    return [FrameRow(*r) for r in rows]


def frames_with_burst_ids(conn: psycopg.Connection, catalog_id: int, burst_uuids: Sequence[str]) -> list[FrameRow]:
    """The frames of :func:`frame_index` that carry one of ``burst_uuids``; in no particular order."""
    if not burst_uuids:
        return []
    rows = conn.execute(f"SELECT {_FRAME_COLS} FROM photos p WHERE p.burst_uuid = ANY(%(ids)s) AND {_FRAME_WHERE}",
                        {"ids": list(burst_uuids), "cat": catalog_id, "trusted": list(TRUSTED_DATES)}).fetchall()
    return [FrameRow(*r) for r in rows]


def frame_rows(conn: psycopg.Connection, photo_ids: Sequence[int]) -> list[FrameRow]:
    """The grouping rows of ``photo_ids`` that still qualify, in time order."""
    rows = conn.execute(
        "SELECT id, camera_make, camera_model, body_serial, capture_time, burst_uuid, exposure_bias FROM photos "
        "WHERE id = ANY(%s) AND status = 'ok' AND capture_time IS NOT NULL "
        "AND (date_source = ANY(%s) OR burst_uuid IS NOT NULL) ORDER BY capture_time, id",
        (list(photo_ids), list(TRUSTED_DATES))).fetchall()
    return [FrameRow(*r) for r in rows]


def totals(conn: psycopg.Connection, catalog_id: int) -> tuple[int, int]:
    """(bursts, photos in them) of the catalog."""
    row = conn.execute("SELECT count(*), coalesce(sum(size), 0) FROM bursts WHERE catalog_id = %s",
                       (catalog_id,)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def frame_details(conn: psycopg.Connection, photo_ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """photo id → (grey, phash, quality measures or None, sub-scores or None, content hash)."""
    rows = conn.execute(
        "SELECT p.id, f.grey, f.phash, q.measures, q.overall, q.exposure, q.noise, p.content_hash, q.reasons "
        "FROM photos p LEFT JOIN photo_fingerprints f ON f.photo_id = p.id "
        "LEFT JOIN photo_quality q ON q.photo_id = p.id AND q.content_hash = p.content_hash "
        "WHERE p.id = ANY(%s)", (list(photo_ids),)).fetchall()
    return {r[0]: (bytes(r[1]) if r[1] is not None else None, bytes(r[2]) if r[2] is not None else None,
                   r[3], (r[4], r[5], r[6], tuple(r[8] or ())) if r[4] is not None else None, r[7]) for r in rows}


def decisions_for(conn: psycopg.Connection, catalog_id: int, hashes: Sequence[str]) -> dict[str, str]:
    rows = conn.execute("SELECT content_hash, decision FROM photo_decisions WHERE catalog_id = %s "
                        "AND content_hash = ANY(%s)", (catalog_id, list(hashes))).fetchall()
    return dict(rows)


def replace_bursts(conn: psycopg.Connection, catalog_id: int, job_id: int, photo_ids: Sequence[int],
                   bursts: Sequence[Mapping[str, Any]]) -> list[int]:
    """Drop every burst holding one of ``photo_ids`` and store ``bursts`` (each: camera, started_at,
    ended_at, best_photo_id, pick_reasons, summary, members = [(photo_id, position, rank, is_best,
    reasons, relative_sharpness)]).  Returns the photos whose burst changed (old and new members)."""
    with conn.cursor() as cur:
        cur.execute("SELECT o.photo_id FROM burst_members m JOIN burst_members o ON o.burst_id = m.burst_id "
                    "WHERE m.photo_id = ANY(%s)", (list(photo_ids),))
        touched: set[int] = {r[0] for r in cur.fetchall()}      # members of the bursts replaced
        cur.execute("DELETE FROM bursts WHERE id IN (SELECT burst_id FROM burst_members WHERE photo_id = ANY(%s))",
                    (list(photo_ids),))
        for b in bursts:
            cur.execute(
                "INSERT INTO bursts (catalog_id, camera, started_at, ended_at, size, best_photo_id, pick_reasons, "
                "summary, job_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (catalog_id, b["camera"], b["started_at"], b["ended_at"], len(b["members"]), b["best_photo_id"],
                 list(b["pick_reasons"]), Jsonb(dict(b["summary"])), job_id))
            row = cur.fetchone()
            assert row is not None
            cur.executemany(
                "INSERT INTO burst_members (photo_id, burst_id, position, rank, is_best, reasons, relative_sharpness) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(m[0], row[0], m[1], m[2], m[3], list(m[4]), m[5]) for m in b["members"]])
            touched.update(m[0] for m in b["members"])
    return sorted(touched | set(photo_ids))


def drop_stale(conn: psycopg.Connection, catalog_id: int, *, except_job: int | None = None) -> list[int]:
    """Remove bursts left with fewer than two present photos (files gone or missing) and, with
    ``except_job``, every burst another job stored (a full run replaces all).  Returns their photos."""
    rows = conn.execute(
        "WITH stale AS (SELECT b.id FROM bursts b WHERE b.catalog_id = %(c)s AND ("
        "   (%(j)s::bigint IS NOT NULL AND b.job_id IS DISTINCT FROM %(j)s) OR "
        "   (SELECT count(*) FROM burst_members m JOIN photos p ON p.id = m.photo_id "
        "     WHERE m.burst_id = b.id AND p.status = 'ok') < 2)), "
        "members AS (SELECT m.photo_id FROM burst_members m WHERE m.burst_id IN (SELECT id FROM stale)), "
        "d AS (DELETE FROM bursts WHERE id IN (SELECT id FROM stale)) "
        "SELECT photo_id FROM members", {"c": catalog_id, "j": except_job}).fetchall()
    return [r[0] for r in rows]


def burst_of(conn: psycopg.Connection, photo_id: int) -> int | None:
    row = conn.execute("SELECT burst_id FROM burst_members WHERE photo_id = %s", (photo_id,)).fetchone()
    return row[0] if row else None


def list_bursts(conn: psycopg.Connection, catalog_id: int, *, burst_ids: Sequence[int] | None = None,
                with_members: bool = True) -> list[BurstRow]:
    """The catalog's bursts in shooting order, the user's decisions applied: a photo they marked
    best is the burst's best, whatever the detector picked."""
    where = "b.catalog_id = %(c)s" + (" AND b.id = ANY(%(ids)s)" if burst_ids is not None else "")
    rows = conn.execute(
        "SELECT b.id, b.camera, b.started_at, b.ended_at, b.size, b.best_photo_id, b.pick_reasons, b.summary "
        f"FROM bursts b WHERE {where} ORDER BY b.started_at, b.id",
        {"c": catalog_id, "ids": list(burst_ids or ())}).fetchall()
    bursts = {r[0]: BurstRow(r[0], r[1], r[2], r[3], r[4], r[5], tuple(r[6] or ()), r[7] or {}) for r in rows}
    if not with_members or not bursts:
        return list(bursts.values())
    members: dict[int, list[MemberRow]] = {b: [] for b in bursts}
    for r in conn.execute(
            "SELECT m.burst_id, m.photo_id, p.path, p.path_bytes, p.content_hash, m.position, m.rank, m.is_best, "
            "       m.reasons, m.relative_sharpness, p.quality, d.decision, d.stars "
            "FROM burst_members m JOIN photos p ON p.id = m.photo_id AND p.trashed_at IS NULL "
            "LEFT JOIN photo_decisions d ON d.catalog_id = p.catalog_id AND d.content_hash = p.content_hash "
            "WHERE m.burst_id = ANY(%s) ORDER BY m.burst_id, m.position", (list(bursts),)).fetchall():
        members[r[0]].append(MemberRow(r[1], path_from_db(r[2], r[3]), r[4], r[5], r[6], bool(r[7]),
                                       tuple(r[8] or ()), r[9], r[10], r[11], r[12]))
    out = []
    for bid, b in bursts.items():
        ms = members[bid]
        chosen = next((m.photo_id for m in ms if m.decision == "best"), None)
        if chosen is not None:
            ms = [MemberRow(m.photo_id, m.path, m.content_hash, m.position, m.rank, m.photo_id == chosen, m.reasons,
                            m.relative_sharpness, m.quality, m.decision, m.stars) for m in ms]
        out.append(BurstRow(b.id, b.camera, b.started_at, b.ended_at, b.size,
                            chosen if chosen is not None else b.best_photo_id, b.pick_reasons, b.summary,
                            chosen is not None, tuple(ms)))
    return out


def decision_of(conn: psycopg.Connection, catalog_id: int, content_hash: str) -> tuple[str | None, int | None]:
    """(decision, stars) the user gave this content, Nones when none."""
    row = conn.execute("SELECT decision, stars FROM photo_decisions WHERE catalog_id = %s AND content_hash = %s",
                       (catalog_id, content_hash)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def set_stars(conn: psycopg.Connection, catalog_id: int, photo_id: int, stars: int | None) -> list[int]:
    """The user's stars (0–5; None clears them) on a photo's content.  Returns every photo of the
    catalog with that content (copies share them)."""
    if stars is not None and not 0 <= stars <= 5:
        raise ValueError(f"stars are 0 to 5, not {stars}")
    row = conn.execute("SELECT content_hash FROM photos WHERE id = %s AND catalog_id = %s",
                       (photo_id, catalog_id)).fetchone()
    if row is None or row[0] is None:
        return []
    h = row[0]
    if stars is None:
        conn.execute("UPDATE photo_decisions SET stars = NULL, decided_at = now() "
                     "WHERE catalog_id = %s AND content_hash = %s AND decision IS NOT NULL", (catalog_id, h))
        conn.execute("DELETE FROM photo_decisions WHERE catalog_id = %s AND content_hash = %s AND decision IS NULL",
                     (catalog_id, h))
    else:
        conn.execute("INSERT INTO photo_decisions (catalog_id, content_hash, stars) VALUES (%s, %s, %s) "
                     "ON CONFLICT (catalog_id, content_hash) DO UPDATE SET stars = EXCLUDED.stars, decided_at = now()",
                     (catalog_id, h, stars))
    same = conn.execute("SELECT id FROM photos WHERE catalog_id = %s AND content_hash = %s", (catalog_id, h)).fetchall()
    return sorted(r[0] for r in same)


def analysed_photo_at(conn: psycopg.Connection, catalog_id: int, path: str) -> int | None:
    row = conn.execute("SELECT id FROM photos WHERE catalog_id = %s AND path = %s AND content_hash IS NOT NULL",
                       (catalog_id, path)).fetchone()
    return row[0] if row else None


def set_decision(conn: psycopg.Connection, catalog_id: int, photo_id: int, decision: str | None) -> list[int]:
    """The user's decision on a photo's content (None clears it); 'best' is one per burst: the
    other frames of its burst lose theirs.  Returns the photos whose decision changed."""
    if decision is not None and decision not in DECISIONS:
        raise ValueError(f"a decision is one of {', '.join(DECISIONS)}, not {decision!r}")
    row = conn.execute("SELECT content_hash FROM photos WHERE id = %s AND catalog_id = %s",
                       (photo_id, catalog_id)).fetchone()
    if row is None or row[0] is None:
        return []
    h = row[0]
    changed = {photo_id}
    if decision == "best":
        others = conn.execute(
            "SELECT p.id, p.content_hash FROM burst_members m JOIN burst_members o ON o.burst_id = m.burst_id "
            "JOIN photos p ON p.id = o.photo_id WHERE m.photo_id = %s AND o.photo_id <> %s",
            (photo_id, photo_id)).fetchall()
        hashes = [r[1] for r in others if r[1] is not None and r[1] != h]
        if hashes:
            conn.execute("DELETE FROM photo_decisions WHERE catalog_id = %s AND content_hash = ANY(%s) "
                         "AND decision = 'best'", (catalog_id, hashes))
            changed.update(r[0] for r in others)
    if decision is None:
        conn.execute("UPDATE photo_decisions SET decision = NULL, decided_at = now() "
                     "WHERE catalog_id = %s AND content_hash = %s AND stars IS NOT NULL", (catalog_id, h))
        conn.execute("DELETE FROM photo_decisions WHERE catalog_id = %s AND content_hash = %s AND stars IS NULL",
                     (catalog_id, h))
    else:
        conn.execute("INSERT INTO photo_decisions (catalog_id, content_hash, decision) VALUES (%s, %s, %s) "
                     "ON CONFLICT (catalog_id, content_hash) DO UPDATE SET decision = EXCLUDED.decision, "
                     "decided_at = now()", (catalog_id, h, decision))
    same = conn.execute("SELECT id FROM photos WHERE catalog_id = %s AND content_hash = %s", (catalog_id, h)).fetchall()
    changed.update(r[0] for r in same)
    return sorted(changed)


class BurstsRepository:
    """What the bursts kind reads and writes, over a connection in a transaction (``tx``)."""

    def frame_index(self, tx: psycopg.Connection, catalog_id: int) -> list[FrameRow]:
        return frame_index(tx, catalog_id)

    def frame_rows(self, tx: psycopg.Connection, photo_ids: Sequence[int]) -> list[FrameRow]:
        return frame_rows(tx, photo_ids)

    def frames_between(self, tx: psycopg.Connection, catalog_id: int,
                       windows: Sequence[tuple[datetime, datetime]]) -> list[FrameRow]:
        return frames_between(tx, catalog_id, windows)

    def frames_with_burst_ids(self, tx: psycopg.Connection, catalog_id: int,
                              burst_uuids: Sequence[str]) -> list[FrameRow]:
        return frames_with_burst_ids(tx, catalog_id, burst_uuids)

    def totals(self, tx: psycopg.Connection, catalog_id: int) -> tuple[int, int]:
        return totals(tx, catalog_id)

    def frame_details(self, tx: psycopg.Connection, photo_ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        return frame_details(tx, photo_ids)

    def bursts_holding(self, tx: psycopg.Connection, photo_ids: Sequence[int]) -> list[int]:
        """Every member of a burst that holds one of ``photo_ids``."""
        rows = tx.execute("SELECT o.photo_id FROM burst_members m JOIN burst_members o ON o.burst_id = m.burst_id "
                          "WHERE m.photo_id = ANY(%s)", (list(photo_ids),)).fetchall()
        return [r[0] for r in rows]

    def absent_members(self, tx: psycopg.Connection, catalog_id: int) -> list[int]:
        """Burst members of the catalog that are no longer analysed photos (missing, unreadable)."""
        rows = tx.execute("SELECT m.photo_id FROM burst_members m JOIN photos p ON p.id = m.photo_id "
                          "WHERE p.catalog_id = %s AND p.status <> 'ok'", (catalog_id,)).fetchall()
        return [r[0] for r in rows]

    def replace_bursts(self, tx: psycopg.Connection, catalog_id: int, job_id: int, photo_ids: Sequence[int],
                       bursts: Sequence[Mapping[str, Any]]) -> list[int]:
        return replace_bursts(tx, catalog_id, job_id, photo_ids, bursts)

    def drop_stale(self, tx: psycopg.Connection, catalog_id: int, *, except_job: int | None = None) -> list[int]:
        return drop_stale(tx, catalog_id, except_job=except_job)
