"""Fake services for widget tests: real classes over in-memory data (no PostgreSQL, no mocks).

They implement the protocols the window hands its widgets (``PhotoQueries``, ``PhotoPictures``,
``Library``, ``Jobs``), so a widget test exercises the widget alone; the end-to-end UI tests
(``test_main_window``, ``test_browser``) keep the real services on the real database.
"""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from PIL import Image

from lumina_desktop.core.changes import Aspect, CatalogChange
from lumina_desktop.core.errors import LuminaError, NotFoundError
from lumina_desktop.core.jobs import ItemError, JobProgress, JobSnapshot, JobState
from lumina_desktop.core.library import (
    CameraOption, FilterOptions, FolderOption, LibraryState, PhotoDetails, PhotoFilter, PhotoSummary, SortKey,
    SortOrder, StatusFilter,
)
from lumina_desktop.core.models import Catalog, CatalogFolder
from lumina_desktop.services.images import Picture
from lumina_desktop.services.library import ScanStarted

T0 = datetime(2022, 7, 1, 9, 0)


def fake_hash(i: int) -> str:
    return f"{i:064x}"


class FakePhotos:
    """:class:`PhotoQueries` over a dict of summaries; ``calls`` counts every read by name."""

    def __init__(self, n: int = 0, *, catalog_id: int = 1) -> None:
        self.catalog_id = catalog_id
        self.rows: dict[int, PhotoSummary] = {}
        self.calls: dict[str, int] = {}
        self.fail: str | None = None          # make every read raise this message
        self.lock = threading.Lock()
        for pid in range(1, n + 1):
            self.put(pid)

    def put(self, pid: int, **changes: Any) -> PhotoSummary:
        base = self.rows.get(pid) or PhotoSummary(
            id=pid, file_name=f"IMG_{pid:06d}.JPG", path=f"/photos/a/IMG_{pid:06d}.JPG", folder_id=1,
            kind="image", status="ok", rating=pid % 6, content_hash=fake_hash(pid), thumb_sizes=(256,),
            width=4000, height=3000, capture_time=T0 + timedelta(minutes=pid), size_bytes=1000 + pid)
        row = dataclasses.replace(base, **changes)
        with self.lock:
            self.rows[pid] = row
        return row

    def remove(self, pid: int) -> None:
        with self.lock:
            self.rows.pop(pid, None)

    def _count(self, name: str) -> None:
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1
        if self.fail is not None:
            raise LuminaError(self.fail)

    def ids(self, catalog_id: int, flt: PhotoFilter = PhotoFilter(), order: SortOrder = SortOrder()) -> tuple[int, ...]:
        self._count("ids")
        with self.lock:
            rows = list(self.rows.values())
        if flt.folder_id is not None:
            rows = [r for r in rows if r.folder_id == flt.folder_id]
        if flt.status is StatusFilter.ERRORS:
            rows = [r for r in rows if r.status == "error"]
        if flt.text.strip():
            rows = [r for r in rows if flt.text.strip().lower() in r.file_name.lower()]
        key = {SortKey.FILE_NAME: lambda r: (r.file_name, r.id), SortKey.FILE_SIZE: lambda r: (r.size_bytes or 0, r.id),
               }.get(order.key, lambda r: (r.capture_time or datetime.max, r.id))
        return tuple(r.id for r in sorted(rows, key=key, reverse=order.is_descending))

    def first_ids_and_count(self, catalog_id: int, flt: PhotoFilter, order: SortOrder,
                            limit: int) -> tuple[tuple[int, ...], int]:
        ids = self.ids(catalog_id, flt, order)
        return ids[:limit], len(ids)

    def id_array(self, catalog_id: int, flt: PhotoFilter = PhotoFilter(), order: SortOrder = SortOrder(), *,
                 limit: int | None = None) -> tuple[int, ...]:
        return self.ids(catalog_id, flt, order)[:limit]

    def page(self, ids: Sequence[int]) -> dict[int, PhotoSummary]:
        self._count("page")
        with self.lock:
            return {i: self.rows[i] for i in ids if i in self.rows}

    def details(self, photo_id: int) -> PhotoDetails | None:
        self._count("details")
        with self.lock:
            s = self.rows.get(photo_id)
        if s is None:
            return None
        values: dict[str, Any] = {f.name: None for f in dataclasses.fields(PhotoDetails)}
        values.update(id=s.id, catalog_id=self.catalog_id, folder_id=s.folder_id, folder_path="/photos/a",
                      path=s.path, file_name=s.file_name, size_bytes=s.size_bytes, content_hash=s.content_hash,
                      file_type="JPEG", kind=s.kind, format="JPEG", width=s.width, height=s.height,
                      capture_time=s.capture_time, camera_make="Canon", camera_model="Canon EOS R5",
                      status=s.status, rating=s.rating, keywords=(), warnings=(), thumb_sizes=s.thumb_sizes)
        return PhotoDetails(**values)

    def filter_options(self, catalog_id: int) -> FilterOptions:
        self._count("filter_options")
        with self.lock:
            n = len(self.rows)
        return FilterOptions(folders=(FolderOption(1, "/photos/a", n),),
                             cameras=(CameraOption("Canon", "Canon EOS R5", n),), kinds=("image",),
                             first_date=T0.date(), last_date=T0.date(), total=n)

    def paths(self, ids: Sequence[int]) -> tuple[str, ...]:
        self._count("paths")
        with self.lock:
            return tuple(self.rows[i].path for i in ids if i in self.rows)

    def folder_ids_of(self, ids: Sequence[int]) -> tuple[int, ...]:
        self._count("folder_ids_of")
        with self.lock:
            return tuple(sorted({self.rows[i].folder_id for i in ids if i in self.rows and self.rows[i].folder_id}))


class FakePictures:
    """:class:`PhotoPictures` that paints a flat colour per content hash (no files)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    @staticmethod
    def _colour(content_hash: str) -> tuple[int, int, int]:
        i = int(content_hash[-6:], 16)
        return (i * 37) % 256, (i * 91) % 256, (i * 53) % 256

    def thumbnail(self, content_hash: str, source_px: int, px: int) -> Picture | None:
        self.calls["thumbnail"] = self.calls.get("thumbnail", 0) + 1
        return Picture.of(Image.new("RGB", (px, px * 3 // 4), self._colour(content_hash)), "BGRA")

    def preview(self, details: PhotoDetails, max_px: int, *, make_missing: bool = True) -> Picture | None:
        self.calls["preview"] = self.calls.get("preview", 0) + 1
        if not details.content_hash:
            return None
        side = min(max_px, 640)
        return Picture.of(Image.new("RGB", (side, side * 3 // 4), self._colour(details.content_hash)), "BGRA")

    def original(self, details: PhotoDetails) -> Picture:
        self.calls["original"] = self.calls.get("original", 0) + 1
        return Picture.of(Image.new("RGB", (details.width or 64, details.height or 48), (10, 20, 30)))


class FakeLibrary:
    """:class:`Library` in memory: catalogs, folders and status counts; scans are recorded."""

    def __init__(self, names: Sequence[str] = ("Photos",)) -> None:
        now = datetime.now(timezone.utc)
        self.catalogs = {i: Catalog(i, n, now) for i, n in enumerate(names, start=1)}
        self.folders: dict[int, list[CatalogFolder]] = {i: [] for i in self.catalogs}
        self.counts: dict[int, dict[str, int]] = {i: {} for i in self.catalogs}
        self.scans: list[tuple[int, tuple[int, ...]]] = []
        self.state_reads = 0

    def state(self, catalog_id: int | None) -> LibraryState:
        self.state_reads += 1
        cats = tuple(sorted(self.catalogs.values(), key=lambda c: c.name.lower()))
        current = self.catalogs.get(catalog_id or 0) or cats[0]
        return LibraryState(cats, current, tuple(self.folders[current.id]), dict(self.counts[current.id]))

    def create_catalog(self, name: str) -> Catalog:
        if any(c.name == name for c in self.catalogs.values()):
            raise LuminaError(f"a catalog named {name!r} already exists")
        cid = max(self.catalogs, default=0) + 1
        self.catalogs[cid] = Catalog(cid, name, datetime.now(timezone.utc))
        self.folders[cid], self.counts[cid] = [], {}
        return self.catalogs[cid]

    def rename_catalog(self, catalog_id: int, name: str) -> Catalog:
        self.catalogs[catalog_id] = dataclasses.replace(self.catalogs[catalog_id], name=name)
        return self.catalogs[catalog_id]

    def delete_catalog(self, catalog_id: int) -> None:
        del self.catalogs[catalog_id]

    def add_folders_and_scan(self, catalog_id: int, paths: Sequence[str]) -> ScanStarted:
        added = []
        for p in paths:
            if not p.startswith("/"):
                raise LuminaError(f"{p} is not a folder")
            fid = sum(len(v) for v in self.folders.values()) + 1
            added.append(CatalogFolder(fid, catalog_id, p, datetime.now(timezone.utc)))
        self.folders[catalog_id] += added
        self.scans.append((catalog_id, tuple(f.id for f in added)))
        return ScanStarted(self.catalogs[catalog_id], tuple(added), len(self.scans))

    def rescan(self, catalog_id: int, folder_ids: Sequence[int] = ()) -> ScanStarted:
        chosen = tuple(f for f in self.folders[catalog_id] if not folder_ids or f.id in folder_ids)
        if not chosen:
            raise LuminaError("there is no folder to rescan; add one first")
        self.scans.append((catalog_id, tuple(f.id for f in chosen)))
        return ScanStarted(self.catalogs[catalog_id], chosen, len(self.scans))

    def remove_folder(self, catalog_id: int, path: str) -> int:
        before = len(self.folders[catalog_id])
        self.folders[catalog_id] = [f for f in self.folders[catalog_id] if f.path != path]
        if len(self.folders[catalog_id]) == before:
            raise NotFoundError(f"{path} is not a folder of this catalog")
        return 0


class FakeListener:
    """A LISTEN connection fed by the test: ``send_*`` queue notifications for ``wait``."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.ids: set[int] = set()
        self.progress: dict[int, JobProgress] = {}
        self.changes: list[CatalogChange | tuple[int, int]] = []
        self.closed = False

    def wait(self, timeout_s: float) -> set[int]:
        with self.cond:
            if not (self.ids or self.progress or self.changes):
                self.cond.wait(timeout_s)
            out, self.ids = self.ids, set()
            return out

    def has_news(self) -> bool:
        with self.cond:
            return bool(self.progress or self.changes)

    def take_progress(self) -> dict[int, JobProgress]:
        with self.cond:
            out, self.progress = self.progress, {}
            return out

    def take_changes(self) -> list[CatalogChange | tuple[int, int]]:
        with self.cond:
            out, self.changes = self.changes, []
            return out

    def notify(self, *, job: int | None = None, progress: JobProgress | None = None,
               change: CatalogChange | tuple[int, int] | None = None) -> None:
        with self.cond:
            if job is not None:
                self.ids.add(job)
            if progress is not None:
                self.progress[progress.job_id] = progress
            if change is not None:
                self.changes.append(change)
            self.cond.notify_all()

    def close(self) -> None:
        self.closed = True


class FakeJobs:
    """:class:`Jobs` in memory with a :class:`FakeListener`; ``reads`` counts queries by name."""

    def __init__(self) -> None:
        self.listener = FakeListener()
        self.snapshots: dict[int, JobSnapshot] = {}
        self.feed: list[CatalogChange] = []
        self.reads: dict[str, int] = {}
        self.submitted: list[tuple[str, dict[str, Any], int | None]] = []

    def _read(self, name: str) -> None:
        self.reads[name] = self.reads.get(name, 0) + 1

    def add_job(self, job_id: int, kind: str = "scan", state: JobState = JobState.RUNNING,
                catalog_id: int | None = 1) -> JobSnapshot:
        snap = JobSnapshot(job_id, catalog_id, kind, state, {}, None, datetime.now(timezone.utc), None, None,
                           None, None, 0, False)
        self.snapshots[job_id] = snap
        return snap

    def record(self, catalog_id: int, aspects: set[Aspect], ids: Sequence[int], *, in_payload: bool = True) -> CatalogChange:
        row = CatalogChange(len(self.feed) + 1, catalog_id, None, frozenset(aspects), tuple(ids))
        self.feed.append(row)
        self.listener.notify(change=row if in_payload else (catalog_id, row.seq))
        return row

    def listen(self) -> FakeListener:
        return self.listener

    def recent(self, limit: int = 50) -> list[JobSnapshot]:
        self._read("recent")
        return sorted(self.snapshots.values(), key=lambda s: -s.id)[:limit]

    def jobs(self, ids: Sequence[int]) -> list[JobSnapshot]:
        self._read("jobs")
        return [self.snapshots[i] for i in ids if i in self.snapshots]

    def item_errors(self, job_id: int, limit: int = 1000) -> list[ItemError]:
        self._read("item_errors")
        return []

    def submit(self, kind: str, params: Any = None, *, catalog_id: int | None = None) -> int:
        self.submitted.append((kind, dict(params or {}), catalog_id))
        return len(self.submitted)

    def cancel(self, job_id: int) -> Any:
        return JobState.CANCELLING

    def resume(self, job_id: int) -> Any:
        return None

    def latest_change(self) -> int:
        self._read("latest_change")
        return len(self.feed)

    def changes_since(self, seq: int) -> list[CatalogChange]:
        self._read("changes_since")
        return [c for c in self.feed if c.seq > seq]
