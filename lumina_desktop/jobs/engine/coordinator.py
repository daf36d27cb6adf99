"""The job coordinator: discover → batches → the pool → finalize → follow-ons (coordinator threads).

Each job's coordinator runs on its own thread (``lumina-coord-<id>``), never in the worker pool,
so a pool full of batches can never wait on itself.  One heartbeat thread per process records
worker metrics, turns jobs of dead owners ``interrupted`` (their liveness lock is gone: see
``db.jobs``) and, with ``pickup``, starts queued jobs (follow-ons queued by a CLI scan, say).

A lost database (``guard.DatabaseGuard``) stops every job here at once and quietly: nothing is
written any more, the jobs are left for the liveness rule to show ``interrupted`` once the server
is back, and ``guard.lost`` says why (listeners: ``guard.add_listener``).  A process that finds
its job taken over (it was paused past its lease and another process resumed the job) stops its
part quietly and never cancels or releases the new owner's work.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

from lumina_desktop.config import Settings
from lumina_desktop.core.errors import JobCancelled, LuminaError, NotFoundError
from lumina_desktop.core.jobs import BatchState, JobSnapshot, JobState
from lumina_desktop.jobs.engine.batches import BatchManager, CancelWatcher
from lumina_desktop.jobs.engine.context import JobContext, JobEnv
from lumina_desktop.jobs.engine.executor import Lanes, get_executor, process_lanes
from lumina_desktop.jobs.engine.guard import DatabaseGuard
from lumina_desktop.jobs.engine.kind import JobKind
from lumina_desktop.jobs.engine.progress import ProgressTracker
from lumina_desktop.jobs.engine.registry import KindRegistry
from lumina_desktop.jobs.engine.runner import LOST_CLAIM, BatchRunner, ClaimLoop, one_line
from lumina_desktop.jobs.engine.store import JobStore

log = logging.getLogger(__name__)


def _default_lease_s() -> float:
    try:
        return max(5.0, float(os.environ.get("LUMINA_JOB_LEASE_S", "30")))
    except ValueError:
        return 30.0


@dataclass(frozen=True)
class EngineTiming:
    heartbeat_s: float = 2.0
    cancel_poll_s: float = 0.1
    progress_interval_s: float = 0.2
    commit_interval_s: float = 1.0
    commit_every_items: int = 1000
    # a process that stops heartbeating this long (paused, hung) is taken for dead and its jobs
    # can be taken over; a process that dies is seen at once.  LUMINA_JOB_LEASE_S sets it (≥ 5 s).
    lease_s: float = dataclasses.field(default_factory=_default_lease_s)


def new_worker_id(role: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{role}:{uuid.uuid4().hex[:8]}"


class _LostOwnership(Exception):
    """Another process decided this one was dead and took the job back; stop quietly."""


class Heartbeat:
    """Worker metrics, dead-owner recovery and (optionally) pickup of queued jobs, every ``heartbeat_s``."""

    def __init__(self, coordinator: JobCoordinator) -> None:
        self.co = coordinator
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.beat()
        self._thread = threading.Thread(target=self._loop, name="lumina-heartbeat")
        self._thread.start()

    def beat(self) -> None:
        co = self.co
        if co.guard.is_lost:
            return
        c = co.batches.counters
        co.store.heartbeat(co.worker_id, c.busy, co.queued(), c.items_done)
        co.store.recover_dead()
        if co.pickup:
            co.pick_up_queued()

    def _loop(self) -> None:
        while not self._stop.wait(self.co.timing.heartbeat_s):
            try:
                self.beat()
            except Exception as exc:
                if self.co.guard.is_lost_by(exc):
                    return  # said once by the guard; nothing to beat against
                log.warning("heartbeat failed: %s", one_line(exc), exc_info=not isinstance(exc, LuminaError))

    def signal_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout_s)


class JobCoordinator:
    """Submits jobs and runs their coordinators; the window, the CLI, ``worker`` and tests use this."""

    def __init__(self, store: JobStore, settings: Settings, registry: KindRegistry, *,
                 timing: EngineTiming | None = None, role: str = "app", pickup: bool = False,
                 on_finished: Callable[[int, JobState], None] | None = None,
                 executor: Executor | None = None, lanes: Lanes | None = None, background: bool = True) -> None:
        self.store = store
        self.settings = settings
        self.registry = registry
        self.timing = timing or EngineTiming()
        self.role = role
        self.pickup = pickup
        self.worker_id = new_worker_id(role)
        self.batches = BatchManager(store, self.worker_id)
        self.guard = DatabaseGuard(store.lost_reason, self.running_jobs, on_lost=self._stop_on_loss)
        self.env = JobEnv(store, settings, self.worker_id)
        self.executor = executor or get_executor(settings.background_workers)
        self.workers = settings.background_workers
        self.runner = BatchRunner(registry, self.batches, self.env, lanes or process_lanes(),
                                  commit_interval_s=self.timing.commit_interval_s,
                                  commit_every_items=self.timing.commit_every_items, threads=self.workers,
                                  guard=self.guard)
        self.on_finished = on_finished
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._leaving = False
        store.attach(self.worker_id, role, self.workers, self.timing.lease_s)
        self.heartbeat = Heartbeat(self)
        self.watcher: CancelWatcher | None = None
        if background:  # (the inline test engine runs without threads)
            self.heartbeat.start()
            self.watcher = CancelWatcher(self.batches, self.timing.cancel_poll_s, guard=self.guard)

    def _stop_on_loss(self) -> None:
        """The database is gone (called once, by the guard): every job here stops at its next
        check, and nothing new starts."""
        with self._lock:
            self._closed = True
        self.heartbeat.signal_stop()
        for job_id in self.batches.all_jobs():
            self.batches.cancel_local(job_id)

    def queued(self) -> int:
        q = getattr(self.executor, "_work_queue", None)
        return q.qsize() if q is not None else 0

    # -- public API
    def submit(self, kind: str, params: Mapping[str, Any] | None = None, *, catalog_id: int | None = None,
               parent_job_id: int | None = None) -> int:
        """Create a job of a registered kind (parameters checked now) and start its coordinator."""
        k = self.registry.get(kind)
        k.parse_params(params or {})
        _check_catalog(k, catalog_id)
        job_id = self.store.create_job(kind, catalog_id, dict(params or {}), parent_job_id=parent_job_id,
                                       owner=self.worker_id)
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

    def cancel(self, job_id: int) -> JobState:
        """Wired to every Cancel button (called off the GUI thread)."""
        if self.guard.lost is not None:
            raise self.guard.lost
        state = self.batches.cancel(job_id)
        if state is None:
            raise NotFoundError(f"no job with id {job_id}")
        return state

    def resume(self, job_id: int) -> None:
        """Resume a cancelled, interrupted or failed job here (or start a queued one)."""
        if not self.batches.resume(job_id):
            job = self.store.get_job(job_id)
            if job is None:
                raise NotFoundError(f"no job with id {job_id}")
            if not (job.state == JobState.PENDING and job.owner is None):
                raise LuminaError(f"job {job_id} is {job.state.value}; only cancelled, interrupted or failed "
                                  f"jobs resume")
        self.start(job_id)

    def wait(self, job_id: int, timeout: float | None = None) -> JobSnapshot:
        t = self._threads.get(job_id)
        if t is not None:
            t.join(timeout)
        return self.snapshot(job_id)

    def snapshot(self, job_id: int) -> JobSnapshot:
        job = self.store.get_job(job_id)
        if job is None:
            raise NotFoundError(f"no job with id {job_id}")
        return job

    def running_jobs(self) -> list[int]:
        with self._lock:
            return [j for j, t in self._threads.items() if t.is_alive()]

    def pick_up_queued(self) -> list[int]:
        """Start queued jobs nobody runs (each is taken atomically: one process wins)."""
        started = []
        running = set(self.running_jobs())
        for job_id in self.store.pending_jobs(self.registry.names()):
            if job_id not in running and not self._closed:
                try:
                    self.start(job_id)
                    started.append(job_id)
                except LuminaError:
                    break
        return started

    def cancel_all(self) -> None:
        """Cancel the jobs this process runs (only while it still owns them: a job another process
        took over is not ours to cancel)."""
        for job_id in self.running_jobs():
            self.batches.cancel_local(job_id)
            if self.guard.is_lost:
                continue
            try:
                self.store.request_cancel(job_id, owner=self.worker_id)
            except Exception as exc:
                if not self.guard.is_lost_by(exc):
                    log.warning("cancel of job %d failed: %s", job_id, one_line(exc))

    def shutdown(self, *, cancel: bool = True, timeout_s: float = 5.0) -> bool:
        """Stop running jobs — cancelled, or (``cancel=False``) left ``interrupted`` to resume
        later — wait ≤ ``timeout_s``, stop the heartbeat.  True if every coordinator ended."""
        with self._lock:
            self._closed = True
        lost = self.guard.is_lost
        if lost:  # threads may sit in a connection attempt: do not wait for them long
            timeout_s = min(timeout_s, 2.0)
        self.heartbeat.stop(timeout_s)
        if cancel and not lost:
            self.cancel_all()
        else:
            self._leaving = True
            for job_id in self.running_jobs():
                self.batches.cancel_local(job_id)
        deadline = time.monotonic() + timeout_s
        for t in list(self._threads.values()):
            t.join(max(0.0, deadline - time.monotonic()))
        clean = not self.running_jobs()
        if self.watcher is not None:
            self.watcher.stop()
        if clean or lost:
            try:
                self.store.detach(self.worker_id, record=not self.guard.is_lost)
            except Exception as exc:
                if not self.guard.is_lost_by(exc):
                    raise
        return clean

    # -- the coordinator thread
    def _coordinate(self, job_id: int) -> None:
        token = self.batches.live_token(job_id)  # never a token left tripped by an earlier cancel
        final = JobState.FAILED
        try:
            if self.guard.is_lost:
                final = JobState.INTERRUPTED
                return
            if not self.store.take_ownership(job_id, self.worker_id):
                log.info("job %d is not pending; another process owns or finished it", job_id)
                return
            job = self.store.get_job(job_id)
            assert job is not None
            final = self._run(job, token)
            if final != JobState.INTERRUPTED:
                self._announce_end(self.registry.get(job.kind), job)
        except Exception as exc:
            if self.guard.is_lost_by(exc):
                final = JobState.INTERRUPTED
                log.info("job %d stopped: the database is gone", job_id)
            else:
                log.exception("coordinator of job %d crashed", job_id)
        finally:
            self.batches.drop_token(job_id)
            if self.on_finished is not None:
                try:
                    self.on_finished(job_id, final)
                except Exception:
                    log.exception("on_finished callback failed")

    def _run(self, job: JobSnapshot, token: threading.Event) -> JobState:
        kind = self.registry.get(job.kind)
        tracker = ProgressTracker(self.store, job.id, kind.phases, min_interval_s=self.timing.progress_interval_s)
        ctx = JobContext(self.env, job, None, token, tracker)
        try:
            ctx.params = kind.parse_params(job.params)
            _check_catalog(kind, job.catalog_id)  # also for jobs queued by others
            if not self.store.is_discovered(job.id):
                ctx.phase("discover", kind.phase_label("discover"))
                with self.store.transaction() as tx:
                    ctx.tx = tx
                    self.store.reset_batches(tx, job.id)
                    n = self.batches.create_batches(tx, job.id, _cancellable(kind.discover(ctx), ctx),
                                                    kind.batch_size or self.settings.batch_size)
                    self.store.save_discovery(tx, job.id, {**ctx.discovery, "items": n})
                    if kind.discovery_aspects and job.catalog_id is not None:  # e.g. files found missing
                        self.store.record_changes(tx, job.catalog_id, job.id, kind.name, (), kind.discovery_aspects)
                ctx.tx = None
                log.info("job %d (%s): %d items", job.id, job.kind, n)
            ctx.discovery = self.store.discovery(job.id)
            failures = self._process(ctx, kind, token)
            if token.is_set() or self._cancel_requested(job.id):
                raise JobCancelled()
            ctx.phase("finalize", kind.phase_label("finalize"))
            result = kind.finalize(ctx)
            done, total = self.batches.progress(job.id)
            state = JobState.FAILED if failures else JobState.SUCCEEDED
            error = f"{len(failures)} batch(es) failed; first: {failures[0]}" if failures else None
            follow = self._follow_ons(kind, job) if state == JobState.SUCCEEDED else []
            tracker.update("finalize", done, total, "Failed" if failures else "Done", final=not failures, force=True)
            created = self.store.finish(job.id, self.worker_id, state, error=error,
                                        result={**result, "items": total}, follow_ons=follow)
            if created is None:  # a cancel arrived during finalize, or we lost the job
                raise JobCancelled()
            if created and self.pickup and not self._closed:
                for child in created:
                    self.start(child)
            return state
        except _LostOwnership:
            log.info("job %d was taken over by another process (this one was presumed dead); stopping", job.id)
            return JobState.INTERRUPTED
        except JobCancelled:
            if self.guard.is_lost:
                return JobState.INTERRUPTED
            st = self.store.job_state(job.id)
            if st is None or (st[2] != self.worker_id and st[0] != JobState.CANCELLED):
                log.info("job %d was taken over by another process (this one was presumed dead); stopping", job.id)
                return JobState.INTERRUPTED
            if self._leaving and not (st[1] or st[0] in (JobState.CANCELLING, JobState.CANCELLED)):
                self.store.leave_interrupted(job.id, self.worker_id)
                return JobState.INTERRUPTED
            done, total = self.batches.progress(job.id)
            tracker.update(ctx.phase_name or "process", done, total, "Cancelled", force=True)
            self.store.cancel_pending_batches(job.id)
            if self.store.finish(job.id, self.worker_id, JobState.CANCELLED) is None:
                log.warning("job %d: could not record its cancel (no longer ours)", job.id)
            return JobState.CANCELLED
        except Exception as exc:
            if self.guard.is_lost_by(exc):
                log.info("job %d (%s) stopped: the database is gone", job.id, job.kind)
                return JobState.INTERRUPTED
            log.exception("job %d (%s) failed", job.id, job.kind)
            message = str(exc) if isinstance(exc, LuminaError) else f"{type(exc).__name__}: {exc}"
            if self.store.finish(job.id, self.worker_id, JobState.FAILED, error=message[:2000]) is None:
                # a cancel arrived meanwhile (cancelling → failed is not a transition): end it cancelled
                self.store.cancel_pending_batches(job.id)
                if self.store.finish(job.id, self.worker_id, JobState.CANCELLED, error=message[:2000]) is None:
                    log.warning("job %d: could not record its end (no longer ours)", job.id)
                return JobState.CANCELLED
            return JobState.FAILED

    def _announce_end(self, kind: JobKind[Any], job: JobSnapshot) -> None:
        """A job that changes photos ended: views re-read once more (its last commit is in)."""
        if kind.finish_aspects and job.catalog_id is not None:
            try:
                self.store.record_changes(None, job.catalog_id, job.id, kind.name, (), kind.finish_aspects)
            except Exception:
                log.warning("could not announce the end of job %d to the change feed", job.id, exc_info=True)

    def _follow_ons(self, kind: JobKind[Any], job: JobSnapshot) -> list[tuple[str, Mapping[str, Any]]]:
        names = [n for n in kind.follow_ons if n not in self.settings.disabled_follow_ons]
        if not names:
            return []
        changed = self.store.changed_photos(job.id)
        out = []
        for name in names:
            params = self.registry.get(name).follow_on_params(job, changed)
            if params is not None:
                out.append((name, params))
        return out

    def _cancel_requested(self, job_id: int) -> bool:
        st = self.store.job_state(job_id)
        if st is not None and st[2] != self.worker_id and st[0] not in (JobState.CANCELLED,):
            raise _LostOwnership()
        return st is None or st[1] or st[0] in (JobState.CANCELLING, JobState.CANCELLED)

    def _process(self, ctx: JobContext, kind: JobKind[Any], token: threading.Event) -> list[str]:
        """Claim and run this job's batches until none is pending or running anywhere."""
        job = ctx.job
        loop = ClaimLoop(self.runner, self.executor, self.workers + 1)
        failures: list[str] = []
        # a resumed job starts where its stored batches got to (not at 0, and no burst of "rate")
        ctx.phase("process", kind.phase_label("process"), *self.batches.progress(job.id))
        next_progress = next_owner_check = 0.0
        handed_over = False
        try:
            while not token.is_set():
                loop.fill(job_id=job.id, job_of=lambda b: job, token_of=lambda _j: token)
                if loop.inflight:
                    for outcome in loop.collect(self.timing.cancel_poll_s):
                        if outcome.state == BatchState.FAILED:
                            failures.append(outcome.error or "unknown error")
                        elif outcome.error == LOST_CLAIM:
                            next_owner_check = 0.0  # were we presumed dead?
                else:
                    summary = self.store.batch_summary(job.id)
                    if not summary.get(BatchState.PENDING.value) and not summary.get(BatchState.RUNNING.value):
                        # batches handed back by a worker that stopped are work still to do
                        if not (summary.get(BatchState.CANCELLED.value) and self.store.requeue_cancelled(job.id)):
                            break
                    token.wait(self.timing.cancel_poll_s)  # batches run elsewhere (or retry pending)
                now = time.monotonic()
                if now >= next_owner_check:
                    next_owner_check = now + 1.0
                    try:
                        self._cancel_requested(job.id)  # raises _LostOwnership if the job was taken back
                    except _LostOwnership:
                        # our batches stop at their next item and go back to the job (pending), whose
                        # new owner runs them: nothing of its work is cancelled
                        handed_over = True
                        self.batches.cancel_local(job.id)
                        raise
                if now >= next_progress:
                    next_progress = now + self.timing.progress_interval_s / 2
                    done, total = self.batches.progress(job.id)
                    ctx.tracker.update("process", done, total, f"{done:,} of {total:,}",
                                       partial=self.batches.counters.partial(job.id))
        finally:
            had_inflight = bool(loop.inflight)
            loop.drain()
            if had_inflight and not self.guard.is_lost:
                if not handed_over:  # (a job another process took over meanwhile is handed back too)
                    st = self.store.job_state(job.id)
                    handed_over = st is not None and st[2] != self.worker_id
                self.store.release_owned(self.worker_id, job.id,
                                         BatchState.PENDING if handed_over else BatchState.CANCELLED)
        if self.guard.lost is not None:
            raise self.guard.lost
        failed = self.store.batch_summary(job.id).get(BatchState.FAILED.value)
        if failed and not failures:
            failures.append(f"{failed[0]} batch(es) failed")
        return failures


def _check_catalog(kind: JobKind[Any], catalog_id: int | None) -> None:
    if kind.needs_catalog and catalog_id is None:
        raise LuminaError(f"a {kind.title.lower() or kind.name} job needs a catalog")


def _cancellable(items: Iterable[Any], ctx: JobContext) -> Iterator[Any]:
    for i, item in enumerate(items):
        if i % 256 == 0:
            ctx.check_cancelled()
        yield item
