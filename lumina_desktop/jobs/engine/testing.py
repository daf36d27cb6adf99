"""An in-memory job store and a synchronous executor: every kind is unit-tested without PostgreSQL (any thread).

    store = MemoryJobStore()
    engine = InlineEngine(KindRegistry([MyKind(repo=FakeRepo())]), settings, store)
    job = engine.run("my_kind", {"x": 1}, catalog_id=1)      # discover, batches, finalize, inline
    assert job.state == JobState.SUCCEEDED

The engine code that runs is the real one (coordinator, batch runner with its commit cadence,
progress tracker, follow-ons); only the store and the pool are replaced.  ``cancel_after_items``
trips the job's token after that many items, to test a kind's cancel and resume.  A memory
"transaction" does not roll back (the job tables are written last in a commit, so a kind's
error leaves them untouched, but a fake repository keeps what it wrote): lost-claim and
store-failure rollbacks are tested on PostgreSQL.
"""
from __future__ import annotations

import copy
import itertools
import threading
import uuid
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Collection, Iterator, Mapping, Sequence

from lumina_desktop.config import Settings
from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.jobs import (
    BatchRow,
    BatchState,
    ItemError,
    JobProgress,
    JobSnapshot,
    JobState,
    can_transition,
)
from lumina_desktop.jobs.engine.coordinator import EngineTiming, JobCoordinator
from lumina_desktop.jobs.engine.executor import Lanes
from lumina_desktop.jobs.engine.registry import KindRegistry


class SyncExecutor(Executor):
    """Runs each submitted call at once on the calling thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _Job:
    id: int
    kind: str
    catalog_id: int | None
    params: dict[str, Any]
    parent_job_id: int | None
    owner: str | None
    state: JobState = JobState.PENDING
    cancel_requested: bool = False
    discovered: bool = False
    discovery: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=_now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    result: dict[str, Any] | None = None
    progress: JobProgress | None = None


@dataclass
class _Batch:
    id: int
    job_id: int
    seq: int
    items: list[Any]
    state: BatchState = BatchState.PENDING
    attempts: int = 0
    claimed_by: str | None = None
    claim_id: str = ""
    done_items: int = 0
    succeeded: int = 0
    failed: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    error: str | None = None


class MemoryJobStore:
    """``JobStore`` in dicts, guarded by the same state transitions as the PostgreSQL store."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.jobs: dict[int, _Job] = {}
        self.batches: dict[int, _Batch] = {}
        self.errors: dict[int, dict[str, ItemError]] = {}
        self.changes: list[tuple[int, int, str, tuple[int, ...]]] = []  # catalog, job, kind, photo ids
        self.live: set[str] = set()
        # the whole feed: catalog, job, kind, photo ids (may be none: not itemised), aspects
        self.published: list[JobProgress] = []   # every progress write, as sent (before clamping)
        self.feed: list[tuple[int, int | None, str, tuple[int, ...], frozenset[Aspect]]] = []
        self.commits = 0
        self._ids = itertools.count(1)
        self._batch_ids = itertools.count(1)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._lock:
            yield self

    # -- liveness
    def attach(self, worker_id: str, role: str, threads: int, lease_s: float | None = None) -> None:
        self.live.add(worker_id)

    def detach(self, worker_id: str, *, record: bool = True) -> None:
        self.live.discard(worker_id)

    def lost_reason(self, exc: BaseException) -> str | None:
        return None  # memory does not go away

    def heartbeat(self, worker_id: str, busy: int, queued: int, items_done: int) -> None:
        pass

    def recover_dead(self) -> list[int]:
        out = []
        with self._lock:
            for j in self.jobs.values():
                if j.state in (JobState.RUNNING, JobState.CANCELLING) and j.owner not in self.live:
                    self._finish(j, JobState.CANCELLED if j.state == JobState.CANCELLING else JobState.INTERRUPTED)
                    j.owner = None
                    out.append(j.id)
            for b in self.batches.values():
                if b.state == BatchState.RUNNING and b.claimed_by not in self.live:
                    b.state, b.claimed_by = BatchState.PENDING, None
            for j in self.jobs.values():  # queued jobs reserved by a dead process: anyone may take them
                if j.state == JobState.PENDING and j.owner is not None and j.owner not in self.live:
                    j.owner = None
        return out

    def kill(self, worker_id: str) -> None:
        """Simulate the death of a process (its liveness lock goes)."""
        self.live.discard(worker_id)

    # -- jobs
    def create_job(self, kind: str, catalog_id: int | None, params: Mapping[str, Any], *,
                   parent_job_id: int | None = None, owner: str | None = None) -> int:
        with self._lock:
            job_id = next(self._ids)
            self.jobs[job_id] = _Job(job_id, kind, catalog_id, copy.deepcopy(dict(params)), parent_job_id, owner)
            return job_id

    def get_job(self, job_id: int) -> JobSnapshot | None:
        with self._lock:
            j = self.jobs.get(job_id)
            if j is None:
                return None
            return JobSnapshot(j.id, j.catalog_id, j.kind, j.state, copy.deepcopy(j.params), j.owner, j.created_at,
                               j.started_at, j.finished_at, j.error, copy.deepcopy(j.result),
                               len(self.errors.get(j.id, {})), j.cancel_requested, j.progress, j.parent_job_id)

    def children(self, job_id: int) -> list[JobSnapshot]:
        return [s for j in list(self.jobs.values()) if j.parent_job_id == job_id
                for s in [self.get_job(j.id)] if s is not None]

    def _move(self, j: _Job, new: JobState) -> bool:
        if not can_transition(j.state, new):
            return False
        j.state = new
        return True

    def take_ownership(self, job_id: int, owner: str) -> bool:
        with self._lock:
            j = self.jobs[job_id]
            if j.state != JobState.PENDING or j.cancel_requested or j.owner not in (None, owner):
                return False
            self._move(j, JobState.RUNNING)
            j.owner, j.started_at = owner, j.started_at or _now()
            return True

    def pending_jobs(self, kinds: Sequence[str]) -> list[int]:
        with self._lock:
            return [j.id for j in self.jobs.values() if j.state == JobState.PENDING and j.owner is None
                    and not j.cancel_requested and j.kind in kinds]

    def job_state(self, job_id: int) -> tuple[JobState, bool, str | None] | None:
        j = self.jobs.get(job_id)
        return (j.state, j.cancel_requested, j.owner) if j else None

    def cancel_requested_among(self, job_ids: Sequence[int]) -> list[int]:
        return [i for i in job_ids if i in self.jobs and (self.jobs[i].cancel_requested or self.jobs[i].state in
                                                          (JobState.CANCELLING, JobState.CANCELLED))]

    def request_cancel(self, job_id: int, *, owner: str | None = None) -> JobState | None:
        with self._lock:
            self.recover_dead()
            j = self.jobs.get(job_id)
            if j is None:
                return None
            if owner is not None and j.owner != owner:
                return j.state
            self.cancel_pending_batches(job_id)
            if j.state in (JobState.PENDING, JobState.INTERRUPTED):
                j.cancel_requested = True
                self._finish(j, JobState.CANCELLED)
            elif j.state == JobState.RUNNING:
                j.cancel_requested = True
                self._move(j, JobState.CANCELLING)
            return j.state

    def resume(self, job_id: int) -> bool:
        with self._lock:
            self.recover_dead()
            j = self.jobs.get(job_id)
            if j is None or not self._move(j, JobState.PENDING):
                return False
            j.cancel_requested, j.owner, j.error, j.finished_at, j.result = False, None, None, None, None
            if j.progress is not None:  # the bar restarts from what is stored, as on PostgreSQL
                j.progress = replace(j.progress, phase="queued", done=0, fraction=0.0, message="Waiting to resume",
                                     rate=None, eta_s=None)
            for b in self.batches.values():
                if b.job_id == job_id and b.state != BatchState.SUCCEEDED:
                    b.state, b.claimed_by, b.attempts, b.error = BatchState.PENDING, None, 0, None
            return True

    def _finish(self, j: _Job, state: JobState) -> bool:
        if not self._move(j, state):
            return False
        if state.is_finished:
            j.finished_at = _now()
            j.cancel_requested = j.cancel_requested and state == JobState.CANCELLED
        return True

    def finish(self, job_id: int, owner: str, state: JobState, *, error: str | None = None,
               result: Mapping[str, Any] | None = None,
               follow_ons: Sequence[tuple[str, Mapping[str, Any]]] = ()) -> list[int] | None:
        with self._lock:
            j = self.jobs[job_id]
            if j.owner != owner or not self._finish(j, state):
                return None
            j.error, j.result = error, copy.deepcopy(dict(result)) if result is not None else None
            return [self.create_job(k, j.catalog_id, p, parent_job_id=job_id) for k, p in follow_ons]

    def leave_interrupted(self, job_id: int, owner: str) -> None:
        with self._lock:
            j = self.jobs[job_id]
            if j.owner == owner and self._move(j, JobState.INTERRUPTED):
                j.owner = None
            for b in self.batches.values():
                if b.job_id == job_id and b.state in (BatchState.RUNNING, BatchState.CANCELLED):
                    b.state, b.claimed_by = BatchState.PENDING, None

    # -- discovery
    def is_discovered(self, job_id: int) -> bool:
        return self.jobs[job_id].discovered

    def reset_batches(self, tx: Any, job_id: int) -> None:
        for bid in [b.id for b in self.batches.values() if b.job_id == job_id]:
            del self.batches[bid]

    def insert_batches(self, tx: Any, job_id: int, first_seq: int, batches: Sequence[list[Any]]) -> None:
        for i, items in enumerate(batches):
            bid = next(self._batch_ids)
            self.batches[bid] = _Batch(bid, job_id, first_seq + i, copy.deepcopy(list(items)))

    def save_discovery(self, tx: Any, job_id: int, stats: Mapping[str, Any]) -> None:
        j = self.jobs[job_id]
        j.discovery, j.discovered = copy.deepcopy(dict(stats)), True

    def discovery(self, job_id: int) -> dict[str, Any]:
        return copy.deepcopy(self.jobs[job_id].discovery)

    def record_item_errors(self, tx: Any, job_id: int, batch_id: int | None,
                           errors: Sequence[tuple[str, str, str]]) -> None:
        for item, cls, msg in errors:
            self.errors.setdefault(job_id, {})[item] = ItemError(job_id, item, cls, msg, _now())

    def item_errors(self, job_id: int) -> list[ItemError]:
        return list(self.errors.get(job_id, {}).values())

    # -- batches
    def claim_batches(self, owner: str, limit: int, *, job_id: int | None = None,
                      kinds: Sequence[str] | None = None) -> list[BatchRow]:
        out = []
        with self._lock:
            for b in sorted(self.batches.values(), key=lambda b: (b.job_id, b.seq)):
                j = self.jobs[b.job_id]
                if len(out) >= limit:
                    break
                if b.state != BatchState.PENDING or j.state != JobState.RUNNING or not j.discovered \
                        or j.cancel_requested or (job_id is not None and b.job_id != job_id) \
                        or (kinds is not None and j.kind not in kinds):
                    continue
                b.state, b.claimed_by, b.attempts = BatchState.RUNNING, owner, b.attempts + 1
                b.claim_id = uuid.uuid4().hex
                out.append(BatchRow(b.id, b.job_id, b.seq, copy.deepcopy(b.items), b.attempts, j.kind,
                                    b.done_items, j.catalog_id, b.claim_id))
        return out

    def commit_batch(self, tx: Any, batch: BatchRow, owner: str, *, done_items: int, succeeded: int,
                     failed: int, counters: Mapping[str, int], is_final: bool, duration_s: float) -> bool:
        b = self.batches[batch.id]
        if b.state != BatchState.RUNNING or b.claim_id != batch.claim_id:
            return False
        for k, v in counters.items():  # as strict as the bigint sum of the PostgreSQL store
            if not isinstance(v, int) or isinstance(v, bool):
                raise TypeError(f"counter {k!r} must be a whole number, got {v!r}")
        b.done_items, b.succeeded, b.failed = done_items, b.succeeded + succeeded, b.failed + failed
        for k, v in counters.items():
            b.counters[k] = b.counters.get(k, 0) + v
        if is_final:
            b.state = BatchState.SUCCEEDED
        self.commits += 1
        return True

    def record_changes(self, tx: Any, catalog_id: int, job_id: int | None, kind: str, photo_ids: Sequence[int],
                       aspects: Collection[Aspect]) -> None:
        if photo_ids:
            self.changes.append((catalog_id, job_id, kind, tuple(photo_ids)))
        self.feed.append((catalog_id, job_id, kind, tuple(photo_ids), frozenset(aspects)))

    def release_batch(self, batch: BatchRow, state: BatchState, error: str | None = None) -> None:
        with self._lock:
            b = self.batches[batch.id]
            if b.state == BatchState.RUNNING and b.claim_id == batch.claim_id:
                b.state, b.error = state, error
                if state == BatchState.PENDING:
                    b.claimed_by = None

    def requeue_cancelled(self, job_id: int) -> int:
        with self._lock:
            j = self.jobs[job_id]
            if j.state != JobState.RUNNING or j.cancel_requested:
                return 0
            n = 0
            for b in self.batches.values():
                if b.job_id == job_id and b.state == BatchState.CANCELLED:
                    b.state, b.claimed_by = BatchState.PENDING, None
                    n += 1
            return n

    def release_owned(self, owner: str, job_id: int | None, state: BatchState) -> None:
        with self._lock:
            for b in self.batches.values():
                j = self.jobs[b.job_id]
                sources = (BatchState.RUNNING, BatchState.CANCELLED) if state == BatchState.PENDING \
                    else (BatchState.RUNNING,)
                if b.claimed_by == owner and b.state in sources and job_id in (None, b.job_id) and (
                        state != BatchState.PENDING or (j.state == JobState.RUNNING and not j.cancel_requested)):
                    b.state = state
                    if state == BatchState.PENDING:
                        b.claimed_by = None

    def cancel_pending_batches(self, job_id: int) -> None:
        for b in self.batches.values():
            if b.job_id == job_id and b.state == BatchState.PENDING:
                b.state = BatchState.CANCELLED

    def batch_summary(self, job_id: int) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for b in self.batches.values():
            if b.job_id == job_id:
                n, items = out.get(b.state.value, (0, 0))
                out[b.state.value] = (n + 1, items + len(b.items))
        return out

    def stored_progress(self, job_id: int) -> tuple[int, int]:
        bs = [b for b in self.batches.values() if b.job_id == job_id]
        done = sum(len(b.items) if b.state == BatchState.SUCCEEDED else b.done_items for b in bs)
        return done, sum(len(b.items) for b in bs)

    def batch_totals(self, job_id: int) -> dict[str, int]:
        out: dict[str, int] = {}
        for b in self.batches.values():
            if b.job_id == job_id:
                for k, v in b.counters.items():
                    out[k] = out.get(k, 0) + v
        return out

    def changed_photos(self, job_id: int) -> list[int]:
        return sorted({p for _, j, _, ids in self.changes if j == job_id for p in ids})

    # -- progress
    def publish_progress(self, job_id: int, *, phase: str, done: int, total: int, fraction: float,
                         message: str, rate: float | None, eta_s: float | None) -> None:
        with self._lock:
            j = self.jobs[job_id]
            old = j.progress
            fraction = max(fraction, old.fraction if old else 0.0)
            j.progress = JobProgress(job_id, phase, done, total, min(fraction, 1.0), message, rate, eta_s, _now())
            self.published.append(JobProgress(job_id, phase, done, total, fraction, message, rate, eta_s))


class InlineEngine:
    """The real coordinator on a ``MemoryJobStore`` and a ``SyncExecutor``: jobs run to their end
    inside ``run`` on the calling thread, no threads started."""

    def __init__(self, registry: KindRegistry, settings: Settings, store: MemoryJobStore | None = None, *,
                 timing: EngineTiming | None = None) -> None:
        self.store = store or MemoryJobStore()
        self.registry = registry
        self.coordinator = JobCoordinator(self.store, settings, registry, timing=timing or EngineTiming(),
                                          role="test", executor=SyncExecutor(), lanes=Lanes(cpu=1, io=1),
                                          background=False)

    def run(self, kind: str, params: Mapping[str, Any] | None = None, *, catalog_id: int | None = None,
            cancel_after_items: int | None = None) -> JobSnapshot:
        co = self.coordinator
        k = self.registry.get(kind)
        k.parse_params(params or {})
        job_id = self.store.create_job(kind, catalog_id, dict(params or {}), owner=co.worker_id)
        return self.run_job(job_id, cancel_after_items=cancel_after_items)

    def run_job(self, job_id: int, *, cancel_after_items: int | None = None) -> JobSnapshot:
        co = self.coordinator
        if cancel_after_items is not None:
            counters = co.batches.counters
            start = counters.items_done
            token = co.batches.token(job_id)
            original = counters.batch_items

            def batch_items(batch_id: int, n: int) -> None:
                original(batch_id, n)
                if counters.items_done - start >= cancel_after_items:
                    co.batches.cancel(job_id)
                    token.set()

            counters.batch_items = batch_items  # type: ignore[method-assign]
            try:
                co._coordinate(job_id)  # noqa: SLF001 (inline on purpose)
            finally:
                counters.batch_items = original  # type: ignore[method-assign]
        else:
            co._coordinate(job_id)  # noqa: SLF001
        snap = self.store.get_job(job_id)
        assert snap is not None
        return snap

    def resume(self, job_id: int) -> JobSnapshot:
        if not self.store.resume(job_id):
            raise AssertionError(f"job {job_id} cannot resume")
        return self.run_job(job_id)

    def run_follow_ons(self, job_id: int) -> list[JobSnapshot]:
        """Run the jobs queued after ``job_id`` (recursively), as a window or worker would."""
        out = []
        for child in self.store.children(job_id):
            if child.state == JobState.PENDING:
                done = self.run_job(child.id)
                out.append(done)
                out.extend(self.run_follow_ons(child.id))
        return out

