"""A headless worker process: runs queued jobs and claims batches of running ones (its own threads).

``lumina-desktop worker`` runs this against the same database as an app or CLI: queued jobs
(follow-ons of a CLI scan, say) get a coordinator here, and batches of jobs coordinated
elsewhere are claimed with the same ``BatchRunner`` as the coordinator's; their owner sees them
complete and finalizes as usual.  A lost database ends the worker (``run`` raises
``DatabaseLost`` once it has stopped): batches it ran are redone by whoever resumes their jobs.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Executor
from typing import Any

from lumina_desktop.config import Settings
from lumina_desktop.core.jobs import BatchState
from lumina_desktop.jobs.engine.coordinator import EngineTiming, JobCoordinator
from lumina_desktop.jobs.engine.registry import KindRegistry
from lumina_desktop.jobs.engine.runner import ClaimLoop
from lumina_desktop.jobs.engine.store import JobStore

log = logging.getLogger(__name__)


class WorkerProcess:
    def __init__(self, store: JobStore, settings: Settings, registry: KindRegistry, *,
                 timing: EngineTiming | None = None, kinds: list[str] | None = None,
                 executor: Executor | None = None) -> None:
        self.store = store
        self.settings = settings
        self.registry = registry
        self.timing = timing or EngineTiming()
        self.threads = settings.background_workers
        self.kinds = kinds or registry.names()
        self.stop_event = threading.Event()
        self.batches_done = 0
        self._executor = executor
        self.coordinator: JobCoordinator | None = None
        self.jobs_run = 0

    @property
    def worker_id(self) -> str:
        return self.coordinator.worker_id if self.coordinator else "(not started)"

    def start(self) -> JobCoordinator:
        if self.coordinator is None:
            self.coordinator = JobCoordinator(self.store, self.settings, self.registry, timing=self.timing,
                                              role="worker", pickup=True, executor=self._executor,
                                              on_finished=self._on_job_finished)
        return self.coordinator

    def _on_job_finished(self, job_id: int, state: Any) -> None:
        self.jobs_run += 1

    def run(self, *, max_batches: int | None = None, idle_exit_s: float | None = None) -> int:
        """Claim and run batches until stopped; returns the number of batches completed."""
        co = self.start()
        manager = co.batches
        loop = ClaimLoop(co.runner, co.executor, self.threads)
        idle_since: float | None = None

        def job_of(batch):  # type: ignore[no-untyped-def]
            return self.store.get_job(batch.job_id)

        try:
            while not self.stop_event.is_set() and not co.guard.is_lost:
                limit = None if max_batches is None else max(0, max_batches - self.batches_done - len(loop.inflight))
                if limit != 0:
                    # a claim succeeds only for jobs not being cancelled: work on a live token
                    try:
                        loop.fill(kinds=self.kinds, job_of=job_of, token_of=manager.live_token, limit=limit)
                    except Exception as exc:
                        if co.guard.is_lost_by(exc):
                            break
                        raise
                if loop.inflight:
                    idle_since = None
                    for outcome in loop.collect(self.timing.cancel_poll_s):
                        if outcome.state == BatchState.SUCCEEDED:
                            self.batches_done += 1
                    manager.prune_tokens(set(co.running_jobs()) | loop.jobs_inflight())
                else:
                    if max_batches is not None and self.batches_done >= max_batches:
                        break
                    if co.running_jobs():
                        idle_since = None
                    else:
                        idle_since = idle_since or time.monotonic()
                        if idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                            break
                    self.stop_event.wait(self.timing.cancel_poll_s * 2)
        finally:
            # give unfinished work back: batches stop at their next item and return to pending
            # (run_batch hands a batch back as pending while its job runs on, never as cancelled)
            for job_id in manager.all_jobs():
                if job_id not in co.running_jobs():
                    manager.cancel_local(job_id)
            if co.guard.is_lost:  # batches stop at their next item; one may wait on a connection: no join
                for job_id in manager.all_jobs():
                    manager.cancel_local(job_id)
                for fut in list(loop.inflight):
                    fut.cancel()
            else:
                loop.drain()
                self.store.release_owned(co.worker_id, None, BatchState.PENDING)
            co.shutdown(cancel=False, timeout_s=10)
        if co.guard.lost is not None:
            raise co.guard.lost
        return self.batches_done
