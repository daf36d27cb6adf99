"""The job coordinator: discover → batches → executor.submit(worker) → wait → finalizer (coordinator threads).

Each job's coordinator runs on its own thread (``lumina-coord-<id>``), never in the worker pool,
so a pool full of batches can never wait on itself.  One heartbeat thread per process keeps
``job_workers`` and the owned jobs alive and interrupts jobs of owners that died.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any, Callable

from lumina_desktop.config import Settings
from lumina_desktop.core.errors import JobCancelled, LuminaError, NotFoundError
from lumina_desktop.core.jobs import BatchState, JobSnapshot, JobState
from lumina_desktop.db import jobs as jobs_db
from lumina_desktop.db.pool import Database
from lumina_desktop.jobs.batches import BatchManager, BatchOutcome, CancelWatcher
from lumina_desktop.jobs.context import JobContext, JobEnv
from lumina_desktop.jobs.executor import get_executor
from lumina_desktop.jobs.progress import ProgressTracker
from lumina_desktop.jobs.registry import get_kind, kind_names

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineTiming:
    heartbeat_s: float = 2.0
    stale_after_s: float = 15.0
    cancel_poll_s: float = 0.1
    progress_interval_s: float = 0.2


def new_worker_id(role: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{role}:{uuid.uuid4().hex[:8]}"


class Heartbeat:
    """Keeps this process visible as alive; recovers jobs whose owners died."""

    def __init__(self, manager: BatchManager, timing: EngineTiming, threads: int, role: str) -> None:
        self.manager = manager
        self.timing = timing
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.queued: Callable[[], int] = lambda: 0
        with manager.db.connection() as conn:
            jobs_db.register_worker(conn, manager.worker_id, socket.gethostname(), os.getpid(), role, threads)

    def start(self) -> None:
        self.beat()
        self._thread = threading.Thread(target=self._loop, name="lumina-heartbeat")
        self._thread.start()

    def beat(self) -> None:
        c = self.manager.counters
        with self.manager.db.connection() as conn:
            jobs_db.heartbeat(conn, self.manager.worker_id, c.busy, self.queued(), c.items_done)
        self.manager.find_stale(self.timing.stale_after_s)

    def _loop(self) -> None:
        while not self._stop.wait(self.timing.heartbeat_s):
            try:
                self.beat()
            except Exception:
                log.exception("heartbeat failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            with self.manager.db.connection() as conn:
                jobs_db.stop_worker(conn, self.manager.worker_id)
        except Exception:
            log.warning("could not mark worker %s stopped", self.manager.worker_id)


class JobCoordinator:
    """Submits jobs and runs their coordinators; the GUI, the CLI and tests all use this."""

    def __init__(self, db: Database, settings: Settings, *, timing: EngineTiming | None = None,
                 role: str = "app", on_finished: Callable[[int, JobState], None] | None = None) -> None:
        self.db = db
        self.settings = settings
        self.timing = timing or EngineTiming()
        self.worker_id = new_worker_id(role)
        self.batches = BatchManager(db, self.worker_id)
        self.env = JobEnv(db, settings, self.worker_id)
        self.executor = get_executor(settings.background_workers)
        self.workers = settings.background_workers
        self.heartbeat = Heartbeat(self.batches, self.timing, self.workers, role)
        self.heartbeat.queued = lambda: self.executor._work_queue.qsize()  # noqa: SLF001 (metrics only)
        self.heartbeat.start()
        self.watcher = CancelWatcher(self.batches, self.timing.cancel_poll_s)
        self.on_finished = on_finished
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._leaving = False

    # -- public API
    def submit(self, kind: str, params: dict[str, Any] | None = None, *, catalog_id: int | None = None) -> int:
        """Create a job of a registered kind and start its coordinator; returns the job id."""
        get_kind(kind)
        with self.db.connection() as conn:
            job_id = jobs_db.create_job(conn, kind, catalog_id, params or {})
        self.start(job_id)
        return job_id

    def start(self, job_id: int) -> None:
        with self._lock:
            if self._closed:
                raise LuminaError("the job engine is shutting down")
            t = self._threads.get(job_id)
            if t is not None and t.is_alive():
                return
            t = threading.Thread(target=self._coordinate, args=(job_id,), name=f"lumina-coord-{job_id}")
            self._threads[job_id] = t
            t.start()

    def cancel(self, job_id: int) -> JobState | None:
        """Wired to every Cancel button (called off the GUI thread)."""
        state = self.batches.cancel(job_id)
        if state is None:
            raise NotFoundError(f"no job with id {job_id}")
        return state

    def resume(self, job_id: int) -> None:
        if not self.batches.resume(job_id):
            with self.db.connection() as conn:
                job = jobs_db.get_job(conn, job_id)
            if job is None:
                raise NotFoundError(f"no job with id {job_id}")
            raise LuminaError(f"job {job_id} is {job.state.value}; only cancelled, interrupted or failed jobs resume")
        self.start(job_id)

    def wait(self, job_id: int, timeout: float | None = None) -> JobSnapshot:
        t = self._threads.get(job_id)
        if t is not None:
            t.join(timeout)
        return self.snapshot(job_id)

    def snapshot(self, job_id: int) -> JobSnapshot:
        with self.db.connection() as conn:
            job = jobs_db.get_job(conn, job_id)
        if job is None:
            raise NotFoundError(f"no job with id {job_id}")
        return job

    def running_jobs(self) -> list[int]:
        with self._lock:
            return [j for j, t in self._threads.items() if t.is_alive()]

    def cancel_all(self) -> None:
        for job_id in self.running_jobs():
            try:
                self.cancel(job_id)
            except Exception:
                log.exception("cancel of job %d failed", job_id)

    def shutdown(self, *, cancel: bool = True, timeout_s: float = 5.0) -> bool:
        """Stop running jobs — cancelled, or (``cancel=False``) left ``interrupted`` to resume
        later — wait ≤ ``timeout_s``, stop the heartbeat.  True if every coordinator ended."""
        with self._lock:
            self._closed = True
        if cancel:
            self.cancel_all()
        else:
            self._leaving = True
            for job_id in self.running_jobs():
                self.batches.cancel_local(job_id)
        deadline = time.monotonic() + timeout_s
        for t in list(self._threads.values()):
            t.join(max(0.0, deadline - time.monotonic()))
        clean = not self.running_jobs()
        self.watcher.stop()
        self.heartbeat.stop()
        return clean

    # -- the coordinator thread
    def _coordinate(self, job_id: int) -> None:
        token = self.batches.token(job_id)
        final = JobState.FAILED
        try:
            with self.db.connection() as conn:
                if not jobs_db.take_ownership(conn, job_id, self.worker_id):
                    log.info("job %d is not pending; another process owns or finished it", job_id)
                    return
                job = jobs_db.get_job(conn, job_id)
            assert job is not None
            final = self._run(job, token)
        except Exception:
            log.exception("coordinator of job %d crashed", job_id)
        finally:
            self.batches.drop_token(job_id)
            if self.on_finished is not None:
                try:
                    self.on_finished(job_id, final)
                except Exception:
                    log.exception("on_finished callback failed")

    def _run(self, job: JobSnapshot, token: threading.Event) -> JobState:
        kind = get_kind(job.kind)
        tracker = ProgressTracker(self.db, job.id, kind.phases, min_interval_s=self.timing.progress_interval_s)
        ctx = JobContext(self.env, job, token, tracker)
        try:
            with self.db.connection() as conn:
                discovered = jobs_db.is_discovered(conn, job.id)
            if not discovered:
                ctx.phase("discover", "Finding work")
                with self.db.connection() as conn, conn.transaction():
                    ctx.conn = conn
                    conn.execute("DELETE FROM job_batches WHERE job_id = %s", (job.id,))
                    n = self.batches.create_batches(conn, job.id, _cancellable(kind.discover(ctx), ctx),
                                                    kind.batch_size or self.settings.batch_size)
                    jobs_db.set_discovery(conn, job.id, {**ctx.discovery, "items": n})
                    jobs_db.mark_discovered(conn, job.id)
                ctx.conn = None
                log.info("job %d (%s): %d items", job.id, job.kind, n)
            with self.db.connection() as conn:
                ctx.discovery = jobs_db.get_discovery(conn, job.id)
            failures = self._process(ctx, token)
            if token.is_set() or self._cancel_requested(job.id):
                raise JobCancelled()
            ctx.phase("finalize", "Finishing")
            result = kind.finalize(ctx)
            done, total = self.batches.progress(job.id)
            state = JobState.FAILED if failures else JobState.SUCCEEDED
            error = f"{len(failures)} batch(es) failed; first: {failures[0]}" if failures else None
            tracker.update("finalize", done, total, "Failed" if failures else "Done", final=not failures, force=True)
            with self.db.connection() as conn, conn.transaction():
                jobs_db.finish_job(conn, job.id, state, error=error, result={**result, "items": total})
            return state
        except JobCancelled:
            if self._leaving and not self._cancel_requested(job.id):
                with self.db.connection() as conn, conn.transaction():
                    jobs_db.leave_interrupted(conn, job.id)
                return JobState.INTERRUPTED
            done, total = self.batches.progress(job.id)
            tracker.update(ctx.phase_name or "process", done, total, "Cancelled", force=True)
            with self.db.connection() as conn, conn.transaction():
                conn.execute("UPDATE job_batches SET state = 'cancelled' WHERE job_id = %s AND state = 'pending'", (job.id,))
                jobs_db.finish_job(conn, job.id, JobState.CANCELLED)
            return JobState.CANCELLED
        except Exception as exc:
            log.exception("job %d (%s) failed", job.id, job.kind)
            with self.db.connection() as conn, conn.transaction():
                jobs_db.finish_job(conn, job.id, JobState.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
            return JobState.FAILED

    def _cancel_requested(self, job_id: int) -> bool:
        with self.db.connection() as conn:
            st = jobs_db.job_state(conn, job_id)
        return st is None or st[1] or st[0] in (JobState.CANCELLING, JobState.CANCELLED)

    def _process(self, ctx: JobContext, token: threading.Event) -> list[str]:
        """Claim and run this job's batches until none is pending or running anywhere."""
        job = ctx.job
        inflight: dict[Future[BatchOutcome], int] = {}
        failures: list[str] = []
        ctx.phase("process", "Working")
        while True:
            if token.is_set():
                break
            room = self.workers + 1 - len(inflight)
            if room > 0:
                for batch in self.batches.claim(room, job_id=job.id):
                    fut = self.executor.submit(self.batches.run_batch, self.env, job, batch, token)
                    inflight[fut] = batch.id
            if inflight:
                done_set, _ = wait(list(inflight), timeout=self.timing.cancel_poll_s, return_when=FIRST_COMPLETED)
                for fut in done_set:
                    inflight.pop(fut)
                    if fut.cancelled():
                        continue
                    outcome = fut.result()
                    if outcome.state == BatchState.FAILED:
                        failures.append(outcome.error or "unknown error")
            else:
                with self.db.connection() as conn:
                    summary = jobs_db.batch_summary(conn, job.id)
                if not summary.get("pending") and not summary.get("running"):
                    break
                token.wait(self.timing.cancel_poll_s)  # batches run elsewhere (or retry pending)
            done, total = self.batches.progress(job.id)
            ctx.tracker.update("process", done, total, f"{done:,} of {total:,}")
        for fut in list(inflight):
            fut.cancel()
        if inflight:
            wait(list(inflight))
            with self.db.connection() as conn:
                conn.execute("UPDATE job_batches SET state = 'cancelled' WHERE state = 'running' "
                             "AND claimed_by = %s AND job_id = %s", (self.worker_id, job.id))
        with self.db.connection() as conn:
            failed = jobs_db.batch_summary(conn, job.id).get("failed")
        if failed and not failures:
            failures.append(f"{failed[0]} batch(es) failed")
        return failures


def _cancellable(items: Any, ctx: JobContext) -> Any:
    for i, item in enumerate(items):
        if i % 256 == 0:
            ctx.check_cancelled()
        yield item


def registered_kinds() -> list[str]:
    return kind_names()
