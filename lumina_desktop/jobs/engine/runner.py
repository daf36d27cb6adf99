"""The one batch runner: claim → run items → commit, used by the coordinator AND ``worker`` (worker threads).

A batch commits what it has at least every ``commit_interval_s`` (or every
``commit_every_items`` items): the kind's results, the item errors, the photos it changed (the
change feed) and how far the batch got (``done_items``), in one transaction.  So the grid fills
while a scan runs, a cancel or crash loses at most about a second of work, a retry or resume
goes on from the last commit, and progress (read from the store) never counts more than is
stored.

When the database is gone (``guard.DatabaseGuard``) a batch stops where it is and writes nothing
more: its claim lapses with the server, and a resume redoes only what its last commit missed.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import psycopg

from lumina_desktop.core.errors import JobCancelled
from lumina_desktop.core.jobs import BatchRow, BatchState, JobSnapshot, JobState
from lumina_desktop.jobs.engine.batches import BatchManager
from lumina_desktop.jobs.engine.context import BatchInfo, ItemContext, JobEnv
from lumina_desktop.jobs.engine.executor import Lanes
from lumina_desktop.jobs.engine.guard import DatabaseGuard
from lumina_desktop.jobs.engine.kind import ItemFailure, ItemRunner, JobKind, Stored
from lumina_desktop.jobs.engine.registry import KindRegistry

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError, psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)
RUNNER_CACHE_SIZE = 4
LOST_CLAIM = "claim lost"
DATABASE_LOST = "database lost"


def is_transient(exc: BaseException) -> bool:
    """Lost connections and serialization conflicts are retried; everything else is not."""
    return isinstance(exc, TRANSIENT_ERRORS) and not isinstance(exc, psycopg.errors.QueryCanceled)


@dataclass(frozen=True)
class BatchOutcome:
    batch_id: int
    job_id: int
    state: BatchState
    processed: int
    failed: int
    error: str | None = None


class _LostClaim(Exception):
    """Our claim on a batch lapsed (we were presumed dead); the transaction rolls back."""


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:1000]


class _NoSlot:
    def acquire(self, is_low_priority: bool = False) -> None:
        pass

    def release(self, is_low_priority: bool = False) -> None:
        pass


_NO_SLOT = _NoSlot()


class BatchRunner:
    """Runs claimed batches of any registered kind on the calling (worker) thread."""

    def __init__(self, registry: KindRegistry, manager: BatchManager, env: JobEnv, lanes: Lanes, *,
                 commit_interval_s: float = 1.0, commit_every_items: int = 1000, threads: int = 0,
                 guard: DatabaseGuard | None = None) -> None:
        self.registry = registry
        self.manager = manager
        self.store = manager.store
        self.env = env
        self.lanes = lanes
        self.commit_interval_s = commit_interval_s
        self.commit_every_items = commit_every_items
        self.threads = threads  # batch threads of this process: a lane at least this wide never blocks
        self.guard = guard or DatabaseGuard(self.store.lost_reason)
        self._local = threading.local()

    def _params(self, kind: JobKind[Any], job: JobSnapshot) -> Any:
        """A job's typed parameters, parsed once per job and thread (not per batch)."""
        cache: dict[int, Any] | None = getattr(self._local, "params", None)
        if cache is None:
            cache = self._local.params = {}
        if job.id not in cache:
            if len(cache) > 64:
                cache.clear()
            cache[job.id] = kind.parse_params(job.params)
        return cache[job.id]

    # -- per-thread item runners (kind.open once per worker thread and parameter set)
    def item_runner(self, kind: JobKind[Any], params: Any, job_id: int) -> ItemRunner:
        cache: OrderedDict[Any, ItemRunner] | None = getattr(self._local, "runners", None)
        if cache is None:
            cache = self._local.runners = OrderedDict()
        try:
            key: Any = (kind.name, params)
            hash(key)
        except TypeError:
            key = (kind.name, "job", job_id)
        runner = cache.get(key)
        if runner is None:
            runner = kind.open(self.env, params)
            cache[key] = runner
            while len(cache) > RUNNER_CACHE_SIZE:
                _, old = cache.popitem(last=False)
                close = getattr(old, "close", None)
                if callable(close):
                    close()
        else:
            cache.move_to_end(key)
        return runner

    def run_batch(self, job: JobSnapshot, batch: BatchRow, token: threading.Event) -> BatchOutcome:
        kind = self.registry.get(batch.kind)
        counters = self.manager.counters
        counters.running(+1)
        cursor = batch.done_items
        results: list[tuple[Any, Any]] = []
        errors: list[tuple[str, str, str]] = []
        processed = failed = 0
        t_start = last_commit = time.monotonic()

        def commit(is_final: bool) -> None:
            nonlocal results, errors, last_commit
            now = time.monotonic()
            self._commit(kind, job, batch, results, errors, cursor, is_final, now - last_commit)
            results, errors, last_commit = [], [], now

        try:
            params = self._params(kind, job)
            runner = self.item_runner(kind, params, job.id)
            partial = [False]

            def on_progress(f: float) -> None:
                partial[0] = True
                counters.set_partial(job.id, f)

            ictx = ItemContext(self.env, job, params, token, on_progress=on_progress)
            slots: Any = self.lanes.slots(kind.lane)
            low = kind.is_low_priority
            if not low and self.threads and slots.size >= self.threads:
                slots = _NO_SLOT  # e.g. the IO lane: as wide as the pool, so it can never block
            n_items, every, interval = len(batch.items), self.commit_every_items, self.commit_interval_s
            monotonic = time.monotonic
            for item in batch.items[batch.done_items:]:
                if token.is_set():
                    raise JobCancelled(f"job {batch.job_id} cancelled")
                slots.acquire(low)
                try:
                    results.append((item, runner(ictx, item)))
                except JobCancelled:
                    raise
                except ItemFailure as fail:  # recorded, and handed to store()
                    errors.append((kind.item_key(item), fail.error_class, fail.message))
                    results.append((item, fail))
                    failed += 1
                except Exception as exc:  # one bad item never fails the batch (a lost database does)
                    self.guard.check(exc)
                    errors.append((kind.item_key(item), type(exc).__name__, one_line(exc)))
                    failed += 1
                finally:
                    slots.release(low)
                    if partial[0]:
                        partial[0] = False
                        counters.clear_partial(job.id)
                cursor += 1
                processed += 1
                counters.batch_items(batch.id, processed)
                if cursor < n_items and (monotonic() - last_commit >= interval
                                         or len(results) + len(errors) >= every):
                    commit(is_final=False)
            commit(is_final=True)
            return BatchOutcome(batch.id, batch.job_id, BatchState.SUCCEEDED, processed, failed)
        except JobCancelled:
            if self.guard.is_lost:  # the database is gone: nothing can be kept or released
                return BatchOutcome(batch.id, batch.job_id, BatchState.PENDING, processed, failed, DATABASE_LOST)
            try:
                if results or errors:
                    commit(is_final=False)  # what was done is kept
            except _LostClaim:
                return BatchOutcome(batch.id, batch.job_id, BatchState.CANCELLED, processed, failed, LOST_CLAIM)
            except Exception as exc:
                if self.guard.is_lost_by(exc):
                    return BatchOutcome(batch.id, batch.job_id, BatchState.PENDING, processed, failed, DATABASE_LOST)
                log.warning("batch %d: could not keep its last items after cancel: %s", batch.id, one_line(exc))
            # the job was cancelled: the batch is cancelled; this process is only stopping: hand it back
            try:
                st = self.store.job_state(batch.job_id)
                job_goes_on = st is not None and st[0] == JobState.RUNNING and not st[1]
                state = BatchState.PENDING if job_goes_on else BatchState.CANCELLED
                self.store.release_batch(batch, state)
            except Exception as exc:
                if self.guard.is_lost_by(exc):
                    return BatchOutcome(batch.id, batch.job_id, BatchState.PENDING, processed, failed, DATABASE_LOST)
                raise
            return BatchOutcome(batch.id, batch.job_id, state, processed, failed)
        except _LostClaim:
            # another claim took the batch over (we were presumed dead, or cancel + resume + reclaim):
            # nothing of ours was committed since our last commit, and the batch is not ours to release
            log.info("batch %d: claim lost; its last uncommitted items are left to the new claim", batch.id)
            return BatchOutcome(batch.id, batch.job_id, BatchState.CANCELLED, processed, failed, LOST_CLAIM)
        except Exception as exc:
            if self.guard.is_lost_by(exc):
                return BatchOutcome(batch.id, batch.job_id, BatchState.PENDING, processed, failed, DATABASE_LOST)
            state = self.fail(batch, exc)
            return BatchOutcome(batch.id, batch.job_id, state, processed, failed, one_line(exc))
        finally:
            counters.batch_over(batch.id)
            counters.running(-1)
            log.debug("batch %d: %d items in %.2f s", batch.id, processed, time.monotonic() - t_start)

    def _commit(self, kind: JobKind[Any], job: JobSnapshot, batch: BatchRow, results: list[tuple[Any, Any]],
                errors: list[tuple[str, str, str]], cursor: int, is_final: bool, duration_s: float) -> None:
        """Results, item errors, changed photos and how far the batch got, in one transaction."""
        info = BatchInfo(batch.id, batch.job_id, batch.seq, batch.attempts, batch.catalog_id)
        with self.store.transaction() as tx:
            stored = kind.store(tx, job, info, results) if results else Stored()
            self.store.record_item_errors(tx, batch.job_id, batch.id, [*errors, *stored.item_errors])
            if batch.catalog_id is not None:
                for aspects, ids in stored.feed_rows(kind.change_aspects):
                    self.store.record_changes(tx, batch.catalog_id, batch.job_id, kind.name, ids, aspects)
            n_ok = sum(1 for _, r in results if not isinstance(r, ItemFailure))
            ok = self.store.commit_batch(tx, batch, self.manager.worker_id, done_items=cursor, succeeded=n_ok,
                                         failed=len(errors), counters=stored.counters, is_final=is_final,
                                         duration_s=duration_s)
            if not ok:
                raise _LostClaim(f"batch {batch.id} was reclaimed by another worker")

    def fail(self, batch: BatchRow, exc: BaseException) -> BatchState:
        """A batch raised: retry transient causes a bounded number of times, else mark it failed."""
        retry = is_transient(exc) and batch.attempts < MAX_ATTEMPTS
        state = BatchState.PENDING if retry else BatchState.FAILED
        msg = f"{type(exc).__name__}: {exc}".strip()[:2000]
        for attempt in range(MAX_ATTEMPTS):
            try:
                self.store.release_batch(batch, state, msg)
                break
            except psycopg.OperationalError as release_exc:
                if self.guard.is_lost_by(release_exc):
                    return BatchState.PENDING
                time.sleep(0.2 * (attempt + 1))
        (log.warning if retry else log.error)("batch %d of job %d %s after attempt %d: %s", batch.id,
                                              batch.job_id, "will retry" if retry else "failed", batch.attempts, msg)
        return state


class ClaimLoop:
    """Claims batches and keeps the pool fed; the coordinator (one job) and the worker (any job)
    both drive one of these."""

    def __init__(self, runner: BatchRunner, executor: Executor, capacity: int) -> None:
        self.runner = runner
        self.executor = executor
        self.capacity = capacity
        self.inflight: dict[Future[BatchOutcome], int] = {}
        self._job_of_batch: dict[int, int] = {}

    def jobs_inflight(self) -> set[int]:
        return {self._job_of_batch[b] for b in self.inflight.values() if b in self._job_of_batch}

    def fill(self, *, job_id: int | None = None, kinds: Sequence[str] | None = None,
             job_of: Callable[[BatchRow], JobSnapshot | None], token_of: Callable[[int], threading.Event],
             limit: int | None = None) -> int:
        room = self.capacity - len(self.inflight)
        if limit is not None:
            room = min(room, limit)
        if room <= 0:
            return 0
        batches = self.runner.manager.claim(room, job_id=job_id, kinds=list(kinds) if kinds is not None else None)
        for batch in batches:
            job = job_of(batch)
            if job is None:
                self.runner.store.release_batch(batch, BatchState.PENDING)
                continue
            fut = self.executor.submit(self.runner.run_batch, job, batch, token_of(batch.job_id))
            self.inflight[fut] = batch.id
            self._job_of_batch[batch.id] = batch.job_id
        return len(batches)

    def collect(self, timeout_s: float) -> list[BatchOutcome]:
        """Wait up to ``timeout_s`` for a batch to end; returns the outcomes of those that did."""
        if not self.inflight:
            return []
        done, _ = wait(list(self.inflight), timeout=timeout_s, return_when=FIRST_COMPLETED)
        out = []
        for fut in done:
            self._job_of_batch.pop(self.inflight.pop(fut), None)
            if not fut.cancelled():
                out.append(fut.result())
        return out

    def drain(self) -> None:
        """Cancel queued batches and wait for running ones (their items stop at the next check)."""
        for fut in list(self.inflight):
            fut.cancel()
        if self.inflight:
            wait(list(self.inflight))
        self.inflight.clear()
