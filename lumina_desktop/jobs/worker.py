"""A headless worker process: claims batches of running jobs from PostgreSQL (its own threads).

``lumina-desktop worker`` runs this against the same database as an app or CLI that owns jobs;
the owner's coordinator sees its batches complete and finalizes the job as usual.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import FIRST_COMPLETED, Future, wait

from lumina_desktop.config import Settings
from lumina_desktop.core.jobs import BatchState
from lumina_desktop.db import jobs as jobs_db
from lumina_desktop.db.pool import Database
from lumina_desktop.jobs.batches import BatchManager, BatchOutcome, CancelWatcher
from lumina_desktop.jobs.context import JobEnv
from lumina_desktop.jobs.coordinator import EngineTiming, Heartbeat, new_worker_id
from lumina_desktop.jobs.executor import get_executor
from lumina_desktop.jobs.registry import kind_names

log = logging.getLogger(__name__)


class WorkerProcess:
    def __init__(self, db: Database, settings: Settings, *, timing: EngineTiming | None = None,
                 kinds: list[str] | None = None) -> None:
        self.db = db
        self.timing = timing or EngineTiming()
        self.worker_id = new_worker_id("worker")
        self.batches = BatchManager(db, self.worker_id)
        self.env = JobEnv(db, settings, self.worker_id)
        self.threads = settings.background_workers
        self.kinds = kinds or kind_names()
        self.stop_event = threading.Event()
        self.batches_done = 0

    def run(self, *, max_batches: int | None = None, idle_exit_s: float | None = None) -> int:
        """Claim and run batches until stopped; returns the number of batches completed."""
        executor = get_executor(self.threads)
        heartbeat = Heartbeat(self.batches, self.timing, self.threads, "worker")
        heartbeat.queued = lambda: executor._work_queue.qsize()  # noqa: SLF001
        heartbeat.start()
        watcher = CancelWatcher(self.batches, self.timing.cancel_poll_s)
        inflight: dict[Future[BatchOutcome], int] = {}
        idle_since: float | None = None
        import time

        try:
            while not self.stop_event.is_set():
                room = self.threads - len(inflight)
                if room > 0 and (max_batches is None or self.batches_done + len(inflight) < max_batches):
                    for batch in self.batches.claim(room, kinds=self.kinds):
                        with self.db.connection() as conn:
                            job = jobs_db.get_job(conn, batch.job_id)
                        if job is None:
                            continue
                        token = self.batches.token(batch.job_id)
                        token.clear()  # a claim succeeds only for jobs not being cancelled
                        inflight[executor.submit(self.batches.run_batch, self.env, job, batch, token)] = batch.id
                if inflight:
                    idle_since = None
                    done, _ = wait(list(inflight), timeout=self.timing.cancel_poll_s, return_when=FIRST_COMPLETED)
                    for fut in done:
                        inflight.pop(fut)
                        if fut.result().state == BatchState.SUCCEEDED:
                            self.batches_done += 1
                else:
                    if max_batches is not None and self.batches_done >= max_batches:
                        break
                    idle_since = idle_since or time.monotonic()
                    if idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                        break
                    self.stop_event.wait(self.timing.cancel_poll_s * 2)
        finally:
            # give unfinished work back: batches stop at their next item and return to pending
            for job_id in {b for b in list(self.batches._tokens)}:
                self.batches.cancel_local(job_id)
            if inflight:
                wait(list(inflight))
            with self.db.connection() as conn:
                conn.execute("UPDATE job_batches SET state = 'pending', claimed_by = NULL "
                             "WHERE claimed_by = %s AND state IN ('running', 'cancelled') AND job_id IN "
                             "(SELECT id FROM jobs WHERE state = 'running' AND NOT cancel_requested)",
                             (self.worker_id,))
            watcher.stop()
            heartbeat.stop()
        return self.batches_done
