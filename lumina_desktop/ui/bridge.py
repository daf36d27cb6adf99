"""JobBridge: PostgreSQL job events → Qt signals.  The ONLY place job events become signals.

A dedicated listener thread (a one-thread executor, not a QThread) holds a LISTEN connection,
wakes on NOTIFY (payload: a job id), coalesces ids for ``coalesce_ms``, reads those jobs'
rows and emits one ``jobs_updated`` signal with immutable ``JobSnapshot`` values.  It also
re-reads active jobs every ``refresh_s`` so a job whose owner died still shows its new state.
Jobs run by the CLI, another window or a worker on another machine show up the same way.

Cancel and Resume run on the interactive executor (never on the GUI thread) and call
``BatchManager.cancel(job_id)`` through the coordinator.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Protocol

from PySide6.QtCore import QObject, Signal

from lumina_desktop.core.jobs import JobSnapshot, JobState

log = logging.getLogger(__name__)


class JobSource(Protocol):
    """What the bridge needs from the database side (a fake in widget tests)."""

    def listen(self) -> Any: ...
    def recent_jobs(self, limit: int) -> list[JobSnapshot]: ...
    def jobs(self, ids: list[int]) -> list[JobSnapshot]: ...
    def item_errors(self, job_id: int, limit: int) -> list[Any]: ...


class JobControl(Protocol):
    def cancel(self, job_id: int) -> Any: ...
    def resume(self, job_id: int) -> Any: ...
    def submit(self, kind: str, params: dict[str, Any] | None = None, *, catalog_id: int | None = None) -> int: ...


class DatabaseJobSource:
    """The real source: LISTEN on the catalog database, read jobs through the pool."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def listen(self) -> Any:
        from lumina_desktop.db.listen import JobListener

        return JobListener(self.db.conninfo, changes=True)

    def recent_jobs(self, limit: int) -> list[JobSnapshot]:
        from lumina_desktop.db import jobs as jobs_db

        with self.db.connection() as conn:
            return jobs_db.list_jobs(conn, limit=limit)

    def jobs(self, ids: list[int]) -> list[JobSnapshot]:
        from lumina_desktop.db import jobs as jobs_db

        with self.db.connection() as conn:
            return jobs_db.get_jobs(conn, ids)

    def item_errors(self, job_id: int, limit: int) -> list[Any]:
        from lumina_desktop.db import jobs as jobs_db

        with self.db.connection() as conn:
            return jobs_db.list_item_errors(conn, job_id, limit)


class JobBridge(QObject):
    """Emits ``jobs_updated(tuple[JobSnapshot, ...])`` whenever jobs change anywhere."""

    jobs_updated = Signal(object)
    job_finished = Signal(object)  # JobSnapshot, once per job reaching a final state
    action_failed = Signal(str)    # a cancel/resume/submit that could not be done, for the user
    errors_loaded = Signal(int, object)
    photos_changed = Signal(int)   # catalog id: jobs anywhere committed changes to its photos

    def __init__(self, source: JobSource, control: JobControl | None, io: ThreadPoolExecutor, *,
                 coalesce_ms: int = 100, refresh_s: float = 2.0, recent: int = 50,
                 changes_interval_s: float = 0.5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.control = control
        self.io = io
        self.coalesce_s = coalesce_ms / 1000
        self.refresh_s = refresh_s
        self.recent = recent
        self._stop = threading.Event()
        self._listener_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lumina-job-listener")
        self._future: Future[None] | None = None
        self._states: dict[int, JobState] = {}
        self._wake = threading.Event()
        self.emitted = 0
        # the change feed: the first change of a catalog is announced at once (after the
        # coalescing window), later ones at most every changes_interval_s (a scan commits every
        # second per batch: the window must not re-read its grid many times a second)
        self.changes_interval_s = changes_interval_s
        self._changes_due: dict[int, float] = {}
        self._changes_pending: set[int] = set()

    # -- lifecycle
    def start(self) -> None:
        self._future = self._listener_pool.submit(self._run)

    def stop(self, timeout_s: float = 3.0) -> None:
        self._stop.set()
        self._listener_pool.shutdown(wait=False, cancel_futures=True)
        if self._future is not None:
            try:
                self._future.result(timeout=timeout_s)
            except Exception:
                pass

    # -- actions (off the GUI thread)
    def cancel(self, job_id: int) -> Future[Any]:
        return self._act("cancel", lambda c: c.cancel(job_id))

    def resume(self, job_id: int) -> Future[Any]:
        return self._act("resume", lambda c: c.resume(job_id))

    def submit(self, kind: str, params: dict[str, Any], catalog_id: int | None) -> Future[Any]:
        return self._act("start", lambda c: c.submit(kind, params, catalog_id=catalog_id))

    def _act(self, what: str, fn: Callable[[JobControl], Any]) -> Future[Any]:
        def run() -> Any:
            if self.control is None:
                raise RuntimeError("no job engine")
            try:
                return fn(self.control)
            except Exception as exc:
                log.warning("job %s failed: %s", what, exc)
                self.action_failed.emit(f"Could not {what} the job: {exc}")
                raise
            finally:
                self._wake.set()

        return self.io.submit(run)

    def load_errors(self, job_id: int, limit: int = 2000) -> Future[Any]:
        """Per-item errors of a job, delivered by ``errors_loaded(job_id, tuple)``."""

        def run() -> None:
            try:
                errors = tuple(self.source.item_errors(job_id, limit))
            except Exception as exc:
                self.action_failed.emit(f"Could not load the errors: {exc}")
                return
            self.errors_loaded.emit(job_id, errors)

        return self.io.submit(run)

    # -- the listener thread
    def _run(self) -> None:
        listener = None
        backoff = 0.5
        while not self._stop.is_set():
            try:
                if listener is None:
                    listener = self.source.listen()
                    self._publish(self.source.recent_jobs(self.recent))
                    backoff = 0.5
                self._loop(listener)
            except Exception:
                log.warning("job listener lost its connection; reconnecting", exc_info=True)
                if listener is not None:
                    try:
                        listener.close()
                    except Exception:
                        pass
                    listener = None
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        if listener is not None:
            listener.close()

    def _loop(self, listener: Any) -> None:
        last_refresh = time.monotonic()
        while not self._stop.is_set():
            ids = listener.wait(0.25)
            if ids:
                deadline = time.monotonic() + self.coalesce_s
                while time.monotonic() < deadline and not self._stop.is_set():
                    ids |= listener.wait(max(0.0, deadline - time.monotonic()))
            now = time.monotonic()
            if now - last_refresh >= self.refresh_s or self._wake.is_set():
                self._wake.clear()
                last_refresh = now
                ids |= {j for j, s in self._states.items() if s.is_active or s == JobState.INTERRUPTED}
            if ids and not self._stop.is_set():
                self._publish(self.source.jobs(sorted(ids)))
            self._publish_changes(listener, now)

    def _publish_changes(self, listener: Any, now: float) -> None:
        take = getattr(listener, "take_changed_catalogs", None)
        if take is not None:
            self._changes_pending |= take()
        for catalog_id in sorted(self._changes_pending):
            if now >= self._changes_due.get(catalog_id, 0.0) and not self._stop.is_set():
                self._changes_pending.discard(catalog_id)
                self._changes_due[catalog_id] = now + self.changes_interval_s
                self.photos_changed.emit(catalog_id)

    def _publish(self, snapshots: list[JobSnapshot]) -> None:
        if not snapshots or self._stop.is_set():
            return
        finished = []
        for s in snapshots:
            before = self._states.get(s.id)
            if s.state.is_finished and before is not None and not before.is_finished:
                finished.append(s)
            self._states[s.id] = s.state
        self.emitted += 1
        self.jobs_updated.emit(tuple(snapshots))
        for s in finished:
            self.job_finished.emit(s)
