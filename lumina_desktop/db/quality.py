"""Quality scores in the catalog (psycopg only here; any non-GUI thread).

``photo_quality`` holds, per photo, the scores measured on its content (``content_hash``) by a
version of the measures (``version``); ``photos.quality`` repeats the overall score so the grid
sorts and filters by it through an index.  Copies share a measurement: the job scores a content
hash once and stores it for every photo with that content.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from lumina_desktop.core.paths import path_from_db
from lumina_desktop.core.quality import QualityScore

SCORE_COLUMNS = ("overall", "sharpness", "subject_sharpness", "motion_blur", "noise", "exposure", "contrast",
                 "blockiness")


@dataclass(frozen=True, slots=True)
class StoredQuality:
    """One photo's stored scores and the raw measures behind them."""

    photo_id: int
    path: str
    score: QualityScore
    measures: Mapping[str, Any]
    source_px: int | None = None


def _score(row: Sequence[Any]) -> QualityScore:
    values = dict(zip(SCORE_COLUMNS, row[:len(SCORE_COLUMNS)]))
    return QualityScore(**{k: (float(v) if v is not None else None) for k, v in values.items()},
                        reasons=tuple(row[len(SCORE_COLUMNS)] or ()))


_SELECT = ("SELECT " + ", ".join(f"q.{c}" for c in SCORE_COLUMNS) +
           ", q.reasons, q.measures, q.source_px, p.id, p.path, p.path_bytes "
           "FROM photo_quality q JOIN photos p ON p.id = q.photo_id ")


def _stored(row: Sequence[Any]) -> StoredQuality:
    n = len(SCORE_COLUMNS)
    return StoredQuality(photo_id=row[n + 3], path=path_from_db(row[n + 4], row[n + 5]), score=_score(row),
                         measures=row[n + 1] or {}, source_px=row[n + 2])


def photos_to_score(conn: psycopg.Connection, catalog_id: int, version: int, *,
                    photo_ids: Sequence[int] | None = None, everything: bool = False) -> list[tuple[str, str, list[int]]]:
    """(content hash, one readable path, every photo id with that content) of the catalog's
    analysed pictures without a current score (``everything``: all of them), optionally among
    ``photo_ids``."""
    where = ["p.catalog_id = %(c)s", "p.status = 'ok'", "p.content_hash IS NOT NULL", "p.kind IN ('image', 'raw')"]
    if not everything:
        where.append("NOT EXISTS (SELECT 1 FROM photo_quality q WHERE q.photo_id = p.id "
                     "AND q.content_hash = p.content_hash AND q.version = %(v)s)")
    if photo_ids is not None:
        where.append("p.id = ANY(%(ids)s)")
    rows = conn.execute(
        "SELECT p.content_hash, (array_agg(p.path ORDER BY p.id))[1], (array_agg(p.path_bytes ORDER BY p.id))[1], "
        "       array_agg(p.id ORDER BY p.id) FROM photos p WHERE " + " AND ".join(where) +
        " GROUP BY p.content_hash ORDER BY min(p.capture_time), min(p.id)",
        {"c": catalog_id, "v": version, "ids": list(photo_ids or ())}).fetchall()
    return [(r[0], path_from_db(r[1], r[2]), list(r[3])) for r in rows]


def store_scores(conn: psycopg.Connection, catalog_id: int, version: int,
                 rows: Sequence[tuple[str, QualityScore, Mapping[str, Any], int | None]]) -> list[int]:
    """Store (content hash, score, measures, source px) for every photo of the catalog that still
    has that content; returns those photos (a file edited meanwhile keeps no stale score)."""
    if not rows:
        return []
    hashes = [r[0] for r in rows]
    payload = [(h, version, *(getattr(s, c) for c in SCORE_COLUMNS), list(s.reasons), Jsonb(dict(m)), px)
               for h, s, m, px in rows]
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS _quality_in (content_hash text, version smallint, "
                    "overall real, sharpness real, subject_sharpness real, motion_blur real, noise real, "
                    "exposure real, contrast real, blockiness real, reasons text[], measures jsonb, "
                    "source_px integer) ON COMMIT DELETE ROWS")
        cur.execute("DELETE FROM _quality_in")
        with cur.copy("COPY _quality_in FROM STDIN") as cp:
            for p in payload:
                cp.write_row(p)
        cols = ", ".join(SCORE_COLUMNS)
        cur.execute(
            f"INSERT INTO photo_quality (photo_id, content_hash, version, {cols}, reasons, measures, source_px) "
            f"SELECT p.id, i.content_hash, i.version, {', '.join('i.' + c for c in SCORE_COLUMNS)}, i.reasons, "
            f"       i.measures, i.source_px "
            f"FROM _quality_in i JOIN photos p ON p.content_hash = i.content_hash AND p.catalog_id = %s "
            f"ON CONFLICT (photo_id) DO UPDATE SET content_hash = EXCLUDED.content_hash, version = EXCLUDED.version, "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in (*SCORE_COLUMNS, "reasons", "measures", "source_px")) +
            ", scored_at = now()", (catalog_id,))
        cur.execute("UPDATE photos p SET quality = i.overall FROM _quality_in i "
                    "WHERE p.content_hash = i.content_hash AND p.catalog_id = %s", (catalog_id,))
        cur.execute("SELECT id FROM photos WHERE catalog_id = %s AND content_hash = ANY(%s) ORDER BY id",
                    (catalog_id, hashes))
        return [r[0] for r in cur.fetchall()]


def quality_of(conn: psycopg.Connection, photo_id: int) -> StoredQuality | None:
    """The photo's stored score, if it was scored on its current content."""
    row = conn.execute(_SELECT + "WHERE q.photo_id = %s AND q.content_hash = p.content_hash", (photo_id,)).fetchone()
    return _stored(row) if row else None


def qualities(conn: psycopg.Connection, photo_ids: Sequence[int]) -> dict[int, StoredQuality]:
    rows = conn.execute(_SELECT + "WHERE q.photo_id = ANY(%s) AND q.content_hash = p.content_hash",
                        (list(photo_ids),)).fetchall()
    return {s.photo_id: s for s in map(_stored, rows)}


def list_scores(conn: psycopg.Connection, catalog_id: int, *, below: float | None = None,
                limit: int | None = None) -> list[StoredQuality]:
    """The catalog's scored photos, worst first (``below``: only scores under it)."""
    sql = _SELECT + "WHERE p.catalog_id = %(c)s AND q.content_hash = p.content_hash"
    if below is not None:
        sql += " AND q.overall < %(below)s"
    sql += " ORDER BY q.overall, p.path"
    if limit is not None:
        sql += " LIMIT %(limit)s"
    rows = conn.execute(sql, {"c": catalog_id, "below": below, "limit": limit}).fetchall()
    return [_stored(r) for r in rows]


def score_counts(conn: psycopg.Connection, catalog_id: int, version: int) -> tuple[int, int]:
    """(pictures scored on their current content by this version, pictures that could be)."""
    row = conn.execute(
        "SELECT count(q.photo_id) FILTER (WHERE q.version = %(v)s), count(*) FROM photos p "
        "LEFT JOIN photo_quality q ON q.photo_id = p.id AND q.content_hash = p.content_hash "
        "WHERE p.catalog_id = %(c)s AND p.status = 'ok' AND p.kind IN ('image', 'raw')",
        {"c": catalog_id, "v": version}).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


class QualityRepository:
    """What the quality kind reads and writes, over a connection in a transaction (``tx``)."""

    def photos_to_score(self, tx: psycopg.Connection, catalog_id: int, version: int, *,
                        photo_ids: Sequence[int] | None = None, everything: bool = False) -> list[tuple[str, str, list[int]]]:
        return photos_to_score(tx, catalog_id, version, photo_ids=photo_ids, everything=everything)

    def store_scores(self, tx: psycopg.Connection, catalog_id: int, version: int,
                     rows: Sequence[tuple[str, QualityScore, Mapping[str, Any], int | None]]) -> list[int]:
        return store_scores(tx, catalog_id, version, rows)

    def add_sizes(self, tx: psycopg.Connection, content_hash: str, sizes: Sequence[int]) -> int:
        from lumina_desktop.db.thumbnails import add_sizes

        return add_sizes(tx, content_hash, sizes)
