"""Browsing queries: ordered id lists, grid pages, one photo's details, filter options.

psycopg only here; any non-GUI thread (the UI calls these on its interactive lane).  Sorting
and filtering happen in SQL; the grid receives an ordered tuple of ids and reads
:class:`PhotoSummary` rows for the pages it shows.

Indexes used (none added here): ``(catalog_id, capture_time, id)``, ``(catalog_id, file_name,
id)``, ``(catalog_id, size_bytes, id)``, ``(catalog_id, added_at DESC, id)``, ``(folder_id)``
and the partial ``(catalog_id, status) WHERE status <> 'ok'``.  The file-name search is an
``ILIKE '%…%'`` filter evaluated on the rows of the catalog (no trigram index exists).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from lumina_desktop.core.library import (
    RECENT_DAYS, CameraOption, FilterOptions, FolderOption, PhotoDetails, PhotoFilter, PhotoSummary,
    SortKey, SortOrder, StatusFilter,
)
from lumina_desktop.core.media import MediaKind
from lumina_desktop.core.models import PhotoStatus
from lumina_desktop.core.photo_tags import SHOW_CONFIDENCE
from lumina_desktop.db import tags as tags_db

# stored value → member, by dict lookup (a page converts 500 rows)
_KINDS: dict[str | None, MediaKind | None] = {None: None, **{k.value: k for k in MediaKind}}
_STATUSES: dict[str, PhotoStatus] = {s.value: s for s in PhotoStatus}

# Tie-breaks follow the index direction where one exists, so the planner can walk it.
_ORDER: dict[tuple[SortKey, bool], sql.Composable] = {
    (SortKey.CAPTURE_TIME, False): sql.SQL("capture_time ASC NULLS LAST, id ASC"),
    (SortKey.CAPTURE_TIME, True): sql.SQL("capture_time DESC NULLS LAST, id DESC"),
    (SortKey.FILE_NAME, False): sql.SQL("file_name ASC, id ASC"),
    (SortKey.FILE_NAME, True): sql.SQL("file_name DESC, id DESC"),
    (SortKey.FILE_SIZE, False): sql.SQL("size_bytes ASC NULLS LAST, id ASC"),
    (SortKey.FILE_SIZE, True): sql.SQL("size_bytes DESC NULLS LAST, id DESC"),
    (SortKey.ADDED, False): sql.SQL("added_at ASC, id ASC"),
    (SortKey.ADDED, True): sql.SQL("added_at DESC, id ASC"),
    (SortKey.QUALITY, False): sql.SQL("quality ASC NULLS LAST, id ASC"),
    (SortKey.QUALITY, True): sql.SQL("quality DESC NULLS LAST, id DESC"),
}


def escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (backslash is PostgreSQL's default escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def recent_cutoff(conn: psycopg.Connection, catalog_id: int, days: int = RECENT_DAYS) -> datetime:
    """Start of "recently added": ``days`` ago, or earlier if the last scan that added photos is older.

    The last scan that added photos is the newest scan job created before the newest photo row;
    catalogs filled without jobs fall back to the newest ``added_at`` (one import shares it).
    """
    row = conn.execute(
        """
        WITH newest AS (SELECT max(added_at) AS at FROM photos WHERE catalog_id = %(c)s)
        SELECT LEAST(now() - make_interval(days => %(d)s),
                     COALESCE((SELECT max(j.created_at) FROM jobs j, newest
                               WHERE j.catalog_id = %(c)s AND j.kind = 'scan' AND j.created_at <= newest.at),
                              (SELECT at FROM newest)))
        """, {"c": catalog_id, "d": days}).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


# a burst frame that is not its stack's top: the user's best, else the detector's, else the first
_STACK_HIDDEN = """NOT EXISTS (SELECT 1 FROM burst_members m WHERE m.photo_id = photos.id AND NOT (
    CASE WHEN EXISTS (SELECT 1 FROM burst_members o JOIN photos op ON op.id = o.photo_id
                      JOIN photo_decisions d ON d.catalog_id = op.catalog_id AND d.content_hash = op.content_hash
                      WHERE o.burst_id = m.burst_id AND d.decision = 'best')
         THEN EXISTS (SELECT 1 FROM photo_decisions d WHERE d.catalog_id = photos.catalog_id
                      AND d.content_hash = photos.content_hash AND d.decision = 'best')
         WHEN EXISTS (SELECT 1 FROM burst_members o WHERE o.burst_id = m.burst_id AND o.is_best) THEN m.is_best
         ELSE m.position = 1 END))"""


def _where(conn: psycopg.Connection, catalog_id: int, flt: PhotoFilter) -> tuple[sql.Composable, dict[str, Any]]:
    parts: list[sql.Composable] = [sql.SQL("catalog_id = %(catalog_id)s"), sql.SQL("trashed_at IS NULL")]
    params: dict[str, Any] = {"catalog_id": catalog_id}
    if flt.folder_id is not None:
        parts.append(sql.SQL("folder_id = %(folder_id)s"))
        params["folder_id"] = flt.folder_id
    if flt.date_from is not None:
        parts.append(sql.SQL("capture_time >= %(date_from)s"))
        params["date_from"] = datetime.combine(flt.date_from, time.min)
    if flt.date_to is not None:
        parts.append(sql.SQL("capture_time < %(date_to)s"))
        params["date_to"] = datetime.combine(flt.date_to + timedelta(days=1), time.min)
    if flt.camera_make is not None or flt.camera_model is not None:
        parts.append(sql.SQL("camera_make IS NOT DISTINCT FROM %(make)s AND camera_model IS NOT DISTINCT FROM %(model)s"))
        params["make"], params["model"] = flt.camera_make, flt.camera_model
    if flt.kind is not None:
        parts.append(sql.SQL("kind = %(kind)s"))
        params["kind"] = flt.kind
    if flt.status is StatusFilter.ERRORS:
        parts.append(sql.SQL("status = 'error'"))
    elif flt.status is StatusFilter.MISSING:
        parts.append(sql.SQL("status = 'missing'"))
    text = flt.text.strip()
    if text:      # the file name, or a tag it means ("dog" finds every breed), or a tag of the user's
        parts.append(sql.SQL("(file_name ILIKE %(text)s OR " + tags_db.tagged_with_any() + ")"))
        params.update(text=f"%{escape_like(text)}%", tag_terms=list(flt.tag_terms), tag_min=SHOW_CONFIDENCE)
    if flt.flag == "pick":
        parts.append(sql.SQL("EXISTS (SELECT 1 FROM photo_decisions d WHERE d.catalog_id = photos.catalog_id "
                             "AND d.content_hash = photos.content_hash AND d.decision IN ('pick', 'best'))"))
    elif flt.flag == "reject":
        parts.append(sql.SQL("EXISTS (SELECT 1 FROM photo_decisions d WHERE d.catalog_id = photos.catalog_id "
                             "AND d.content_hash = photos.content_hash AND d.decision = 'reject')"))
    elif flt.flag == "unflagged":
        parts.append(sql.SQL("NOT EXISTS (SELECT 1 FROM photo_decisions d WHERE d.catalog_id = photos.catalog_id "
                             "AND d.content_hash = photos.content_hash AND d.decision IS NOT NULL)"))
    if flt.min_stars is not None:
        parts.append(sql.SQL("EXISTS (SELECT 1 FROM photo_decisions d WHERE d.catalog_id = photos.catalog_id "
                             "AND d.content_hash = photos.content_hash AND d.stars >= %(min_stars)s)"))
        params["min_stars"] = flt.min_stars
    if flt.stack_bursts:
        parts.append(sql.SQL(_STACK_HIDDEN))
    if flt.burst_id is not None:
        parts.append(sql.SQL("EXISTS (SELECT 1 FROM burst_members m WHERE m.photo_id = photos.id "
                             "AND m.burst_id = %(burst_id)s)"))
        params["burst_id"] = flt.burst_id
    if flt.in_burst:
        parts.append(sql.SQL("EXISTS (SELECT 1 FROM burst_members m WHERE m.photo_id = photos.id)"))
    if flt.min_quality is not None:
        parts.append(sql.SQL("quality >= %(min_quality)s"))
        params["min_quality"] = flt.min_quality
    if flt.max_quality is not None:
        parts.append(sql.SQL("quality < %(max_quality)s"))
        params["max_quality"] = flt.max_quality
    if flt.is_recent:
        parts.append(sql.SQL("added_at >= %(recent)s"))
        params["recent"] = recent_cutoff(conn, catalog_id)
    return sql.SQL(" AND ").join(parts), params


def list_photo_ids(conn: psycopg.Connection, catalog_id: int, flt: PhotoFilter = PhotoFilter(),
                   order: SortOrder = SortOrder()) -> tuple[int, ...]:
    """Ids of the catalog's photos matching ``flt``, in grid order (one round trip).

    The ids come back as one binary ``bigint[]``: parsing it is one short C loop, where fetching
    100,000 single-column rows builds 100,000 row tuples (4× slower, and it holds the GIL that
    the GUI thread needs).
    """
    where, params = _where(conn, catalog_id, flt)
    query = sql.SQL("SELECT array_agg(id ORDER BY {}) FROM photos WHERE {}").format(
        _ORDER[(order.key, order.is_descending)], where)
    with conn.cursor(binary=True) as cur:
        row = cur.execute(query, params).fetchone()
    return tuple(row[0]) if row is not None and row[0] is not None else ()


_SUMMARY_SELECT = """
SELECT photos.id, file_name, path, folder_id, kind, status, rating, photos.content_hash,
       thumb_sizes::int[] AS thumb_sizes, width, height, capture_time, size_bytes,
       cardinality(warnings) > 0 AS has_warnings, quality AS quality_score, m.burst_id,
       CASE WHEN m.burst_id IS NULL THEN false
            WHEN EXISTS (SELECT 1 FROM burst_members o JOIN photos op ON op.id = o.photo_id
                         JOIN photo_decisions d ON d.catalog_id = op.catalog_id AND d.content_hash = op.content_hash
                         WHERE o.burst_id = m.burst_id AND d.decision = 'best')
            THEN EXISTS (SELECT 1 FROM photo_decisions d WHERE d.catalog_id = photos.catalog_id
                         AND d.content_hash = photos.content_hash AND d.decision = 'best')
            ELSE m.is_best END AS is_burst_best,
       fd.decision, fd.stars, (SELECT b.size FROM bursts b WHERE b.id = m.burst_id) AS burst_size
FROM photos LEFT JOIN burst_members m ON m.photo_id = photos.id
LEFT JOIN photo_decisions fd ON fd.catalog_id = photos.catalog_id AND fd.content_hash = photos.content_hash
WHERE photos.id = ANY(%s)
"""


def _summary_row(cursor: Any) -> Any:
    make = class_row(PhotoSummary)(cursor)

    def convert(values: Sequence[Any]) -> PhotoSummary:
        vals = list(values)
        vals[4], vals[5] = _KINDS[vals[4]], _STATUSES[vals[5]]
        vals[8] = tuple(vals[8] or ())
        return make(vals)

    return convert


def fetch_summaries(conn: psycopg.Connection, ids: Sequence[int]) -> dict[int, PhotoSummary]:
    """Grid rows for ``ids`` (a page), keyed by id; ids that no longer exist are absent."""
    with conn.cursor(row_factory=_summary_row) as cur:
        rows = cur.execute(_SUMMARY_SELECT, (list(ids),)).fetchall()
    return {r.id: r for r in rows}


_DETAILS_SELECT = """
SELECT p.id, p.catalog_id, p.folder_id, f.path AS folder_path, p.path, p.path_bytes, p.file_name,
       p.size_bytes, p.mtime_ns, p.content_hash, p.file_type, p.kind, p.format, p.width, p.height,
       p.capture_time, p.capture_offset_min, p.date_source, p.date_confidence, p.camera_make,
       p.camera_model, p.lens, p.iso, p.aperture, p.shutter_s, p.focal_length_mm, p.gps_lat, p.gps_lon,
       p.gps_alt, p.orientation, p.rating, p.keywords, p.duration_s, p.status, p.error, p.error_reason,
       p.warnings, p.thumb_sizes::int[] AS thumb_sizes, p.added_at, p.analysed_at
FROM photos p LEFT JOIN catalog_folders f ON f.id = p.folder_id
WHERE p.id = %s
"""
_TUPLE_FIELDS = ("keywords", "warnings", "thumb_sizes")


def _details_row(cursor: Any) -> Any:
    make = class_row(PhotoDetails)(cursor)
    names = [c.name for c in cursor.description or ()]
    positions = [names.index(f) for f in _TUPLE_FIELDS]
    kind, status = names.index("kind"), names.index("status")

    def convert(values: Sequence[Any]) -> PhotoDetails:
        vals = list(values)
        for i in positions:
            vals[i] = tuple(vals[i] or ())
        vals[kind], vals[status] = _KINDS[vals[kind]], _STATUSES[vals[status]]
        return make(vals)

    return convert


def photo_details(conn: psycopg.Connection, photo_id: int) -> PhotoDetails | None:
    with conn.cursor(row_factory=_details_row) as cur:
        return cur.execute(_DETAILS_SELECT, (photo_id,)).fetchone()  # type: ignore[no-any-return]


def photo_paths(conn: psycopg.Connection, ids: Sequence[int]) -> dict[int, str]:
    """Display paths of ``ids`` (for copying), keyed by id."""
    rows = conn.execute("SELECT id, path FROM photos WHERE id = ANY(%s)", (list(ids),)).fetchall()
    return {r[0]: r[1] for r in rows}


def folder_ids_of(conn: psycopg.Connection, ids: Sequence[int]) -> tuple[int, ...]:
    """The catalog folders holding ``ids`` (what a rescan of those photos must scan)."""
    rows = conn.execute("SELECT DISTINCT folder_id FROM photos WHERE id = ANY(%s) AND folder_id IS NOT NULL "
                        "ORDER BY 1", (list(ids),)).fetchall()
    return tuple(r[0] for r in rows)


def filter_options(conn: psycopg.Connection, catalog_id: int) -> FilterOptions:
    folders = conn.execute(
        "SELECT f.id, f.path, (SELECT count(*) FROM photos p WHERE p.folder_id = f.id)::int "
        "FROM catalog_folders f WHERE f.catalog_id = %s ORDER BY f.path", (catalog_id,)).fetchall()
    cameras = conn.execute(
        "SELECT camera_make, camera_model, count(*)::int FROM photos WHERE catalog_id = %s "
        "AND (camera_make IS NOT NULL OR camera_model IS NOT NULL) "
        "GROUP BY 1, 2 ORDER BY lower(coalesce(camera_make, '')), lower(coalesce(camera_model, ''))",
        (catalog_id,)).fetchall()
    kinds = conn.execute("SELECT DISTINCT kind FROM photos WHERE catalog_id = %s AND kind IS NOT NULL ORDER BY 1",
                         (catalog_id,)).fetchall()
    span = conn.execute("SELECT min(capture_time), max(capture_time), count(*)::int FROM photos "
                        "WHERE catalog_id = %s", (catalog_id,)).fetchone()
    assert span is not None
    return FilterOptions(
        folders=tuple(FolderOption(*r) for r in folders),
        cameras=tuple(CameraOption(*r) for r in cameras),
        kinds=tuple(MediaKind(r[0]) for r in kinds),
        first_date=span[0].date() if span[0] else None,
        last_date=span[1].date() if span[1] else None,
        total=span[2],
    )
