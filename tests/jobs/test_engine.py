"""Integration tests of the threading workflow on real PostgreSQL (the seed lists these as missing)."""
from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest

from lumina_desktop.core.jobs import BatchState, JobState
from lumina_desktop.db import jobs as jobs_db
from lumina_desktop.db.listen import JobListener
from lumina_desktop.db.jobs import PgJobStore
from lumina_desktop.jobs.engine.context import JobContext, JobEnv
from lumina_desktop.jobs.engine.kind import JobKind, Stored
from lumina_desktop.jobs.kinds import BUILTIN_KINDS

from tests.jobs.conftest import wait_until

pytestmark = [pytest.mark.db, pytest.mark.slow]


def results(conn, job_id: int) -> dict[int, tuple[str, int]]:  # type: ignore[no-untyped-def]
    rows = conn.execute("SELECT item, value, writes FROM demo_results WHERE job_id = %s", (job_id,)).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def batch_states(conn, job_id: int) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    return jobs_db.batch_summary(conn, job_id)


def test_full_run_with_an_item_that_always_fails(coordinator, conn) -> None:  # type: ignore[no-untyped-def]
    job_id = coordinator.submit("demo", {"items": 250, "fail_items": [7, 123]})
    job = coordinator.wait(job_id, 60)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.item_errors == 2
    assert job.result == {"items": 250, "stored": 248}
    assert job.progress and job.progress.fraction == 1.0 and job.progress.done == 250
    assert batch_states(conn, job_id) == {"succeeded": (25, 250)}
    res = results(conn, job_id)
    assert set(res) == set(range(250)) - {7, 123}
    assert res[12] == ("144", 1)
    errs = jobs_db.list_item_errors(conn, job_id)
    assert {(e.item, e.error_class) for e in errs} == {("7", "DemoItemError"), ("123", "DemoItemError")}
    hist = conn.execute("SELECT state, items_total, items_failed FROM job_history WHERE job_id = %s", (job_id,)).fetchone()
    assert hist == ("succeeded", 250, 2)


def test_progress_is_monotonic_throttled_and_notified(coordinator, db) -> None:  # type: ignore[no-untyped-def]
    listener = JobListener(db.conninfo)
    seen: list[tuple[float, int, str]] = []
    notifies = 0
    carried: list[float] = []       # fractions the NOTIFY payloads carried (no query needed)
    job_id = coordinator.submit("demo", {"items": 400, "sleep_ms": 4})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ids = listener.wait(0.5)
            progress = listener.take_progress()
            notifies += len(ids) + len(progress)
            if job_id in progress:
                assert progress[job_id].job_id == job_id and progress[job_id].updated_at is not None
                carried.append(progress[job_id].fraction)
            with db.connection() as c:
                job = jobs_db.get_job(c, job_id)
            assert job is not None
            if job.progress:
                seen.append((job.progress.fraction, job.progress.done, job.progress.phase))
            if job.state.is_finished:
                break
    finally:
        listener.close()
    assert job.state == JobState.SUCCEEDED
    fractions = [f for f, _, _ in seen]
    assert fractions == sorted(fractions), "progress went backwards"
    assert fractions[-1] == 1.0
    assert any(0.1 < f < 0.9 for f in fractions), "no intermediate progress was published"
    assert {p for _, _, p in seen} >= {"process", "finalize"}
    assert len(carried) >= 3 and carried == sorted(carried), "progress NOTIFYs carry the stored row"
    # ~1.2 s of work at ≤ 10 writes/s (0.1 s throttle in tests) plus phase changes: far fewer than items
    assert notifies < 100


def test_cancel_mid_run_stops_8_busy_workers_within_a_second(coordinator, db) -> None:  # type: ignore[no-untyped-def]
    job_id = coordinator.submit("demo", {"items": 3000, "sleep_ms": 20})

    def busy() -> bool:
        return coordinator.batches.counters.busy >= 8 and coordinator.batches.progress(job_id)[0] >= 100

    wait_until(busy, 30)
    t0 = time.monotonic()
    assert coordinator.cancel(job_id) == JobState.CANCELLING
    wait_until(lambda: coordinator.batches.counters.busy == 0, 5, 0.005)
    stop_latency = time.monotonic() - t0
    job = coordinator.wait(job_id, 10)
    assert job.state == JobState.CANCELLED
    assert stop_latency <= 1.0, f"workers took {stop_latency:.3f} s to stop"
    with db.connection() as c:
        summary = batch_states(c, job_id)
        res = results(c, job_id)
    assert "running" not in summary and "pending" not in summary
    # what was done is kept: finished batches and the items of cancelled ones done before Cancel
    assert len(res) == coordinator.batches.progress(job_id)[0] >= summary["succeeded"][1]
    assert 0 < len(res) < 3000


def test_resume_after_cancel_runs_only_unfinished_batches(coordinator, db) -> None:  # type: ignore[no-untyped-def]
    job_id = coordinator.submit("demo", {"items": 600, "sleep_ms": 5})
    wait_until(lambda: coordinator.batches.progress(job_id)[0] >= 150, 30)
    coordinator.cancel(job_id)
    assert coordinator.wait(job_id, 10).state == JobState.CANCELLED
    with db.connection() as c:
        done_before = batch_states(c, job_id)["succeeded"][0]
    coordinator.resume(job_id)
    job = coordinator.wait(job_id, 60)
    assert job.state == JobState.SUCCEEDED
    with db.connection() as c:
        res = results(c, job_id)
        attempts = c.execute("SELECT max(attempts) FROM job_batches WHERE job_id = %s", (job_id,)).fetchone()[0]
    assert set(res) == set(range(600))
    assert all(writes == 1 for _, writes in res.values()), "a finished batch ran again"
    assert done_before >= 5 and attempts == 1


def test_cancel_before_start_and_resume(coordinator, db) -> None:  # type: ignore[no-untyped-def]
    with db.connection() as c:
        job_id = jobs_db.create_job(c, "demo", None, {"items": 30})
    assert coordinator.cancel(job_id) == JobState.CANCELLED
    with db.connection() as c:
        assert jobs_db.get_job(c, job_id).state == JobState.CANCELLED  # type: ignore[union-attr]
    coordinator.start(job_id)  # a cancelled job does not start by itself
    assert coordinator.wait(job_id, 10).state == JobState.CANCELLED
    coordinator.resume(job_id)
    assert coordinator.wait(job_id, 30).state == JobState.SUCCEEDED


def test_two_concurrent_jobs(coordinator, db) -> None:  # type: ignore[no-untyped-def]
    a = coordinator.submit("demo", {"items": 300, "sleep_ms": 2})
    b = coordinator.submit("demo", {"items": 200, "sleep_ms": 2, "work": 50})
    ja, jb = coordinator.wait(a, 60), coordinator.wait(b, 60)
    assert (ja.state, jb.state) == (JobState.SUCCEEDED, JobState.SUCCEEDED)
    with db.connection() as c:
        assert len(results(c, a)) == 300 and len(results(c, b)) == 200
        assert results(c, a)[3][0] == "9" and results(c, b)[3][0] != "9"


def test_transient_batch_failure_is_retried_idempotently(coordinator, db) -> None:  # type: ignore[no-untyped-def]
    job_id = coordinator.submit("demo", {"items": 100, "transient_fail_seqs": [0, 4]})
    job = coordinator.wait(job_id, 60)
    assert job.state == JobState.SUCCEEDED, job.error
    with db.connection() as c:
        attempts = dict(c.execute("SELECT seq, attempts FROM job_batches WHERE job_id = %s", (job_id,)).fetchall())
        res = results(c, job_id)
    assert attempts[0] == 2 and attempts[4] == 2 and attempts[1] == 1
    assert len(res) == 100 and all(w == 1 for _, w in res.values())


class _ExplodingKind(JobKind):
    """A batch that raises a non-transient error is not retried and fails the job, clearly."""

    name = "test_exploding"
    needs_catalog = False

    def discover(self, ctx: JobContext) -> Any:
        return range(30)

    def open(self, env: JobEnv, params: Any) -> Any:
        return lambda ictx, item: item

    def store(self, tx: Any, job: Any, batch: Any, results: Any) -> Stored:
        if batch.seq == 1:
            raise ValueError("bug in store")
        return Stored()


class _ThreadProbeKind(JobKind):
    name = "test_thread_probe"
    needs_catalog = False
    seen: dict[str, set[str]] = {}

    def discover(self, ctx: JobContext) -> Any:
        self.seen.setdefault("discover", set()).add(threading.current_thread().name)
        return range(40)

    def open(self, env: JobEnv, params: Any) -> Any:
        self.seen.setdefault("open", set()).add(threading.current_thread().name)

        def run(ictx: Any, item: Any) -> Any:
            self.seen.setdefault("process", set()).add(threading.current_thread().name)
            return item

        return run

    def finalize(self, ctx: JobContext) -> dict[str, Any]:
        self.seen.setdefault("finalize", set()).add(threading.current_thread().name)
        return {}


TEST_KINDS = BUILTIN_KINDS.with_kinds(_ExplodingKind(), _ThreadProbeKind())


@pytest.fixture
def test_coordinator(make_coordinator):  # type: ignore[no-untyped-def]
    return make_coordinator(registry=TEST_KINDS)


def test_non_transient_batch_error_fails_job_without_retry(test_coordinator, db) -> None:  # type: ignore[no-untyped-def]
    coordinator = test_coordinator
    job_id = coordinator.submit("test_exploding")
    job = coordinator.wait(job_id, 30)
    assert job.state == JobState.FAILED
    assert job.error and "bug in store" in job.error
    with db.connection() as c:
        row = c.execute("SELECT state, attempts FROM job_batches WHERE job_id = %s AND seq = 1", (job_id,)).fetchone()
    assert row == ("failed", 1)


def test_coordinator_runs_outside_the_worker_pool(test_coordinator) -> None:  # type: ignore[no-untyped-def]
    coordinator = test_coordinator
    job_id = coordinator.submit("test_thread_probe")
    assert coordinator.wait(job_id, 30).state == JobState.SUCCEEDED
    seen = _ThreadProbeKind.seen
    assert seen["discover"] == seen["finalize"] == {f"lumina-coord-{job_id}"}
    assert all(n.startswith("lumina-worker") for n in seen["process"])
    assert seen["open"] <= seen["process"]  # open() ran on the worker threads themselves


def test_dead_owner_becomes_interrupted_at_once_and_batches_return(db) -> None:  # type: ignore[no-untyped-def]
    ghost = PgJobStore(db)  # another process: its liveness lock lives on its own connection
    ghost.attach("ghost", "app", 2)
    job_id = ghost.create_job("demo", None, {"items": 20})
    assert ghost.take_ownership(job_id, "ghost")
    with db.connection() as c:
        jobs_db.insert_batches(c, job_id, 0, [[1, 2], [3, 4]])
        jobs_db.mark_discovered(c, job_id)
    assert len(ghost.claim_batches("ghost", 1, job_id=job_id)) == 1
    observer = PgJobStore(db)
    assert observer.recover_dead() == []  # alive: its lock is held
    ghost._live["ghost"].close()  # the process dies: the server drops its lock  # noqa: SLF001
    t0 = time.monotonic()
    found: list[int] = []
    while not found and time.monotonic() - t0 < 5.0:   # (the server's backend ends a moment after the close)
        found = observer.recover_dead()
    assert found == [job_id]
    assert time.monotonic() - t0 < 5.0                  # at once: no lease or heartbeat age to wait out
    with db.connection() as c:
        job = jobs_db.get_job(c, job_id)
        assert job is not None and job.state == JobState.INTERRUPTED and job.state.can_resume
        assert batch_states(c, job_id) == {"pending": (2, 4)}
    assert observer.recover_dead() == []


def test_live_owner_is_not_interrupted(coordinator, db) -> None:  # type: ignore[no-untyped-def]
    job_id = coordinator.submit("demo", {"items": 200, "sleep_ms": 10})
    wait_until(lambda: coordinator.batches.progress(job_id)[0] > 0)
    assert PgJobStore(db).recover_dead() == []
    coordinator.cancel(job_id)
    coordinator.wait(job_id, 10)


def test_history_survives_pruning(coordinator, db) -> None:  # type: ignore[no-untyped-def]
    job_id = coordinator.submit("demo", {"items": 20})
    coordinator.wait(job_id, 30)
    with db.connection() as c:
        c.execute("UPDATE jobs SET finished_at = now() - interval '90 days' WHERE id = %s", (job_id,))
        assert jobs_db.prune_finished(c, 30) == 1
        assert jobs_db.get_job(c, job_id) is None
        assert c.execute("SELECT count(*) FROM job_batches WHERE job_id = %s", (job_id,)).fetchone()[0] == 0
        assert c.execute("SELECT kind, state FROM job_history WHERE job_id = %s", (job_id,)).fetchone() == ("demo", "succeeded")


def test_state_vocabularies_match_sql_checks(conn) -> None:  # type: ignore[no-untyped-def]
    def check_values(name: str) -> set[str]:
        (d,) = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", (name,)).fetchone()
        return set(re.findall(r"'(\w+)'", d))

    assert check_values("jobs_state_check") == {s.value for s in JobState}
    assert check_values("job_batches_state_check") == {s.value for s in BatchState}


def test_unknown_kind_and_bad_resume_are_clear_errors(coordinator) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.core.errors import LuminaError, NotFoundError

    with pytest.raises(LuminaError, match="unknown job kind 'nope'"):
        coordinator.submit("nope")
    with pytest.raises(NotFoundError):
        coordinator.resume(999999)
    job_id = coordinator.submit("demo", {"items": 5})
    coordinator.wait(job_id, 30)
    with pytest.raises(LuminaError, match="only cancelled, interrupted or failed"):
        coordinator.resume(job_id)


def test_shutdown_leaving_jobs_resumable(make_coordinator, db) -> None:  # type: ignore[no-untyped-def]
    first = make_coordinator()
    job_id = first.submit("demo", {"items": 1000, "sleep_ms": 10})
    wait_until(lambda: first.batches.progress(job_id)[0] >= 50)
    t0 = time.monotonic()
    assert first.shutdown(cancel=False, timeout_s=5) is True
    assert time.monotonic() - t0 < 5
    with db.connection() as c:
        assert jobs_db.get_job(c, job_id).state == JobState.INTERRUPTED  # type: ignore[union-attr]
        assert "running" not in batch_states(c, job_id)
    second = make_coordinator()
    second.resume(job_id)
    assert second.wait(job_id, 60).state == JobState.SUCCEEDED
    with db.connection() as c:
        res = results(c, job_id)
    assert len(res) == 1000 and all(w == 1 for _, w in res.values())


def test_an_engine_transaction_left_idle_past_the_lease_is_ended_by_the_server(db) -> None:  # type: ignore[no-untyped-def]
    """A process paused inside one of the engine's transactions (SIGSTOP) loses it after its
    lease, so the batch rows it locked are free for ``jobs resume`` (it waited forever)."""
    import psycopg

    store = PgJobStore(db)
    store.attach("paused", "app", 1, lease_s=1.0)
    try:
        job_id = store.create_job("demo", None, {"items": 4})
        with db.connection() as c:
            jobs_db.insert_batches(c, job_id, 0, [[1, 2], [3, 4]])
            jobs_db.mark_discovered(c, job_id)
            c.commit()
        with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):
            with store.transaction() as tx:
                assert tx.execute("SHOW idle_in_transaction_session_timeout").fetchone()[0] == "1s"
                tx.execute("UPDATE job_batches SET attempts = attempts + 1 WHERE job_id = %s", (job_id,))
                time.sleep(2.5)                          # paused, holding the batch rows
                tx.execute("SELECT 1")
        with db.connection() as c:                       # the rows are free: not waiting for a lock
            c.execute("SET LOCAL lock_timeout = '2s'")
            assert c.execute("UPDATE job_batches SET attempts = 0 WHERE job_id = %s", (job_id,)).rowcount == 2
    finally:
        store.detach("paused")
    with store.transaction() as tx:                      # no lease held: the server's default
        assert tx.execute("SHOW idle_in_transaction_session_timeout").fetchone()[0] == "0"


def test_progress_is_written_in_an_engine_transaction_the_server_ends_if_left_idle(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``jobs resume`` resets the progress row: a process paused between writing its progress and
    committing it held that row, and resume waited forever (CI failed twice on
    test_a_paused_owner_whose_job_was_taken_over_stops_quietly)."""
    seen: list[str] = []
    real = jobs_db.upsert_progress

    def spy(conn, job_id, **kw):  # type: ignore[no-untyped-def]
        seen.append(conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()[0])
        real(conn, job_id, **kw)

    monkeypatch.setattr(jobs_db, "upsert_progress", spy)
    store = PgJobStore(db)
    job_id = store.create_job("demo", None, {"items": 4})
    store.attach("paused", "app", 1, lease_s=1.0)
    try:
        store.publish_progress(job_id, phase="process", done=1, total=4, fraction=0.25, message="", rate=None,
                               eta_s=None)
    finally:
        store.detach("paused")
    assert seen == ["1s"]
    with db.connection() as c:
        assert jobs_db.get_job(c, job_id).progress.done == 1   # type: ignore[union-attr]
