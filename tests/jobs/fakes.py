"""In-memory fakes of the kinds' repositories, for the inline engine (no PostgreSQL, no Qt).

Each fake has the methods of its real repository (``db.demo.DemoRepository``,
``db.photos.ScanRepository``, ``db.duplicates.DuplicatesRepository``) and mimics what their SQL
does, closely enough for the kinds' logic to be tested.  The ``tx`` they receive is the
``MemoryJobStore`` and is ignored.
"""
from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Sequence

import numpy as np

from lumina_desktop.core.duplicates import Decision, DuplicateGroup, PhotoFingerprint, PhotoHashes, StoredGroup
from lumina_desktop.core.media import FINGERPRINT_VERSION, FailureReason, IngestResult, MediaError
from lumina_desktop.core.models import PhotoStatus
from lumina_desktop.db.duplicates import HashArrays, to_us
from lumina_desktop.db.photos import KnownFile


class FakeDemoRepo:
    """``demo_results`` as a dict; ``writes`` counts every upsert of an item."""

    def __init__(self) -> None:
        self.values: dict[tuple[int, int], str] = {}
        self.writes: Counter[tuple[int, int]] = Counter()

    def store_values(self, tx: Any, job_id: int, rows: Sequence[tuple[int, str]]) -> None:
        for item, value in rows:
            self.values[(job_id, item)] = value
            self.writes[(job_id, item)] += 1

    def count(self, tx: Any, job_id: int) -> int:
        return sum(1 for j, _ in self.values if j == job_id)


@dataclass(frozen=True)
class Folder:
    id: int
    path: str


@dataclass
class PhotoRow:
    id: int
    folder_id: int
    path: str
    size: int | None
    mtime_ns: int | None
    status: PhotoStatus = PhotoStatus.NEW
    content_hash: str | None = None
    fingerprint_version: int | None = None
    error_reason: str | None = None


class FakeScanRepo:
    """``photos`` and ``catalog_folders`` of one catalog, as dicts."""

    def __init__(self, folders: Iterable[Folder]) -> None:
        self.folders: dict[int, Folder] = {f.id: f for f in folders}
        self.rows: dict[str, PhotoRow] = {}
        self._ids = itertools.count(100)
        self.ingested: list[tuple[str, str, int]] = []   # (path, outcome, id) of every store_ingest
        self.failed: list[tuple[str, str]] = []          # (path, reason) of every store_failure
        self.touched: list[int] = []
        self.lock_calls = 0
        self.remove_folders_after_discovery = False      # lock_folders finds none after its first call

    def list_folders(self, tx: Any, catalog_id: int) -> list[Folder]:
        return sorted(self.folders.values(), key=lambda f: f.id)

    def lock_folders(self, tx: Any, folder_ids: Sequence[int]) -> set[int]:
        self.lock_calls += 1
        if self.remove_folders_after_discovery and self.lock_calls > 1:
            return set()
        return {i for i in folder_ids if i in self.folders}

    def known_files(self, tx: Any, catalog_id: int, folder_ids: Sequence[int]) -> dict[str, KnownFile]:
        return {r.path: KnownFile(r.id, r.size, r.mtime_ns, r.status, r.fingerprint_version)
                for r in self.rows.values() if r.folder_id in folder_ids}

    def insert_placeholders(self, tx: Any, catalog_id: int,
                            rows: Iterable[tuple[int, str, bytes | None, str, int, int]]) -> None:
        for folder_id, path, _exact, _name, size, mtime_ns in rows:
            self.rows.setdefault(path, PhotoRow(next(self._ids), folder_id, path, size, mtime_ns))

    def mark_missing(self, tx: Any, photo_ids: Sequence[int]) -> None:
        for r in self.rows.values():
            if r.id in photo_ids:
                r.status = PhotoStatus.MISSING

    def mark_present(self, tx: Any, photo_ids: Sequence[int]) -> None:
        for r in self.rows.values():
            if r.id in photo_ids and r.status == PhotoStatus.MISSING:
                r.status = PhotoStatus.OK if r.content_hash else PhotoStatus.NEW

    def store_ingest_many(self, tx: Any, catalog_id: int, entries: Sequence[Any]) -> list[tuple[str, int]]:
        return [self.store_ingest(tx, catalog_id, *e) for e in entries]

    def store_ingest(self, tx: Any, catalog_id: int, folder_id: int, path: str, path_bytes: bytes | None,
                     file_name: str, res: IngestResult, mtime_ns: int, thumb_sizes: Sequence[int]) -> tuple[str, int]:
        row = self.rows.get(path)
        outcome = "changed" if row is not None and row.status != PhotoStatus.NEW else "new"
        if outcome == "new":
            moved = next((r for r in sorted(self.rows.values(), key=lambda r: r.id)
                          if r.status == PhotoStatus.MISSING and r.content_hash == res.identity.content_hash), None)
            if moved is not None:
                self.rows.pop(path, None)
                del self.rows[moved.path]
                moved.path, row, outcome = path, moved, "moved"
        if row is None:
            row = PhotoRow(next(self._ids), folder_id, path, None, None)
            outcome = "added"      # no placeholder row from discovery
        self.rows[path] = row
        row.folder_id, row.size, row.mtime_ns, row.status = folder_id, res.identity.size, mtime_ns, PhotoStatus.OK
        row.content_hash, row.error_reason = res.identity.content_hash, None
        row.fingerprint_version = FINGERPRINT_VERSION if res.perceptual is not None else None
        self.ingested.append((path, outcome, row.id))
        return outcome, row.id

    def store_failure(self, tx: Any, catalog_id: int, path: str, err: MediaError | str, reason: str) -> int | None:
        self.failed.append((path, reason))
        row = self.rows.get(path)
        if row is None:
            return None
        row.status = PhotoStatus.MISSING if reason == FailureReason.VANISHED else PhotoStatus.ERROR
        row.error_reason = reason
        return row.id

    def touch_folders(self, tx: Any, folder_ids: Sequence[int]) -> None:
        self.touched.extend(folder_ids)

    def try_lock_folder_scan(self, tx: Any, folder_id: int) -> bool:
        return True       # one process: no other scan to wait for

    def scans_in_progress(self, tx: Any, catalog_id: int, folder_ids: Sequence[int], job_id: int) -> list[int]:
        return []

    def refresh_failed_stat(self, tx: Any, catalog_id: int, path: str, size: int, mtime_ns: int) -> None:
        row = self.rows.get(path)
        if row is not None:
            row.size, row.mtime_ns = size, mtime_ns

    def count_present(self, tx: Any, photo_ids: Sequence[int]) -> int:
        held = {r.id for r in self.rows.values()}
        return sum(1 for i in set(photo_ids) if i in held)

    def forget_folder(self, folder_id: int) -> None:
        """The folder is removed from the catalog with its photos (as ``db.catalogs.remove_folder``)."""
        self.folders.pop(folder_id, None)
        self.rows = {p: r for p, r in self.rows.items() if r.folder_id != folder_id}


@dataclass
class _Run:
    job_id: int
    catalog_id: int
    incremental: bool
    photos: int
    high_water: datetime | None
    is_current: bool = False
    groups: dict[int, list[DuplicateGroup]] = field(default_factory=dict)


class FakeDuplicatesRepo:
    """Photos (their fingerprints and when they were analysed), runs and groups, as dicts."""

    def __init__(self, photos: Iterable[tuple[PhotoFingerprint, datetime]]) -> None:
        self.photos: dict[int, PhotoFingerprint] = {}
        self.analysed_at: dict[int, datetime] = {}
        for fp, at in photos:
            self.add(fp, at)
        self.runs: dict[int, _Run] = {}
        self.bursts: dict[int, int] = {}       # photo id -> burst id (what the bursts job found)
        self.trashed: set[int] = set()         # photos moved to the trash

    def add(self, fp: PhotoFingerprint, analysed_at: datetime) -> None:
        self.photos[fp.id], self.analysed_at[fp.id] = fp, analysed_at

    def hash_rows(self, tx: Any, catalog_id: int) -> list[PhotoHashes]:
        return [PhotoHashes(p.id, p.phash, p.content_hash, p.image_data_hash, self.analysed_at[i])
                for i, p in sorted(self.photos.items())]

    def hash_arrays(self, tx: Any, catalog_id: int) -> HashArrays:
        rows = self.hash_rows(tx, catalog_id)
        return HashArrays(np.array([r.id for r in rows], dtype=np.int64),
                          np.frombuffer(b"".join(r.phash for r in rows), dtype=np.uint8).reshape(-1, 32),
                          np.array([to_us(r.analysed_at) for r in rows], dtype=np.int64))

    def same_hash(self, tx: Any, catalog_id: int, ids: Sequence[int]) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        for i in ids:
            p = self.photos[i]
            same = {o.id for o in self.photos.values() if o.id != i and (
                (p.content_hash and o.content_hash == p.content_hash)
                or (p.image_data_hash and o.image_data_hash == p.image_data_hash))}
            if same:
                out[i] = same
        return out

    def fingerprints(self, tx: Any, ids: Sequence[int]) -> list[PhotoFingerprint]:
        return [self.photos[i] for i in ids if i in self.photos]

    def current_run(self, tx: Any, catalog_id: int) -> dict[str, Any] | None:
        run = next((r for r in self.runs.values() if r.catalog_id == catalog_id and r.is_current), None)
        return {"job_id": run.job_id, "high_water": run.high_water} if run else None

    def start_run(self, tx: Any, job_id: int, catalog_id: int, *, incremental: bool, photos: int,
                  high_water: datetime | None) -> None:
        self.runs[job_id] = _Run(job_id, catalog_id, incremental, photos, high_water)

    def replace_component_groups(self, tx: Any, run_job_id: int, catalog_id: int, component_key: int,
                                 groups: Iterable[DuplicateGroup]) -> int:
        stored = list(groups)
        self.runs[run_job_id].groups[component_key] = stored
        return len(stored)

    def finish_run(self, tx: Any, job_id: int, catalog_id: int, *, carry_from: int | None,
                   affected_ids: Sequence[int]) -> None:
        run = self.runs[job_id]
        if carry_from is not None:
            for key, groups in self.runs[carry_from].groups.items():
                kept = [g for g in groups if not set(g.photo_ids) & set(affected_ids)]
                if kept:
                    run.groups[-key] = kept
        for r in self.runs.values():
            if r.catalog_id == catalog_id:
                r.is_current = r.job_id == job_id

    def current_groups(self, tx: Any, catalog_id: int) -> list[StoredGroup]:
        run = next((r for r in self.runs.values() if r.catalog_id == catalog_id and r.is_current), None)
        out: list[StoredGroup] = []
        if run is None:
            return out
        for key in sorted(run.groups):
            for g in run.groups[key]:
                out.append(StoredGroup(len(out) + 1, g, {i: self.photos[i].path for i in g.photo_ids},
                                       {i: self.photos[i].size for i in g.photo_ids}))
        return out

    def decisions(self, tx: Any, catalog_id: int) -> list[Decision]:
        return []

    def trashed_among(self, tx: Any, photo_ids: Sequence[int]) -> set[int]:
        return self.trashed & set(photo_ids)

    def burst_of_photos(self, tx: Any, photo_ids: Sequence[int]) -> dict[int, int]:
        return {i: b for i, b in self.bursts.items() if i in set(photo_ids)}


class FakeThumbnailsRepo:
    """What the thumbnails kind reads and writes, over a :class:`FakeScanRepo`'s rows (sizes kept here)."""

    def __init__(self, scan: FakeScanRepo) -> None:
        self.scan = scan
        self.sizes: dict[str, set[int]] = {}

    def photos_without(self, tx: Any, catalog_id: int, px: int, *, photo_ids: Sequence[int] | None = None,
                       everything: bool = False) -> list[tuple[str, str, list[int]]]:
        by_hash: dict[str, list[PhotoRow]] = {}
        for r in sorted(self.scan.rows.values(), key=lambda r: r.id):
            if r.status != PhotoStatus.OK or r.content_hash is None or (photo_ids is not None and r.id not in photo_ids):
                continue
            if everything or px not in self.sizes.get(r.content_hash, set()):
                by_hash.setdefault(r.content_hash, []).append(r)
        return [(h, rows[0].path, [r.id for r in rows]) for h, rows in by_hash.items()]

    def add_sizes(self, tx: Any, content_hash: str, sizes: Sequence[int]) -> int:
        self.sizes.setdefault(content_hash, set()).update(sizes)
        return 1

    def remove_sizes(self, tx: Any, content_hash: str, sizes: Sequence[int]) -> int:
        self.sizes.get(content_hash, set()).difference_update(sizes)
        return 1

    def grid_hashes(self, tx: Any) -> set[str]:
        return {r.content_hash for r in self.scan.rows.values() if r.content_hash}
