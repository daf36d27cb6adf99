"""Tags and faces in the catalog (psycopg only here; any non-GUI thread).

``photo_tags`` holds tags per (catalog, content hash): the tags job's ('model', 'heuristic') and the
user's ('user'); ``photo_tagging`` which contents the job has looked at by which version;
``photo_faces`` the face boxes it found.  The job replaces only its own rows; a user's rows are
never touched by it, and a rejected user row hides the job's tag of that name.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from lumina_desktop.core.paths import path_from_db
from lumina_desktop.core.photo_tags import FaceBox, PhotoTag, TagListRow, TagOrigin

JOB_SOURCES = ("model", "heuristic")


@dataclass(frozen=True, slots=True)
class TagWork:
    """A content to tag: one readable path, every photo with it, and what the catalog knows."""

    content_hash: str
    path: str
    photo_ids: tuple[int, ...]
    file_format: str | None
    width: int | None
    height: int | None
    camera_make: str | None
    iso: int | None
    shutter_s: float | None


@dataclass(frozen=True, slots=True)
class TagResult:
    """What the job found for one content."""

    content_hash: str
    tags: tuple[PhotoTag, ...]
    faces: tuple[FaceBox, ...] = ()


# a tag the user rejected hides the job's tag of that name
_VISIBLE = ("NOT EXISTS (SELECT 1 FROM photo_tags r WHERE r.catalog_id = t.catalog_id AND "
            "r.content_hash = t.content_hash AND r.tag = t.tag AND r.is_rejected) AND NOT t.is_rejected")


def tagged_contents() -> str:
    """A query of the contents of catalog ``%(catalog_id)s`` that carry one of the tags
    ``%(tag_terms)s``, or a tag of the user's containing ``%(text)s`` (a LIKE pattern) — visible:
    not rejected, and the user's or at least ``%(tag_min)s`` sure.  One place for that rule."""
    return ("SELECT t.content_hash FROM photo_tags t WHERE t.catalog_id = %(catalog_id)s AND "
            "(t.tag = ANY(%(tag_terms)s) OR (t.source = 'user' AND t.tag ILIKE %(text)s)) AND " + _VISIBLE +
            " AND (t.source = 'user' OR t.confidence >= %(tag_min)s)")


def photos_to_tag(conn: psycopg.Connection, catalog_id: int, version: int, *,
                  photo_ids: Sequence[int] | None = None, everything: bool = False) -> list[TagWork]:
    """The catalog's analysed pictures not tagged by this version (``everything``: all of them),
    optionally among ``photo_ids``, one per content hash, oldest first."""
    where = ["p.catalog_id = %(c)s", "p.status = 'ok'", "p.content_hash IS NOT NULL", "p.kind IN ('image', 'raw')",
             "p.trashed_at IS NULL"]
    if not everything:
        where.append("NOT EXISTS (SELECT 1 FROM photo_tagging g WHERE g.catalog_id = p.catalog_id "
                     "AND g.content_hash = p.content_hash AND g.version = %(v)s)")
    if photo_ids is not None:
        where.append("p.id = ANY(%(ids)s)")
    rows = conn.execute(
        "SELECT p.content_hash, (array_agg(p.path ORDER BY p.id))[1], (array_agg(p.path_bytes ORDER BY p.id))[1], "
        "       array_agg(p.id ORDER BY p.id), min(p.format), max(p.width), max(p.height), min(p.camera_make), "
        "       min(p.iso), min(p.shutter_s) "
        "FROM photos p WHERE " + " AND ".join(where) +
        " GROUP BY p.content_hash ORDER BY min(p.capture_time), min(p.id)",
        {"c": catalog_id, "v": version, "ids": list(photo_ids or ())}).fetchall()
    return [TagWork(r[0], path_from_db(r[1], r[2]), tuple(r[3]), r[4], r[5], r[6], r[7], r[8], r[9]) for r in rows]


def store_results(conn: psycopg.Connection, catalog_id: int, version: int, results: Sequence[TagResult]) -> list[int]:
    """Replace the job's tags and faces of these contents (the user's tags stay as they are) and
    record them as tagged by ``version``; returns the photos of the catalog with those contents."""
    if not results:
        return []
    hashes = [r.content_hash for r in results]
    with conn.cursor() as cur:
        cur.execute("DELETE FROM photo_tags WHERE catalog_id = %s AND content_hash = ANY(%s) AND source = ANY(%s)",
                    (catalog_id, hashes, list(JOB_SOURCES)))
        cur.execute("DELETE FROM photo_faces WHERE catalog_id = %s AND content_hash = ANY(%s)", (catalog_id, hashes))
        tag_rows = [(catalog_id, r.content_hash, t.tag, t.source.value, t.confidence)
                    for r in results for t in r.tags if t.source is not TagOrigin.USER]
        if tag_rows:
            cur.executemany("INSERT INTO photo_tags (catalog_id, content_hash, tag, source, confidence) "
                            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (catalog_id, content_hash, tag, source) "
                            "DO UPDATE SET confidence = greatest(photo_tags.confidence, EXCLUDED.confidence)",
                            tag_rows)
        face_rows = [(catalog_id, r.content_hash, i, f.x, f.y, f.w, f.h, f.confidence, f.detector)
                     for r in results for i, f in enumerate(r.faces)]
        if face_rows:
            cur.executemany("INSERT INTO photo_faces (catalog_id, content_hash, face_no, x, y, w, h, confidence, "
                            "detector) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", face_rows)
        cur.executemany("INSERT INTO photo_tagging (catalog_id, content_hash, version, faces) VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT (catalog_id, content_hash) DO UPDATE SET version = EXCLUDED.version, "
                        "faces = EXCLUDED.faces, tagged_at = now()",
                        [(catalog_id, r.content_hash, version, len(r.faces)) for r in results])
        cur.execute("SELECT id FROM photos WHERE catalog_id = %s AND content_hash = ANY(%s) ORDER BY id",
                    (catalog_id, hashes))
        return [r[0] for r in cur.fetchall()]


def tags_of_content(conn: psycopg.Connection, catalog_id: int, content_hash: str, *,
                    min_confidence: float = 0.0) -> list[PhotoTag]:
    """A content's visible tags (the user's and those at or above ``min_confidence``), surest first;
    a tag set by several sources is given once, by the user's or else the surest source."""
    rows = conn.execute(
        "SELECT DISTINCT ON (t.tag) t.tag, t.confidence, t.source FROM photo_tags t "
        "WHERE t.catalog_id = %s AND t.content_hash = %s AND " + _VISIBLE +
        " AND (t.source = 'user' OR t.confidence >= %s) "
        "ORDER BY t.tag, (t.source = 'user') DESC, t.confidence DESC",
        (catalog_id, content_hash, min_confidence)).fetchall()
    tags = [PhotoTag(r[0], r[1], TagOrigin(r[2])) for r in rows]
    return sorted(tags, key=lambda t: (t.source is not TagOrigin.USER, -t.confidence, t.tag))


def content_of(conn: psycopg.Connection, photo_id: int) -> tuple[int, str] | None:
    """(catalog id, content hash) of a photo, if it was analysed."""
    row = conn.execute("SELECT catalog_id, content_hash FROM photos WHERE id = %s AND content_hash IS NOT NULL",
                       (photo_id,)).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def contents_of(conn: psycopg.Connection, photo_ids: Sequence[int]) -> list[tuple[int, str]]:
    """Distinct (catalog id, content hash) of photos."""
    rows = conn.execute("SELECT DISTINCT catalog_id, content_hash FROM photos WHERE id = ANY(%s) "
                        "AND content_hash IS NOT NULL", (list(photo_ids),)).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]


def list_tags(conn: psycopg.Connection, catalog_id: int, *, min_confidence: float = 0.0) -> list[TagListRow]:
    """One row per visible tag of every photo file of the catalog, by path, then surest first."""
    rows = conn.execute(
        "SELECT p.id, p.path, p.path_bytes, t.tag, t.confidence, t.source FROM photo_tags t "
        "JOIN photos p ON p.catalog_id = t.catalog_id AND p.content_hash = t.content_hash "
        "WHERE t.catalog_id = %s AND p.status = 'ok' AND p.trashed_at IS NULL AND " + _VISIBLE +
        " AND (t.source = 'user' OR t.confidence >= %s) "
        "ORDER BY p.path, t.confidence DESC, t.tag, t.source",
        (catalog_id, min_confidence)).fetchall()
    return [TagListRow(r[0], path_from_db(r[1], r[2]), r[3], float(r[4]), TagOrigin(r[5])) for r in rows]


def photos_with_any(conn: psycopg.Connection, catalog_id: int, tags: Sequence[str], *,
                    min_confidence: float = 0.0) -> list[int]:
    """Ids of the catalog's photos with any of ``tags`` (visible, at or above ``min_confidence``
    unless the user's), in capture order."""
    if not tags:
        return []
    rows = conn.execute(
        "SELECT p.id FROM photos p WHERE p.catalog_id = %(c)s AND p.status = 'ok' AND p.trashed_at IS NULL "
        "AND EXISTS (SELECT 1 FROM photo_tags t WHERE t.catalog_id = p.catalog_id AND "
        "t.content_hash = p.content_hash AND t.tag = ANY(%(tags)s) AND " + _VISIBLE +
        " AND (t.source = 'user' OR t.confidence >= %(m)s)) ORDER BY p.capture_time, p.id",
        {"c": catalog_id, "tags": list(tags), "m": min_confidence}).fetchall()
    return [r[0] for r in rows]


def tag_counts(conn: psycopg.Connection, catalog_id: int, *, min_confidence: float = 0.0) -> dict[str, int]:
    """How many photos carry each visible tag."""
    rows = conn.execute(
        "SELECT t.tag, count(DISTINCT p.id) FROM photo_tags t JOIN photos p ON p.catalog_id = t.catalog_id "
        "AND p.content_hash = t.content_hash WHERE t.catalog_id = %s AND p.status = 'ok' AND p.trashed_at IS NULL "
        "AND " + _VISIBLE + " AND (t.source = 'user' OR t.confidence >= %s) GROUP BY t.tag",
        (catalog_id, min_confidence)).fetchall()
    return {r[0]: int(r[1]) for r in rows}


def add_user_tag(conn: psycopg.Connection, catalog_id: int, content_hash: str, tag: str) -> bool:
    """The user tags a content (a rejection of that tag is lifted); True if it changed anything."""
    cur = conn.execute(
        "INSERT INTO photo_tags (catalog_id, content_hash, tag, source, confidence) VALUES (%s, %s, %s, 'user', 1) "
        "ON CONFLICT (catalog_id, content_hash, tag, source) DO UPDATE SET is_rejected = false, tagged_at = now() "
        "WHERE photo_tags.is_rejected", (catalog_id, content_hash, tag))
    return cur.rowcount > 0


def remove_tag(conn: psycopg.Connection, catalog_id: int, content_hash: str, tag: str) -> bool:
    """The user removes a tag from a content: their own is deleted, and the job's tag of that name
    (if any) is hidden by a rejection that reruns keep.  True if it changed anything."""
    changed = conn.execute("DELETE FROM photo_tags WHERE catalog_id = %s AND content_hash = %s AND tag = %s "
                           "AND source = 'user' AND NOT is_rejected", (catalog_id, content_hash, tag)).rowcount > 0
    has_job_tag = conn.execute("SELECT 1 FROM photo_tags WHERE catalog_id = %s AND content_hash = %s AND tag = %s "
                               "AND source = ANY(%s)", (catalog_id, content_hash, tag, list(JOB_SOURCES))).fetchone()
    if has_job_tag:
        cur = conn.execute(
            "INSERT INTO photo_tags (catalog_id, content_hash, tag, source, confidence, is_rejected) "
            "VALUES (%s, %s, %s, 'user', 1, true) ON CONFLICT DO NOTHING", (catalog_id, content_hash, tag))
        changed = changed or cur.rowcount > 0
    return changed


def faces_of(conn: psycopg.Connection, catalog_id: int, content_hash: str) -> list[FaceBox]:
    rows = conn.execute("SELECT x, y, w, h, confidence, detector FROM photo_faces WHERE catalog_id = %s "
                        "AND content_hash = %s ORDER BY face_no", (catalog_id, content_hash)).fetchall()
    return [FaceBox(float(r[0]), float(r[1]), float(r[2]), float(r[3]), float(r[4]), r[5]) for r in rows]


def photos_of_contents(conn: psycopg.Connection, catalog_id: int, content_hashes: Sequence[str]) -> list[int]:
    rows = conn.execute("SELECT id FROM photos WHERE catalog_id = %s AND content_hash = ANY(%s) ORDER BY id",
                        (catalog_id, list(content_hashes))).fetchall()
    return [r[0] for r in rows]


def tagging_counts(conn: psycopg.Connection, catalog_id: int, version: int) -> tuple[int, int]:
    """(contents tagged by this version, analysed picture contents of the catalog)."""
    row = conn.execute(
        "SELECT count(g.content_hash) FILTER (WHERE g.version = %(v)s), count(*) FROM "
        "(SELECT DISTINCT content_hash FROM photos WHERE catalog_id = %(c)s AND status = 'ok' "
        " AND content_hash IS NOT NULL AND kind IN ('image', 'raw')) p "
        "LEFT JOIN photo_tagging g ON g.catalog_id = %(c)s AND g.content_hash = p.content_hash",
        {"c": catalog_id, "v": version}).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


class TagsRepository:
    """What the tags kind reads and writes, over a connection in a transaction (``tx``)."""

    def photos_to_tag(self, tx: psycopg.Connection, catalog_id: int, version: int, *,
                      photo_ids: Sequence[int] | None = None, everything: bool = False) -> list[TagWork]:
        return photos_to_tag(tx, catalog_id, version, photo_ids=photo_ids, everything=everything)

    def store_results(self, tx: psycopg.Connection, catalog_id: int, version: int,
                      results: Sequence[TagResult]) -> list[int]:
        return store_results(tx, catalog_id, version, results)
