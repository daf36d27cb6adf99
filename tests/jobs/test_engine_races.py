"""Races between coordinators, a joining worker, cancel, resume and lost liveness, made exact with
gated items (found in review of engine v2; each failed before its fix)."""
from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import pytest

from lumina_desktop.core.jobs import JobState
from lumina_desktop.db.jobs import PgJobStore
from lumina_desktop.jobs.engine.coordinator import EngineTiming, JobCoordinator
from lumina_desktop.jobs.engine.worker import WorkerProcess
from lumina_desktop.jobs.kinds import BUILTIN_KINDS
from tests.jobs import gatekind
from tests.jobs.conftest import FAST, wait_until
from tests.jobs.gatekind import GateKind, gate, open_all

pytestmark = [pytest.mark.db, pytest.mark.slow]
REG = BUILTIN_KINDS.with_kinds(GateKind())


def batches(db: Any, job_id: int) -> list[tuple[int, str, str | None, int]]:
    with db.connection() as c:
        return c.execute("SELECT seq, state, claimed_by, done_items FROM job_batches WHERE job_id = %s ORDER BY seq",
                         (job_id,)).fetchall()


def writes(db: Any, job_id: int) -> dict[int, int]:
    with db.connection() as c:
        return dict(c.execute("SELECT item, writes FROM demo_results WHERE job_id = %s", (job_id,)).fetchall())


def finished(store: PgJobStore, job_id: int, timeout_s: float = 20) -> Any:
    return wait_until(lambda: (lambda j: j if j.state.is_finished else None)(store.get_job(job_id)), timeout_s)


class Engines:
    """Coordinators and workers made by a test, all stopped at its end (gates opened first)."""

    def __init__(self, db: Any, settings: Any) -> None:
        self.db, self.settings = db, settings
        self.coordinators: list[JobCoordinator] = []
        self.workers: list[tuple[WorkerProcess, threading.Thread]] = []
        self.executors: list[ThreadPoolExecutor] = []
        self.jobs: list[tuple[int, int]] = []

    def coordinator(self, threads: int, role: str, timing: EngineTiming = FAST, **kw: Any) -> JobCoordinator:
        ex = ThreadPoolExecutor(threads)
        self.executors.append(ex)
        co = JobCoordinator(PgJobStore(self.db), dataclasses.replace(self.settings, background_workers=threads),
                            REG, timing=timing, role=role, executor=ex, **kw)
        self.coordinators.append(co)
        return co

    def worker(self, threads: int, timing: EngineTiming = FAST) -> WorkerProcess:
        ex = ThreadPoolExecutor(threads)
        self.executors.append(ex)
        w = WorkerProcess(PgJobStore(self.db), dataclasses.replace(self.settings, background_workers=threads), REG,
                          timing=timing, executor=ex)
        w.start()
        t = threading.Thread(target=w.run)
        t.start()
        self.workers.append((w, t))
        return w

    def close(self) -> None:
        for job, n in self.jobs:
            open_all(job, n)
        for w, t in self.workers:
            w.stop_event.set()
            t.join(30)
        for co in self.coordinators:
            co.shutdown(timeout_s=10)
        for ex in self.executors:
            ex.shutdown(wait=True)


@pytest.fixture
def engines(db, settings) -> Iterator[Engines]:  # type: ignore[no-untyped-def]
    gatekind.reset()
    e = Engines(db, settings)
    try:
        yield e
    finally:
        e.close()


def test_a_worker_that_stops_hands_its_batches_back_and_the_job_ends_complete(engines, db) -> None:  # type: ignore[no-untyped-def]
    c = engines.coordinator(1, "C")
    other = c.submit("gate", {"items": 6})  # another job the worker will also help with
    engines.jobs.append((other, 6))
    wait_until(lambda: sum(1 for b in batches(db, other) if b[1] == "running") == 2)
    a = engines.coordinator(1, "A")
    job = a.submit("gate", {"items": 8})
    engines.jobs.append((job, 8))
    wait_until(lambda: sum(1 for b in batches(db, job) if b[1] == "running") == 2)
    w = engines.worker(3)  # claims batches 2 and 3 of the job and batch 2 of the other
    wait_until(lambda: all(b[1] == "running" for b in batches(db, job)) and batches(db, other)[2][1] == "running")
    open_all(job, 4)  # A's own batches complete
    wait_until(lambda: [b[1] for b in batches(db, job)][:2] == ["succeeded", "succeeded"])
    w.stop_event.set()  # Ctrl-C on the worker while it is inside items of jobs it only helps with
    time.sleep(0.3)
    gate(job, 4).set()
    gate(job, 6).set()  # its batches of the job stop after these items; its batch of the other job waits on
    time.sleep(1.0)  # the owner must not finish the job while the worker's batches are handed back
    snap = a.store.get_job(job)
    assert snap is not None and not snap.state.is_finished, (snap.state, batches(db, job))
    open_all(job, 8)
    open_all(other, 6)
    done = finished(a.store, job)
    assert done.state == JobState.SUCCEEDED, batches(db, job)
    got = writes(db, job)
    assert sorted(got) == list(range(8)) and set(got.values()) == {1}, got  # every item, each once


def test_cancel_then_resume_while_a_worker_is_inside_an_item_stores_each_item_once(engines, db) -> None:  # type: ignore[no-untyped-def]
    timing = EngineTiming(heartbeat_s=0.5, cancel_poll_s=0.05, progress_interval_s=0.1, commit_every_items=1)
    a = engines.coordinator(1, "A", timing)
    job = a.submit("gate", {"items": 8})
    engines.jobs.append((job, 8))
    wait_until(lambda: sum(1 for b in batches(db, job) if b[1] == "running") == 2)
    w = engines.worker(3, timing)
    wait_until(lambda: {(j, i) for j, i, *_ in gatekind.STARTED} >= {(job, 0), (job, 4), (job, 6)})
    a.cancel(job)
    gate(job, 0).set()
    wait_until(lambda: a.store.get_job(job).state == JobState.CANCELLED, 10)
    assert w.coordinator is not None
    wait_until(lambda: w.coordinator.batches.token(job).is_set(), 5)  # type: ignore[union-attr]
    a.resume(job)  # the worker's threads are still inside items 4 and 6
    # Whichever free thread (A's or the worker's third) claims batches 1 and 2 first gets through
    # them; then batch 3 is claimed again while the worker's old thread is still inside item 4.
    # (Gates 1-3 open: without that, the two free threads could both sit in batches 1 and 2.)
    for i in (1, 2, 3):
        gate(job, i).set()
    wait_until(lambda: sum(1 for j, i, *_ in gatekind.STARTED if (j, i) == (job, 4)) == 2, 30)
    gate(job, 4).set()
    time.sleep(1.0)
    open_all(job, 8)
    done = finished(a.store, job)
    assert done.state == JobState.SUCCEEDED, batches(db, job)
    got = writes(db, job)
    assert sorted(got) == list(range(8)) and max(got.values()) == 1, got
    assert a.store.batch_totals(job) == {"stored": 8}


def test_a_worker_picks_up_a_job_it_once_helped_cancel(engines, db) -> None:  # type: ignore[no-untyped-def]
    a = engines.coordinator(1, "A")
    job = a.submit("gate", {"items": 8})
    engines.jobs.append((job, 8))
    wait_until(lambda: sum(1 for b in batches(db, job) if b[1] == "running") == 2)
    w = engines.worker(3)
    wait_until(lambda: all(b[1] == "running" for b in batches(db, job)))
    a.cancel(job)
    open_all(job, 8)
    wait_until(lambda: a.store.get_job(job).state == JobState.CANCELLED, 10)
    assert w.coordinator is not None
    wait_until(lambda: w.coordinator.batches.counters.busy == 0, 10)  # type: ignore[union-attr]
    a.shutdown()  # the window closes
    assert PgJobStore(db).resume(job)  # `jobs resume --detach`: the worker picks it up
    done = finished(PgJobStore(db), job)
    assert done.state == JobState.SUCCEEDED and done.owner == w.worker_id


def test_a_coordinator_that_lost_its_liveness_stops_and_resume_works(engines, db) -> None:  # type: ignore[no-untyped-def]
    a = engines.coordinator(2, "A", pickup=True)
    job = a.submit("gate", {"items": 4})
    engines.jobs.append((job, 4))
    wait_until(lambda: a.batches.counters.busy == 2)
    with db.connection() as c:  # its liveness connection drops (say, a network blip to the server)
        c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lumina-A-liveness'")
    wait_until(lambda: PgJobStore(db).recover_dead() == [job], 5, 0.05)  # e.g. `jobs list` right then
    open_all(job, 4)
    wait_until(lambda: job not in a.running_jobs(), 10)  # the old coordinator notices and stops
    assert a.store.get_job(job).state == JobState.INTERRUPTED  # type: ignore[union-attr]
    a.resume(job)  # the user clicks Resume in this window
    done = finished(a.store, job)
    assert done.state == JobState.SUCCEEDED
    assert sorted(writes(db, job)) == [0, 1, 2, 3]


def test_a_failure_after_cancel_ends_the_job_cancelled_not_stuck(engines, db) -> None:  # type: ignore[no-untyped-def]
    class FailingFinalize(GateKind):
        name = "gate_bad_finalize"

        def finalize(self, ctx: Any) -> dict[str, Any]:
            ctx.env.store.request_cancel(ctx.job.id)  # Cancel pressed while it finishes…
            raise RuntimeError("bug in finalize")  # …and finalize fails

    ex = ThreadPoolExecutor(2)
    engines.executors.append(ex)
    co = JobCoordinator(PgJobStore(db), dataclasses.replace(engines.settings, background_workers=2),
                        REG.with_kinds(FailingFinalize()), timing=FAST, role="A", executor=ex)
    engines.coordinators.append(co)
    job = co.submit("gate_bad_finalize", {"items": 2})
    open_all(job, 2)
    done = finished(co.store, job)
    assert done.state == JobState.CANCELLED and "bug in finalize" in (done.error or "")
