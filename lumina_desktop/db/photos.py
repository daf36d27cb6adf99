"""Photo rows: what the scan job reads and writes (psycopg only here; any non-GUI thread)."""
from __future__ import annotations

from typing import Any, Iterable, NamedTuple, Sequence

import psycopg

from lumina_desktop.core.jobs import JobState
from lumina_desktop.core.media import FINGERPRINT_VERSION, FailureReason, IngestResult, MediaError
from lumina_desktop.db.operations import put_back_outside
from lumina_desktop.db.rows import rows_of
from lumina_desktop.core.models import PhotoStatus


class KnownFile(NamedTuple):
    """What the catalog knows of a file: a tuple, as a rescan builds one per catalogued file (in
    about half the time a frozen dataclass takes)."""

    id: int
    size: int | None
    mtime_ns: int | None
    status: PhotoStatus
    fingerprint_version: int | None = None  # None: no fingerprint (video, error, not analysed)
    is_trashed: bool = False                 # moved to the trash by Lumina (hidden from views)

    @property
    def needs_refresh(self) -> bool:
        """Analysed by an older fingerprint chain: re-analyse even if the file is unchanged."""
        return self.fingerprint_version is not None and self.fingerprint_version < FINGERPRINT_VERSION


def known_files(conn: psycopg.Connection, catalog_id: int, folder_ids: Sequence[int]) -> dict[str, KnownFile]:
    """path → what the catalog knows, for the photos of these folders."""
    cur = conn.execute(
        "SELECT p.path, p.id, p.size_bytes, p.mtime_ns, p.status, f.version, p.trashed_at IS NOT NULL FROM photos p "
        "LEFT JOIN photo_fingerprints f ON f.photo_id = p.id "
        "WHERE p.catalog_id = %s AND p.folder_id = ANY(%s)",
        (catalog_id, list(folder_ids)))
    status = _STATUS     # one dict lookup, not an enum call per row
    return {path: KnownFile(i, size, mtime, status[st], version, trashed)
            for path, i, size, mtime, st, version, trashed in rows_of(cur)}   # (a million: not one fetch)


_STATUS = {s.value: s for s in PhotoStatus}


def insert_placeholders(conn: psycopg.Connection, catalog_id: int,
                        rows: Iterable[tuple[int, str, bytes | None, str, int, int]]) -> None:
    """New files found by discovery: (folder_id, path, path_bytes, file_name, size, mtime_ns), status 'new'."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO photos (catalog_id, folder_id, path, path_bytes, file_name, size_bytes, mtime_ns, status) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 'new') ON CONFLICT (catalog_id, path) DO NOTHING",
            [(catalog_id, *r) for r in rows])


def mark_missing(conn: psycopg.Connection, photo_ids: Sequence[int]) -> None:
    conn.execute("UPDATE photos SET status = 'missing', updated_at = now() WHERE id = ANY(%s) "
                 "AND status <> 'missing'", (list(photo_ids),))


def mark_present(conn: psycopg.Connection, photo_ids: Sequence[int]) -> None:
    """Files seen at their paths again: missing ones came back; trashed ones were put back outside
    Lumina (the desktop's Restore, a move by hand): they show again and their journal entries say
    so (undo has nothing left to do for them)."""
    ids = list(photo_ids)
    conn.execute("UPDATE photos SET status = CASE WHEN content_hash IS NULL THEN 'new' ELSE 'ok' END, "
                 "trashed_at = NULL, updated_at = now() WHERE id = ANY(%s) "
                 "AND (status = 'missing' OR trashed_at IS NOT NULL)", (ids,))
    put_back_outside(conn, ids)


_FIELDS = ("size_bytes", "mtime_ns", "content_hash", "image_data_hash", "file_type", "kind", "format",
           "width", "height", "capture_time", "capture_offset_min", "date_source", "date_confidence",
           "camera_make", "camera_model", "body_serial", "lens", "iso", "aperture", "shutter_s",
           "focal_length_mm", "gps_lat", "gps_lon", "gps_alt", "orientation", "rating", "keywords",
           "duration_s", "warnings", "thumb_sizes", "burst_uuid", "exposure_bias")


def _values(res: IngestResult, mtime_ns: int, thumb_sizes: Sequence[int]) -> dict[str, Any]:
    m = res.metadata
    return {
        "size_bytes": res.identity.size, "mtime_ns": mtime_ns, "content_hash": res.identity.content_hash,
        "image_data_hash": res.identity.image_data_hash, "file_type": res.file_type, "kind": res.kind.value,
        "format": res.format, "width": m.width, "height": m.height, "capture_time": m.capture_time,
        "capture_offset_min": m.utc_offset_minutes, "date_source": m.date_source,
        "date_confidence": m.date_confidence, "camera_make": m.make, "camera_model": m.model,
        "body_serial": m.body_serial, "lens": m.lens, "iso": m.iso, "aperture": m.aperture,
        "shutter_s": m.shutter_s, "focal_length_mm": m.focal_length_mm, "gps_lat": m.gps_lat,
        "gps_lon": m.gps_lon, "gps_alt": m.gps_alt, "orientation": m.orientation, "rating": m.rating,
        "keywords": list(m.keywords), "duration_s": m.duration_s, "warnings": list(res.warnings),
        "thumb_sizes": list(thumb_sizes), "burst_uuid": m.burst_uuid, "exposure_bias": m.exposure_bias,
    }


# a new file's content among the catalog's missing photos (a move): photos_missing_content_idx
MISSING_BY_CONTENT_SQL = ("SELECT id, content_hash FROM photos WHERE catalog_id = %(catalog_id)s "
                          "AND status = 'missing' AND content_hash = ANY(%(hashes)s) ORDER BY id")


def store_ingest(conn: psycopg.Connection, catalog_id: int, folder_id: int, path: str, path_bytes: bytes | None,
                 file_name: str, res: IngestResult, mtime_ns: int, thumb_sizes: Sequence[int]) -> tuple[str, int]:
    """Upsert one analysed file; returns the outcome and the photo id.  Outcomes: 'new' (its
    placeholder row from discovery filled in), 'added' (a row inserted: no placeholder),
    'changed', or 'moved'.

    A file at a new path whose content matches a catalogued photo that went missing is a move:
    that photo's row (id, tags, decisions) takes the new path and the placeholder row goes.
    """
    values = _values(res, mtime_ns, thumb_sizes)
    row = conn.execute("SELECT id, status, content_hash FROM photos WHERE catalog_id = %s AND path = %s",
                       (catalog_id, path)).fetchone()
    outcome = "changed" if row and row[1] != PhotoStatus.NEW else "new"
    target_id = row[0] if row else None
    if outcome == "new":
        moved = conn.execute(
            "SELECT id FROM photos WHERE catalog_id = %s AND content_hash = %s AND status = 'missing' "
            "ORDER BY id LIMIT 1", (catalog_id, res.identity.content_hash)).fetchone()
        if moved:
            if target_id is not None:
                conn.execute("DELETE FROM photos WHERE id = %s", (target_id,))
            target_id = moved[0]
            outcome = "moved"
    sets = ", ".join(f"{f} = %({f})s" for f in _FIELDS)
    params = {**values, "folder_id": folder_id, "path": path, "path_bytes": path_bytes, "file_name": file_name,
              "catalog_id": catalog_id}
    if target_id is None:
        cols = ", ".join(("catalog_id", "folder_id", "path", "path_bytes", "file_name", *_FIELDS))
        vals = ", ".join(f"%({c})s" for c in ("catalog_id", "folder_id", "path", "path_bytes", "file_name", *_FIELDS))
        new = conn.execute(f"INSERT INTO photos ({cols}, status, analysed_at) VALUES ({vals}, 'ok', now()) "
                           f"RETURNING id", params).fetchone()
        assert new is not None
        target_id = new[0]
        outcome = "added"    # no placeholder from discovery: a new row
    else:
        conn.execute(f"UPDATE photos SET {sets}, folder_id = %(folder_id)s, path = %(path)s, "
                     f"path_bytes = %(path_bytes)s, file_name = %(file_name)s, status = 'ok', error = NULL, "
                     f"error_reason = NULL, analysed_at = now(), updated_at = now() WHERE id = %(id)s",
                     {**params, "id": target_id})
    p = res.perceptual
    if p is not None:
        conn.execute(
            "INSERT INTO photo_fingerprints (photo_id, content_hash, phash, dhash, grey, grey_size, aspect, version) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (photo_id) DO UPDATE SET "
            "content_hash = EXCLUDED.content_hash, phash = EXCLUDED.phash, dhash = EXCLUDED.dhash, "
            "grey = EXCLUDED.grey, grey_size = EXCLUDED.grey_size, aspect = EXCLUDED.aspect, "
            "version = EXCLUDED.version",
            (target_id, res.identity.content_hash, p.phash, p.dhash, p.grey, p.grey_size, p.aspect,
             FINGERPRINT_VERSION))
    else:
        conn.execute("DELETE FROM photo_fingerprints WHERE photo_id = %s", (target_id,))
    return outcome, int(target_id)


IngestEntry = tuple[int, str, "bytes | None", str, IngestResult, int, Sequence[int]]
"""(folder id, path, exact path bytes, file name, analysis, mtime_ns, thumbnail sizes)."""

_FINGERPRINT_UPSERT = (
    "INSERT INTO photo_fingerprints (photo_id, content_hash, phash, dhash, grey, grey_size, aspect, version) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (photo_id) DO UPDATE SET "
    "content_hash = EXCLUDED.content_hash, phash = EXCLUDED.phash, dhash = EXCLUDED.dhash, "
    "grey = EXCLUDED.grey, grey_size = EXCLUDED.grey_size, aspect = EXCLUDED.aspect, version = EXCLUDED.version")


def store_ingest_many(conn: psycopg.Connection, catalog_id: int, entries: Sequence[IngestEntry]) -> list[tuple[str, int]]:
    """:func:`store_ingest` for a whole batch in a few round trips (one lookup by path, one for
    moves, then pipelined updates and fingerprint upserts); same outcomes, in ``entries`` order.

    A batch where a photo found moved is also another entry's row by path (a file back at its
    old path and a copy elsewhere, in one batch) is stored one entry at a time, as before.
    """
    if not entries:
        return []
    paths = [e[1] for e in entries]
    found = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT path, id, status FROM photos WHERE catalog_id = %s AND path = ANY(%s)", (catalog_id, paths))}
    new_hashes = sorted({e[4].identity.content_hash for e in entries
                         if e[1] not in found or found[e[1]][1] == PhotoStatus.NEW})
    missing: dict[str, list[int]] = {}
    if new_hashes:
        for pid, h in conn.execute(MISSING_BY_CONTENT_SQL, {"catalog_id": catalog_id, "hashes": new_hashes}):
            missing.setdefault(h, []).append(pid)
    plan: list[tuple[str, int | None, int | None]] = []   # outcome, target id, placeholder to delete
    for folder_id, path, _pb, _fn, res, _m, _s in entries:
        row = found.get(path)
        if row is not None and row[1] != PhotoStatus.NEW:
            plan.append(("changed", row[0], None))
            continue
        candidates = missing.get(res.identity.content_hash)
        if candidates:
            plan.append(("moved", candidates.pop(0), row[0] if row else None))
        else:
            plan.append(("new" if row else "added", row[0] if row else None, None))
    targets = [t for _, t, _ in plan if t is not None]
    if len(set(targets)) != len(targets):     # a moved row is also another entry's row: one by one
        return [store_ingest(conn, catalog_id, *e) for e in entries]
    with conn.cursor() as cur:
        gone = [d for _, _, d in plan if d is not None]
        if gone:
            cur.execute("DELETE FROM photos WHERE id = ANY(%s)", (gone,))
        out: list[tuple[str, int]] = []
        updates: list[dict[str, Any]] = []
        cols = ("catalog_id", "folder_id", "path", "path_bytes", "file_name", *_FIELDS)
        for (outcome, target, _), (folder_id, path, path_bytes, file_name, res, mtime_ns, sizes) in zip(plan, entries):
            params = {**_values(res, mtime_ns, sizes), "folder_id": folder_id, "path": path,
                      "path_bytes": path_bytes, "file_name": file_name, "catalog_id": catalog_id}
            if target is None:      # no placeholder from discovery: a new row
                row = cur.execute(f"INSERT INTO photos ({', '.join(cols)}, status, analysed_at) "
                                  f"VALUES ({', '.join(f'%({c})s' for c in cols)}, 'ok', now()) RETURNING id",
                                  params).fetchone()
                assert row is not None
                target = int(row[0])
            else:
                updates.append({**params, "id": target})
            out.append((outcome, int(target)))
        if updates:
            sets = ", ".join(f"{f} = %({f})s" for f in _FIELDS)
            cur.executemany(f"UPDATE photos SET {sets}, folder_id = %(folder_id)s, path = %(path)s, "
                            f"path_bytes = %(path_bytes)s, file_name = %(file_name)s, status = 'ok', error = NULL, "
                            f"error_reason = NULL, analysed_at = now(), updated_at = now() WHERE id = %(id)s", updates)
        prints = [(pid, e[4].identity.content_hash, p.phash, p.dhash, p.grey, p.grey_size, p.aspect, FINGERPRINT_VERSION)
                  for (_, pid), e in zip(out, entries) if (p := e[4].perceptual) is not None]
        if prints:
            cur.executemany(_FINGERPRINT_UPSERT, prints)
        without = [pid for (_, pid), e in zip(out, entries) if e[4].perceptual is None]
        if without:
            cur.execute("DELETE FROM photo_fingerprints WHERE photo_id = ANY(%s)", (without,))
    return out


def store_failure(conn: psycopg.Connection, catalog_id: int, path: str, err: MediaError | str,
                  reason: str) -> int | None:
    """A file that could not be ingested: its row keeps the reason (a vanished file is 'missing')."""
    status = PhotoStatus.MISSING if reason == FailureReason.VANISHED else PhotoStatus.ERROR
    row = conn.execute("UPDATE photos SET status = %s, error = %s, error_reason = %s, updated_at = now() "
                       "WHERE catalog_id = %s AND path = %s RETURNING id",
                       (status, str(err), reason, catalog_id, path)).fetchone()
    return int(row[0]) if row else None


def lock_folders(conn: psycopg.Connection, folder_ids: Sequence[int]) -> set[int]:
    """The folders still in the catalog, locked against removal until the caller commits."""
    rows = conn.execute("SELECT id FROM catalog_folders WHERE id = ANY(%s) FOR KEY SHARE",
                        (list(folder_ids),)).fetchall()
    return {int(r[0]) for r in rows}


def touch_folders(conn: psycopg.Connection, folder_ids: Sequence[int]) -> None:
    conn.execute("UPDATE catalog_folders SET last_scan_at = now() WHERE id = ANY(%s)", (list(folder_ids),))


def count_status(conn: psycopg.Connection, catalog_id: int) -> dict[PhotoStatus, int]:
    rows = conn.execute("SELECT status, count(*) FROM photos WHERE catalog_id = %s AND trashed_at IS NULL GROUP BY status",
                        (catalog_id,)).fetchall()
    return {PhotoStatus(r[0]): int(r[1]) for r in rows}


SCAN_LOCK_NS = 0x4C53
"""The first key of the advisory locks that serialise scan discoveries per folder ("LS")."""


def try_lock_folder_scan(conn: psycopg.Connection, folder_id: int) -> bool:
    """Take the folder's scan-discovery lock until the caller's transaction ends, if free."""
    row = conn.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (SCAN_LOCK_NS, folder_id)).fetchone()
    return bool(row and row[0])


def scans_in_progress(conn: psycopg.Connection, catalog_id: int, folder_ids: Sequence[int],
                      job_id: int, kind: str = "scan") -> list[int]:
    """Other scans of the catalog, past their discovery and run by a live process, that cover any
    of these folders (a scan whose ``folder_ids`` is empty covers them all)."""
    from lumina_desktop.db.jobs import _LIVE, LIVENESS_LOCK_NS

    rows = conn.execute(
        "SELECT j.id FROM jobs j WHERE j.kind = %(kind)s AND j.catalog_id = %(c)s AND j.id <> %(me)s "
        "AND j.discovered AND j.state = ANY(%(owned)s) "
        f"AND j.owner IN ({_LIVE}) "
        "AND (coalesce(jsonb_array_length(j.params -> 'folder_ids'), 0) = 0 OR EXISTS ("
        "     SELECT 1 FROM jsonb_array_elements_text(j.params -> 'folder_ids') f "
        "     WHERE f::bigint = ANY(%(f)s))) ORDER BY j.id",
        {"kind": kind, "c": catalog_id, "me": job_id, "f": list(folder_ids), "ns": LIVENESS_LOCK_NS,
         "owned": [JobState.RUNNING.value, JobState.CANCELLING.value]}).fetchall()
    return [int(r[0]) for r in rows]


def refresh_failed_stat(conn: psycopg.Connection, catalog_id: int, path: str, size: int, mtime_ns: int) -> None:
    """A file that failed has this size and mtime now (it changed during the scan): the row says so,
    so the next scan neither trusts a stale size nor re-reads an unchanged broken file."""
    conn.execute("UPDATE photos SET size_bytes = %s, mtime_ns = %s WHERE catalog_id = %s AND path = %s",
                 (size, mtime_ns, catalog_id, path))


class ScanRepository:
    """What the scan kind reads and writes, over a connection in a transaction (``tx``)."""

    def list_folders(self, tx: psycopg.Connection, catalog_id: int) -> list[Any]:
        from lumina_desktop.db.catalogs import list_folders

        return list_folders(tx, catalog_id, counted=False)   # (ids and paths: counting reads every photo)

    def lock_folders(self, tx: psycopg.Connection, folder_ids: Sequence[int]) -> set[int]:
        return lock_folders(tx, folder_ids)

    def known_files(self, tx: psycopg.Connection, catalog_id: int, folder_ids: Sequence[int]) -> dict[str, KnownFile]:
        return known_files(tx, catalog_id, folder_ids)

    def insert_placeholders(self, tx: psycopg.Connection, catalog_id: int,
                            rows: Iterable[tuple[int, str, bytes | None, str, int, int]]) -> None:
        insert_placeholders(tx, catalog_id, rows)

    def mark_missing(self, tx: psycopg.Connection, photo_ids: Sequence[int]) -> None:
        mark_missing(tx, photo_ids)

    def mark_present(self, tx: psycopg.Connection, photo_ids: Sequence[int]) -> None:
        mark_present(tx, photo_ids)

    def store_ingest(self, tx: psycopg.Connection, catalog_id: int, folder_id: int, path: str,
                     path_bytes: bytes | None, file_name: str, res: IngestResult, mtime_ns: int,
                     thumb_sizes: Sequence[int]) -> tuple[str, int]:
        return store_ingest(tx, catalog_id, folder_id, path, path_bytes, file_name, res, mtime_ns, thumb_sizes)

    def store_ingest_many(self, tx: psycopg.Connection, catalog_id: int,
                          entries: Sequence[IngestEntry]) -> list[tuple[str, int]]:
        return store_ingest_many(tx, catalog_id, entries)

    def store_failure(self, tx: psycopg.Connection, catalog_id: int, path: str, err: MediaError | str,
                      reason: str) -> int | None:
        return store_failure(tx, catalog_id, path, err, reason)

    def touch_folders(self, tx: psycopg.Connection, folder_ids: Sequence[int]) -> None:
        touch_folders(tx, folder_ids)

    def try_lock_folder_scan(self, tx: psycopg.Connection, folder_id: int) -> bool:
        return try_lock_folder_scan(tx, folder_id)

    def scans_in_progress(self, tx: psycopg.Connection, catalog_id: int, folder_ids: Sequence[int],
                          job_id: int) -> list[int]:
        return scans_in_progress(tx, catalog_id, folder_ids, job_id)

    def refresh_failed_stat(self, tx: psycopg.Connection, catalog_id: int, path: str, size: int,
                            mtime_ns: int) -> None:
        refresh_failed_stat(tx, catalog_id, path, size, mtime_ns)

    def count_present(self, tx: psycopg.Connection, photo_ids: Sequence[int]) -> int:
        """How many of these photos the catalog still holds (a removed folder forgets its photos)."""
        row = tx.execute("SELECT count(*) FROM photos WHERE id = ANY(%s)", (list(photo_ids),)).fetchone()
        return int(row[0]) if row else 0
