"""LibraryService: catalogs and their folders, and "add folders and scan them" as one use case.

Any non-GUI thread.  Changes that other windows must see (folders added or removed, photos
forgotten) are written to the change feed in the same transaction.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lumina_desktop.config import Settings
from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.errors import LuminaError
from lumina_desktop.core.library import LibraryState
from lumina_desktop.core.models import Catalog, CatalogFolder
from lumina_desktop.db import bursts as bursts_db
from lumina_desktop.db import catalogs, photos
from lumina_desktop.db import thumbnails as thumbnails_db
from lumina_desktop.db.changes import record_changes
from lumina_desktop.services.jobs import JobControl

DEFAULT_CATALOG = "Photos"
SCAN_KIND = "scan"
_FOLDERS = frozenset({Aspect.FOLDERS})
_FOLDER_REMOVED = frozenset({Aspect.FOLDERS, Aspect.REMOVED})


@dataclass(frozen=True)
class ScanStarted:
    """Folders handed to a scan job (``job_id``)."""

    catalog: Catalog
    folders: tuple[CatalogFolder, ...]
    job_id: int


def with_shared_thumbnails(settings: Settings, db: Any) -> Settings:
    """``settings`` with the thumbnail store the catalog database records (see
    ``db.thumbnails.shared_store_dir``): a worker or CLI that connects by URL with its own data
    folder writes thumbnails where the owner's window reads them.  A folder chosen by the user
    (``thumbnail_cache_dir`` set, e.g. the owner's folder mounted elsewhere) is used as it is."""
    if "thumbnail_cache_dir" in settings.sources:
        return settings
    with db.connection() as conn:
        folder = thumbnails_db.shared_store_dir(conn, settings.thumbnails_dir,
                                                is_owner=getattr(db, "cluster", None) is not None)
    if folder == settings.thumbnails_dir:
        return settings
    return dataclasses.replace(settings, thumbnail_cache_dir=folder)


class Library(Protocol):
    """What the window's library controller needs (a fake in widget tests)."""

    def state(self, catalog_id: int | None) -> LibraryState: ...
    def create_catalog(self, name: str) -> Catalog: ...
    def rename_catalog(self, catalog_id: int, name: str) -> Catalog: ...
    def delete_catalog(self, catalog_id: int) -> None: ...
    def add_folders_and_scan(self, catalog_id: int, paths: Sequence[str]) -> ScanStarted: ...
    def rescan(self, catalog_id: int, folder_ids: Sequence[int] = ()) -> ScanStarted: ...
    def remove_folder(self, catalog_id: int, path: str) -> int: ...


def scan_params(folders: Sequence[CatalogFolder], *, full: bool = False, catalog_name: str = "") -> dict[str, Any]:
    return {"folder_ids": [f.id for f in folders], "folder_paths": [f.path for f in folders], "full": full,
            "catalog_name": catalog_name}


class LibraryService:
    """:class:`Library` on the catalog database; scans go to ``control`` (the app's job engine)."""

    def __init__(self, db: Any, control: JobControl | None = None) -> None:
        self._db = db
        self.control = control

    # -- reads
    def state(self, catalog_id: int | None) -> LibraryState:
        """The catalogs and the current one (``catalog_id``, else the first; the default catalog is
        created on first run), with its folders and photo counts."""
        with self._db.connection() as conn:
            cats = catalogs.list_catalogs(conn)
            if not cats:  # first run (perhaps in two processes at once: an idempotent upsert)
                catalogs.ensure_catalog(conn, DEFAULT_CATALOG)
                cats = catalogs.list_catalogs(conn)
            current = next((c for c in cats if c.id == catalog_id), cats[0])
            folders = catalogs.list_folders(conn, current.id)
            counts = photos.count_status(conn, current.id)
            n_bursts, in_bursts = bursts_db.totals(conn, current.id)
        return LibraryState(tuple(cats), current, tuple(folders), counts, bursts=n_bursts, photos_in_bursts=in_bursts)

    def catalogs(self) -> list[Catalog]:
        with self._db.connection() as conn:
            return catalogs.list_catalogs(conn)

    def catalog(self, name_or_id: str | int) -> Catalog:
        """One catalog by name or id; NotFoundError names the catalogs there are."""
        with self._db.connection() as conn:
            return catalogs.get_catalog(conn, name_or_id)

    def folders(self, catalog_id: int) -> list[CatalogFolder]:
        with self._db.connection() as conn:
            return catalogs.list_folders(conn, catalog_id)

    # -- catalogs
    def create_catalog(self, name: str) -> Catalog:
        with self._db.connection() as conn:
            return catalogs.create_catalog(conn, name)

    def ensure_catalog(self, name: str) -> Catalog:
        with self._db.connection() as conn:
            return catalogs.ensure_catalog(conn, name)

    def rename_catalog(self, catalog_id: int, name: str) -> Catalog:
        with self._db.connection() as conn:
            return catalogs.rename_catalog(conn, catalog_id, name)

    def delete_catalog(self, catalog_id: int) -> None:
        """Forget the catalog; photo files are never touched."""
        with self._db.connection() as conn:
            catalogs.delete_catalog(conn, catalog_id)

    # -- folders
    def add_folders(self, catalog_id: int, paths: Sequence[str | bytes]) -> tuple[CatalogFolder, ...]:
        """Add folders (each checked: it must exist and be readable); all or none are added."""
        with self._db.connection() as conn:
            with conn.transaction():
                added = tuple(catalogs.add_folder(conn, catalog_id, p) for p in paths)
                record_changes(conn, catalog_id, None, "library", (), _FOLDERS)
        return added

    def add_folders_and_scan(self, catalog_id: int, paths: Sequence[str | bytes], *, full: bool = False) -> ScanStarted:
        """The "add folders" use case: the folders join the catalog and one scan job starts on them."""
        folders = self.add_folders(catalog_id, paths)
        return self._scan(catalog_id, folders, full)

    def rescan(self, catalog_id: int, folder_ids: Sequence[int] = (), *, full: bool = False) -> ScanStarted:
        """Scan these folders of the catalog again (none given: all of them)."""
        chosen = tuple(f for f in self.folders(catalog_id) if not folder_ids or f.id in folder_ids)
        if not chosen:
            raise LuminaError("there is no folder to rescan; add one first")
        return self._scan(catalog_id, chosen, full)

    def _scan(self, catalog_id: int, folders: tuple[CatalogFolder, ...], full: bool) -> ScanStarted:
        if self.control is None:
            raise RuntimeError("no job engine is running in this process")
        name = self.catalog(catalog_id).name
        job_id = self.control.submit(SCAN_KIND, scan_params(folders, full=full, catalog_name=name), catalog_id=catalog_id)
        return ScanStarted(self.catalog(catalog_id), folders, job_id)

    def remove_folder(self, catalog_id: int, path: str) -> int:
        """Remove a folder and forget its photos (the files are never touched); returns how many."""
        with self._db.connection() as conn:
            with conn.transaction():
                n = catalogs.remove_folder(conn, catalog_id, path)
                record_changes(conn, catalog_id, None, "library", (), _FOLDER_REMOVED)
        return n

    def add_folders_to(self, catalog_name: str, paths: Sequence[str | bytes]) -> tuple[Catalog, tuple[CatalogFolder, ...]]:
        """Add folders to the catalog of this name, created if missing.  All or nothing: a folder
        that cannot be added leaves no new catalog and no other new folder behind."""
        with self._db.connection() as conn:
            with conn.transaction():
                cat = catalogs.ensure_catalog(conn, catalog_name)
                added = tuple(catalogs.add_folder(conn, cat.id, p) for p in paths)
                record_changes(conn, cat.id, None, "library", (), _FOLDERS)
            return catalogs.get_catalog(conn, cat.id), added
