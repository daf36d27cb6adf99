"""The service graph of one process (the window's, or one CLI command's), built once.

``open_services(settings)`` connects to the catalog database (starting the embedded server and
migrating when needed) and builds the services on it; ``start_engine`` adds a job engine (the
window runs one, as does a CLI command that runs a job).  Callers hold the services, never the
database: the window hands each widget the typed protocol it needs.
"""
from __future__ import annotations

import logging
from typing import Any

from lumina_desktop.config import Settings
from lumina_desktop.db.pool import open_database
from lumina_desktop.db.thumbnails import ThumbnailSizes
from lumina_desktop.jobs.engine.coordinator import JobCoordinator
from lumina_desktop.jobs.engine.registry import KindRegistry
from lumina_desktop.services.culling import BurstsService, QualityService
from lumina_desktop.services.describe import JobWording
from lumina_desktop.services.duplicates import DuplicatesService
from lumina_desktop.services.images import PhotoImages
from lumina_desktop.services.jobs import JobService
from lumina_desktop.services.library import LibraryService
from lumina_desktop.services.photos import PhotoQuery
from lumina_desktop.services.trash import TrashService
from lumina_desktop.storage.thumbnails import PruneResult, ThumbnailStore

log = logging.getLogger(__name__)


class AppServices:
    """Library, photos, images and jobs on one database, with an optional job engine."""

    def __init__(self, settings: Settings, db: Any, registry: KindRegistry | None = None) -> None:
        from lumina_desktop.jobs.kinds import BUILTIN_KINDS

        self.settings = settings
        self.registry = registry or BUILTIN_KINDS
        self._db = db
        self.coordinator: JobCoordinator | None = None
        self.jobs = JobService(db)
        self.library = LibraryService(db)
        self.photos = PhotoQuery(db)
        self.duplicates = DuplicatesService(db)
        self.quality = QualityService(db)
        self.bursts = BurstsService(db)
        self.trash = TrashService(db)
        self.thumbnails = ThumbnailStore(settings.thumbnails_dir, recorder=ThumbnailSizes(db))
        self.images = PhotoImages(self.thumbnails)
        self.wording = JobWording(self.registry)

    @property
    def database_kind(self) -> str:
        """How the catalog database is reached, in words."""
        return "built-in server" if getattr(self._db, "cluster", None) is not None else "external server"

    @property
    def conninfo(self) -> str:
        return str(self._db.conninfo)

    def prune_thumbnails(self, budget_mb: int | None = None) -> PruneResult:
        """Fit the thumbnail store into ``budget_mb`` (default: the ``thumbnail_cache_mb`` setting),
        least recently used first; the grid thumbnail of a catalogued photo is never removed."""
        budget = (budget_mb if budget_mb is not None else self.settings.thumbnail_cache_mb) * 1024 * 1024
        return self.thumbnails.prune_keeping_grid(budget, ThumbnailSizes(self._db).grid_hashes())

    def start_engine(self, **kw: Any) -> JobCoordinator:
        """Run jobs in this process (``kw``: the coordinator's options, e.g. ``pickup=True``)."""
        from lumina_desktop.jobs import wiring

        if self.coordinator is None:
            self.coordinator = wiring.coordinator(self._db, self.settings, registry=self.registry, **kw)
            self.jobs.control = self.coordinator
            self.library.control = self.coordinator
        return self.coordinator

    def worker(self, **kw: Any) -> Any:
        """A worker process's engine: claims batches of jobs started anywhere."""
        from lumina_desktop.jobs import wiring

        return wiring.worker(self._db, self.settings, registry=self.registry, **kw)

    def stop_engine(self, *, cancel: bool, timeout_s: float = 5.0) -> bool:
        """Stop the job engine (blocking; off the GUI thread).  True if it ended in time."""
        from lumina_desktop.jobs.engine.executor import shutdown_executor

        clean = True
        if self.coordinator is not None:
            clean = self.coordinator.shutdown(cancel=cancel, timeout_s=timeout_s)
            self.coordinator = None
            self.jobs.control = self.library.control = None
        shutdown_executor(wait=clean)
        return clean

    def close(self, *, stop_server: bool = True) -> None:
        self._db.close(stop_server=stop_server)


def builtin_kinds() -> KindRegistry:
    """The app's job kinds (what ``jobs run`` offers before any database is open)."""
    from lumina_desktop.jobs.kinds import BUILTIN_KINDS

    return BUILTIN_KINDS


def open_services(settings: Settings, *, registry: KindRegistry | None = None, pool_size: int | None = None,
                  fsync: bool = True) -> AppServices:
    """Connect (starting the embedded server and migrating if needed) and build the services."""
    db = open_database(settings, pool_size=pool_size, fsync=fsync)
    try:
        return AppServices(settings, db, registry)
    except BaseException:
        db.close()
        raise


def services_on(settings: Settings, db: Any, registry: KindRegistry | None = None) -> AppServices:
    """The services on a database opened elsewhere (tests and benchmarks share one cluster)."""
    return AppServices(settings, db, registry)
