"""BatchManager: create, claim (SKIP LOCKED), run, complete, fail, cancel, resume (any non-GUI thread).

``BatchManager.cancel(job_id)`` may be called from any thread or process: it records the request
in PostgreSQL, cancels pending batches, and trips the in-process token of a job this process runs
so its workers stop before their next item.  Other processes see the request by polling.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import psycopg

from lumina_desktop.core.errors import JobCancelled
from lumina_desktop.core.jobs import BatchState, JobSnapshot, JobState
from lumina_desktop.db import jobs as jobs_db
from lumina_desktop.db.jobs import BatchRow
from lumina_desktop.db.pool import Database
from lumina_desktop.jobs.context import BatchInfo, JobEnv
from lumina_desktop.jobs.registry import ItemFailure, get_kind

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError, psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)


def is_transient(exc: BaseException) -> bool:
    """Lost connections and serialization conflicts are retried; everything else is not."""
    return isinstance(exc, TRANSIENT_ERRORS) and not isinstance(exc, psycopg.errors.QueryCanceled)


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class BatchOutcome:
    batch_id: int
    job_id: int
    state: BatchState
    processed: int
    failed: int
    error: str | None = None


class _Counters:
    """Items done by this process's running batches (for live progress) and in total."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.inflight: dict[int, int] = defaultdict(int)  # job_id -> items done in running batches
        self.items_done = 0
        self.busy = 0

    def item_done(self, job_id: int) -> None:
        with self._lock:
            self.inflight[job_id] += 1
            self.items_done += 1

    def batch_over(self, job_id: int, n: int) -> None:
        with self._lock:
            self.inflight[job_id] = max(0, self.inflight[job_id] - n)

    def running(self, delta: int) -> None:
        with self._lock:
            self.busy += delta


class BatchManager:
    """All batch bookkeeping for one process (its ``worker_id``), backed by PostgreSQL."""

    def __init__(self, db: Database, worker_id: str) -> None:
        self.db = db
        self.worker_id = worker_id
        self.counters = _Counters()
        self._tokens: dict[int, threading.Event] = {}
        self._tokens_lock = threading.Lock()

    # -- tokens (in-process cancel)
    def token(self, job_id: int) -> threading.Event:
        with self._tokens_lock:
            return self._tokens.setdefault(job_id, threading.Event())

    def drop_token(self, job_id: int) -> None:
        with self._tokens_lock:
            self._tokens.pop(job_id, None)

    def cancel_local(self, job_id: int) -> None:
        with self._tokens_lock:
            ev = self._tokens.get(job_id)
        if ev is not None:
            ev.set()

    # -- the API of the seed
    def create_batches(self, conn: psycopg.Connection, job_id: int, items: Iterable[Any], batch_size: int) -> int:
        """Split work items into batches (caller's transaction).  Returns the number of items."""
        total, seq = 0, 0
        for chunk_of_batches in chunked(chunked(items, batch_size), 200):
            jobs_db.insert_batches(conn, job_id, seq, chunk_of_batches)
            seq += len(chunk_of_batches)
            total += sum(len(b) for b in chunk_of_batches)
        return total

    def claim(self, limit: int, *, job_id: int | None = None, kinds: list[str] | None = None) -> list[BatchRow]:
        with self.db.connection() as conn:
            return jobs_db.claim_batches(conn, self.worker_id, limit, job_id=job_id, kinds=kinds)

    def cancel(self, job_id: int) -> JobState | None:
        """Request cancellation (any thread, any process); returns the job's new state."""
        self.cancel_local(job_id)
        with self.db.connection() as conn:
            return jobs_db.request_cancel(conn, job_id)

    def resume(self, job_id: int) -> bool:
        with self.db.connection() as conn:
            return jobs_db.resume_job(conn, job_id)

    def find_stale(self, stale_after_s: float) -> list[int]:
        """Interrupt jobs of dead owners and return dead workers' batches to pending."""
        with self.db.connection() as conn:
            return jobs_db.recover_stale(conn, stale_after_s)

    def progress(self, job_id: int) -> tuple[int, int]:
        """(items done, items total) aggregated over all batches and this process's running ones."""
        with self.db.connection() as conn:
            summary = jobs_db.batch_summary(conn, job_id)
        total = sum(items for _, items in summary.values())
        done = summary.get("succeeded", (0, 0))[1] + summary.get("failed", (0, 0))[1]
        with self.counters._lock:
            done += self.counters.inflight.get(job_id, 0)
        return min(done, total), total

    def fail(self, batch: BatchRow, exc: BaseException) -> BatchState:
        """A batch raised: retry transient causes a bounded number of times, else mark it failed."""
        retry = is_transient(exc) and batch.attempts < MAX_ATTEMPTS
        state = BatchState.PENDING if retry else BatchState.FAILED
        msg = f"{type(exc).__name__}: {exc}".strip()[:2000]
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self.db.connection() as conn:
                    jobs_db.release_batch(conn, batch.id, self.worker_id, state, msg)
                break
            except psycopg.OperationalError:
                time.sleep(0.2 * (attempt + 1))
        (log.warning if retry else log.error)("batch %d of job %d %s after attempt %d: %s", batch.id,
                                              batch.job_id, "will retry" if retry else "failed", batch.attempts, msg)
        return state

    # -- running one batch (in a worker thread)
    def run_batch(self, env: JobEnv, job: JobSnapshot, batch: BatchRow, token: threading.Event) -> BatchOutcome:
        kind = get_kind(batch.kind)
        info = BatchInfo(batch.id, batch.job_id, batch.seq, batch.attempts)
        results: list[tuple[Any, Any]] = []
        errors: list[tuple[str, str, str]] = []
        t0 = time.monotonic()
        self.counters.running(+1)
        n = 0
        try:
            for item in batch.items:
                if token.is_set():
                    raise JobCancelled(f"job {batch.job_id} cancelled")
                try:
                    results.append((item, kind.process_item(env, job, item)))
                except JobCancelled:
                    raise
                except ItemFailure as fail:  # recorded, and handed to store()
                    errors.append((kind.item_key(item), fail.error_class, fail.message))
                    results.append((item, fail))
                except Exception as exc:  # one bad item never fails the batch
                    errors.append((kind.item_key(item), type(exc).__name__, _one_line(exc)))
                n += 1
                self.counters.item_done(batch.job_id)
            if token.is_set():  # do not commit a batch whose job was cancelled meanwhile
                raise JobCancelled(f"job {batch.job_id} cancelled")
            self._commit(kind, job, info, batch, results, errors, time.monotonic() - t0)
            return BatchOutcome(batch.id, batch.job_id, BatchState.SUCCEEDED, n, len(errors))
        except JobCancelled:
            with self.db.connection() as conn:
                jobs_db.release_batch(conn, batch.id, self.worker_id, BatchState.CANCELLED)
            return BatchOutcome(batch.id, batch.job_id, BatchState.CANCELLED, n, len(errors))
        except Exception as exc:
            state = self.fail(batch, exc)
            return BatchOutcome(batch.id, batch.job_id, state, n, len(errors), _one_line(exc))
        finally:
            self.counters.batch_over(batch.job_id, n)
            self.counters.running(-1)

    def _commit(self, kind: Any, job: JobSnapshot, info: BatchInfo, batch: BatchRow,
                results: list[tuple[Any, Any]], errors: list[tuple[str, str, str]], duration_s: float) -> None:
        """Results, item errors and the batch's status in one transaction."""
        with self.db.connection() as conn:
            with conn.transaction():
                counters = kind.store(conn, job, info, results)
                jobs_db.record_item_errors(conn, batch.job_id, batch.id, errors)
                n_ok = sum(1 for _, r in results if not isinstance(r, ItemFailure))
                ok = jobs_db.complete_batch(conn, batch.id, self.worker_id, processed=n_ok + len(errors),
                                            succeeded=n_ok, failed=len(errors), duration_s=duration_s,
                                            result=counters)
                if not ok:
                    raise _LostClaim(f"batch {batch.id} was reclaimed by another worker")


class _LostClaim(Exception):
    """Our claim on a batch lapsed (we were presumed dead); the transaction rolls back."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:1000]


class CancelWatcher:
    """Polls PostgreSQL for cancel requests of jobs this process works on and trips their tokens.

    This is how a Cancel pressed in another process (or the CLI) reaches our workers within one
    item: one cheap query every ``interval_s`` while any job is active here.
    """

    def __init__(self, manager: BatchManager, interval_s: float = 0.1) -> None:
        self.manager = manager
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lumina-cancel-watch")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            with self.manager._tokens_lock:
                watched = [j for j, ev in self.manager._tokens.items() if not ev.is_set()]
            if not watched:
                continue
            try:
                with self.manager.db.connection() as conn:
                    rows = conn.execute("SELECT id FROM jobs WHERE id = ANY(%s) AND (cancel_requested "
                                        "OR state IN ('cancelling', 'cancelled'))", (watched,)).fetchall()
            except Exception:
                log.warning("cancel poll failed", exc_info=True)
                continue
            for (job_id,) in rows:
                self.manager.cancel_local(job_id)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
