"""JobBridge: PostgreSQL job events and the change feed → Qt signals.  The ONLY place they become signals.

A dedicated listener thread (a one-thread executor, not a QThread) holds a LISTEN connection:

* **Jobs.**  A NOTIFY naming a job (created, started, finished…) makes it read that job's row;
  progress NOTIFYs carry the progress row itself, so a running job's bar moves without a query.
  Events are coalesced for ``coalesce_ms`` and leave as one ``jobs_updated`` signal of immutable
  ``JobSnapshot`` values.  Active jobs are re-read every ``refresh_s`` as a safety net.
* **The change feed.**  Change NOTIFYs carry their row (catalog, sequence number, aspects, photo
  ids); rows too large for a payload, and gaps in the sequence that do not fill within a second,
  are read from ``catalog_changes``.  Rows are coalesced for ``changes_coalesce_ms`` and leave as
  one ``photos_changed(PhotoChanges)`` per catalog.

Jobs run by the CLI, another window or a worker on another machine show up the same way.
Cancel and Resume run on the interactive executor (never on the GUI thread) and call
``BatchManager.cancel(job_id)`` through the job service's engine.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from lumina_desktop.core.changes import CatalogChange, ChangeCursor, PhotoChanges
from lumina_desktop.core.errors import DatabaseLost
from lumina_desktop.core.jobs import JobSnapshot, JobState
from lumina_desktop.services.jobs import Jobs

log = logging.getLogger(__name__)


class JobBridge(QObject):
    """Emits ``jobs_updated(tuple[JobSnapshot, ...])`` whenever jobs change anywhere, and
    ``photos_changed(PhotoChanges)`` whenever the change feed names photos of a catalog."""

    jobs_updated = Signal(object)
    job_finished = Signal(object)  # JobSnapshot, once per job reaching a final state
    action_failed = Signal(str)    # a cancel/resume/submit that could not be done, for the user
    errors_loaded = Signal(int, object)
    photos_changed = Signal(object)  # PhotoChanges of one catalog

    def __init__(self, jobs: Jobs, io: ThreadPoolExecutor, *, coalesce_ms: int = 100,
                 changes_coalesce_ms: int = 150, refresh_s: float = 10.0, recent: int = 50,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = jobs
        self.io = io
        self.coalesce_s = coalesce_ms / 1000
        self.changes_coalesce_s = changes_coalesce_ms / 1000
        self.refresh_s = refresh_s
        self.recent = recent
        self._stop = threading.Event()
        self._listener_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lumina-job-listener")
        self._future: Future[None] | None = None
        self._snapshots: dict[int, JobSnapshot] = {}
        self._wake = threading.Event()
        self.emitted = 0
        self._cursor: ChangeCursor | None = None
        self._changes: list[CatalogChange] = []
        self._changes_due: float | None = None
        self._last_gap_read = 0.0
        self.change_reads = 0          # reads of catalog_changes (payloads make most unnecessary)

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
        return self._act("cancel", lambda s: s.cancel(job_id))

    def resume(self, job_id: int) -> Future[Any]:
        return self._act("resume", lambda s: s.resume(job_id))

    def submit(self, kind: str, params: dict[str, Any], catalog_id: int | None) -> Future[Any]:
        return self._act("start", lambda s: s.submit(kind, params, catalog_id=catalog_id))

    def _act(self, what: str, fn: Callable[[Jobs], Any]) -> Future[Any]:
        def run() -> Any:
            try:
                return fn(self.service)
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
                errors = tuple(self.service.item_errors(job_id, limit))
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
                    listener = self.service.listen()
                    if self._cursor is None:
                        self._cursor = ChangeCursor(self.service.latest_change())
                    else:   # reconnected: what happened meanwhile
                        self._read_changes(time.monotonic())
                    self._publish(self.service.recent(self.recent))
                    backoff = 0.5
                self._loop(listener)
            except DatabaseLost as exc:      # the engine reports it once (the window's notice); no traceback here
                log.info("job listener: %s; waiting for the database", exc.reason or exc)
                listener = self._drop(listener)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
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

    @staticmethod
    def _drop(listener: Any) -> None:
        if listener is not None:
            try:
                listener.close()
            except Exception:
                pass
        return None

    def _loop(self, listener: Any) -> None:
        last_refresh = time.monotonic()
        while not self._stop.is_set():
            timeout = 0.25
            if self._changes_due is not None:
                timeout = max(0.0, min(timeout, self._changes_due - time.monotonic()))
            ids = listener.wait(timeout)
            if ids or listener.has_news():
                deadline = time.monotonic() + self.coalesce_s
                while time.monotonic() < deadline and not self._stop.is_set():
                    ids |= listener.wait(max(0.0, deadline - time.monotonic()))
            now = time.monotonic()
            if now - last_refresh >= self.refresh_s or self._wake.is_set():
                self._wake.clear()
                last_refresh = now
                ids |= {j for j, s in self._snapshots.items() if s.state.is_active or s.state == JobState.INTERRUPTED}
            if self._stop.is_set():
                return
            self._publish_jobs(ids, listener.take_progress())
            self._take_changes(listener.take_changes(), now)
            if self._changes_due is not None and time.monotonic() >= self._changes_due:
                self._emit_changes()

    def _publish_jobs(self, ids: set[int], progress: dict[int, Any]) -> None:
        updated: list[JobSnapshot] = []
        for job_id, p in progress.items():
            known = self._snapshots.get(job_id)
            if job_id in ids:
                continue                       # read below, progress included
            if known is None or known.state != JobState.RUNNING:
                ids.add(job_id)                # not seen yet, or it started (pending → running): read it
            else:
                updated.append(dataclasses.replace(known, progress=p))
        if ids:
            updated += self.service.jobs(sorted(ids))
        self._publish(updated)

    # -- the change feed (listener thread)
    def _take_changes(self, feed: list[CatalogChange | tuple[int, int]], now: float) -> None:
        cursor = self._cursor
        if cursor is None:
            return
        fresh = cursor.accept([c for c in feed if isinstance(c, CatalogChange)], now)
        must_read = any(not isinstance(c, CatalogChange) for c in feed)
        if must_read or (cursor.gap_age(now) > 1.0 and now - self._last_gap_read > 1.0):
            fresh += self._read_changes(now)
        if fresh:
            self._changes.extend(fresh)
            if self._changes_due is None:
                self._changes_due = now + self.changes_coalesce_s

    def _read_changes(self, now: float) -> list[CatalogChange]:
        assert self._cursor is not None
        self._last_gap_read = now
        self.change_reads += 1
        fresh = self._cursor.accept(self.service.changes_since(self._cursor.floor), now)
        if fresh and self._changes_due is None:
            self._changes_due = now + self.changes_coalesce_s
        return fresh

    def _emit_changes(self) -> None:
        rows, self._changes, self._changes_due = self._changes, [], None
        for change in PhotoChanges.merge(rows).values():
            if not self._stop.is_set():
                self.photos_changed.emit(change)

    def _publish(self, snapshots: list[JobSnapshot]) -> None:
        if not snapshots or self._stop.is_set():
            return
        finished = []
        for s in snapshots:
            before = self._snapshots.get(s.id)
            if s.state.is_finished and before is not None and not before.state.is_finished:
                finished.append(s)
            self._snapshots[s.id] = s
        self.emitted += 1
        self.jobs_updated.emit(tuple(snapshots))
        for s in finished:
            self.job_finished.emit(s)
