"""The service graph of one process (the window's, or one CLI command's), built once.

``open_services(settings)`` connects to the catalog database (starting the embedded server and
migrating when needed) and builds the services on it; ``start_engine`` adds a job engine (the
window runs one, as does a CLI command that runs a job).  Callers hold the services, never the
database: the window hands each widget the typed protocol it needs.

A lost database (the server stopped or was killed while jobs ran) is announced once through
``on_database_lost(listener)`` as a :class:`DatabaseLostNotice` (its ``message`` is the one line
to show); ``restart_after_loss()`` starts the server again and resumes the jobs the loss stopped.
psycopg_pool's warnings about connections it cannot make go to the log file, not the console:
the loss is said once, in words.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from lumina_desktop.config import Settings
from lumina_desktop.core.errors import DatabaseLost, LuminaError
from lumina_desktop.db.pool import open_database
from lumina_desktop.db.thumbnails import ThumbnailSizes
from lumina_desktop.jobs.engine.coordinator import JobCoordinator
from lumina_desktop.jobs.engine.registry import KindRegistry
from lumina_desktop.services.culling import BurstsService, QualityService
from lumina_desktop.services.describe import JobWording
from lumina_desktop.services.duplicates import DuplicatesService
from lumina_desktop.services.images import PhotoImages
from lumina_desktop.services.jobs import JobService, lost_message
from lumina_desktop.services.library import LibraryService, with_shared_thumbnails
from lumina_desktop.services.photos import PhotoQuery
from lumina_desktop.services.tags import TagsService
from lumina_desktop.services.trash import TrashService
from lumina_desktop.storage.thumbnails import PruneResult, ThumbnailStore

log = logging.getLogger(__name__)
_POOL_CONNECTION_NOISE = ("error connecting in", "reconnection attempt in pool", "discarding closed connection",
                          "discarding broken connection", "rollback failed", "couldn't stop thread")


class _PoolConnectionNoise(logging.Filter):
    """psycopg_pool warns on every connection it cannot make or must drop, and keeps trying:
    those records go to the log file (as INFO), not to the console over the one clear message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and isinstance(record.msg, str) \
                and record.msg.startswith(_POOL_CONNECTION_NOISE):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def quiet_pool_connection_warnings() -> None:
    """Install :class:`_PoolConnectionNoise` on the ``psycopg.pool`` logger (once per process)."""
    logger = logging.getLogger("psycopg.pool")
    if not any(isinstance(f, _PoolConnectionNoise) for f in logger.filters):
        logger.addFilter(_PoolConnectionNoise())


@dataclass(frozen=True)
class DatabaseLostNotice:
    """A lost database, for the window: ``message`` is the one line to show; ``job_ids`` the jobs
    it stopped (``restart_after_loss`` resumes them); ``can_restart``: the server is the embedded
    one, so "Restart the server" can start it (an external server must come back by itself)."""

    message: str
    reason: str
    job_ids: tuple[int, ...]
    can_restart: bool


LostListener = Callable[[DatabaseLostNotice], None]


class AppServices:
    """Library, photos, images and jobs on one database, with an optional job engine."""

    def __init__(self, settings: Settings, db: Any, registry: KindRegistry | None = None) -> None:
        from lumina_desktop.jobs.kinds import BUILTIN_KINDS

        settings = with_shared_thumbnails(settings, db)   # the catalog's thumbnail store, not ours
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
        self.tags = TagsService(db)
        self.trash = TrashService(db)
        self.thumbnails = ThumbnailStore(settings.thumbnails_dir, recorder=ThumbnailSizes(db))
        self.images = PhotoImages(self.thumbnails)
        self.wording = JobWording(self.registry)
        self._engine_kw: dict[str, Any] | None = None
        self._lost_listeners: list[LostListener] = []
        self._lost: DatabaseLost | None = None
        self._lost_lock = threading.Lock()
        quiet_pool_connection_warnings()

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
            self._engine_kw = dict(kw)
            self.jobs.control = self.coordinator
            self.library.control = self.coordinator
            self.coordinator.guard.add_listener(self._on_engine_lost)
        return self.coordinator

    # -- a lost database
    @property
    def embedded(self) -> bool:
        return getattr(self._db, "cluster", None) is not None

    @property
    def database_lost(self) -> DatabaseLost | None:
        """The loss the job engine declared (None while the database is there)."""
        return self._lost

    def on_database_lost(self, listener: LostListener) -> None:
        """``listener(DatabaseLostNotice)`` once per loss of the database while a job engine runs
        here, on the engine thread that noticed it (the window relays it as a Qt signal).  The
        loss is noticed within about a second of the server going away."""
        with self._lost_lock:
            self._lost_listeners.append(listener)

    def notice(self, lost: DatabaseLost) -> DatabaseLostNotice:
        return DatabaseLostNotice(lost_message(lost), lost.reason, lost.job_ids, self.embedded)

    def _on_engine_lost(self, lost: DatabaseLost) -> None:
        with self._lost_lock:
            if self._lost is not None:
                return
            self._lost = lost
            listeners = list(self._lost_listeners)
        notice = self.notice(lost)
        for listener in listeners:
            try:
                listener(notice)
            except Exception:
                log.exception("a database-lost listener failed")

    def abandon_connections(self) -> None:
        """After a loss, in a process about to end (the CLI): close the pool now, so no thread
        waits out the pool's timeout for a connection that cannot come."""
        pool = getattr(self._db, "pool", None)
        if pool is not None:
            pool.close(timeout=1.0)

    def restart_after_loss(self, *, resume_jobs: bool = True) -> list[int]:
        """Blocking (off the GUI thread): start the embedded server again (an external one must be
        back by itself), renew the pool's connections, start a new job engine as before and resume
        the jobs the loss stopped.  Returns the ids resumed.  DatabaseError (one line) if the
        server cannot be started or reached."""
        from lumina_desktop.services.database import DatabaseAdmin

        lost, kw = self._lost, self._engine_kw
        self.stop_engine(cancel=False, timeout_s=2.0)
        if self.embedded:
            DatabaseAdmin(self.settings).start(keep_running=False)   # stopped by its last user, as before
        self._db.pool.check()  # drop the connections the old server took with it
        with self._db.connection() as conn:
            conn.execute("SELECT 1")
        with self._lost_lock:
            self._lost = None
        resumed: list[int] = []
        if kw is not None:
            co = self.start_engine(**kw)
            for job_id in (lost.job_ids if lost is not None and resume_jobs else ()):
                try:
                    co.resume(job_id)
                    resumed.append(job_id)
                except LuminaError as exc:  # finished or resumed elsewhere meanwhile
                    log.info("job %d not resumed after the restart: %s", job_id, exc)
        return resumed

    def worker(self, **kw: Any) -> Any:
        """A worker process's engine: claims batches of jobs started anywhere."""
        from lumina_desktop.jobs import wiring

        worker = wiring.worker(self._db, self.settings, registry=self.registry, **kw)
        worker.start().guard.add_listener(self._on_engine_lost)
        return worker

    def stop_engine(self, *, cancel: bool, timeout_s: float = 5.0) -> bool:
        """Stop the job engine (blocking; off the GUI thread).  True if it ended in time."""
        from lumina_desktop.jobs.engine.executor import shutdown_executor

        clean = True
        if self.coordinator is not None:
            self.coordinator.guard.remove_listener(self._on_engine_lost)
            clean = self.coordinator.shutdown(cancel=cancel, timeout_s=timeout_s)
            self.coordinator = None
            self.jobs.control = self.library.control = None
        shutdown_executor(wait=clean)
        return clean

    def close(self, *, stop_server: bool = True) -> None:
        # after a loss there is no server of ours to stop (a killed one is cleaned up by the next start)
        self._db.close(stop_server=stop_server and self._lost is None)


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
