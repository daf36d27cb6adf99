"""Jobs across processes: SIGKILL + resume, two worker processes, cancel from another process, CLI."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from lumina_desktop.core.jobs import JobState
from lumina_desktop.db import jobs as jobs_db
from tests.jobs.conftest import seen_interrupted, wait_until
from tests.jobs.test_engine import results

pytestmark = [pytest.mark.db, pytest.mark.slow]


def cli(test_db, *args: str, **kw: Any) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "LUMINA_BATCH_SIZE": "10", "BACKGROUND_WORKERS": "4"}
    return subprocess.Popen([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **kw)


def newest_job(db) -> int | None:  # type: ignore[no-untyped-def]
    with db.connection() as c:
        row = c.execute("SELECT max(id) FROM jobs").fetchone()
    return row[0] if row else None


def succeeded_batches(db, job_id: int) -> int:  # type: ignore[no-untyped-def]
    with db.connection() as c:
        return jobs_db.batch_summary(c, job_id).get("succeeded", (0, 0))[0]


def test_sigkill_mid_job_then_resume_equals_uninterrupted_run(test_db, db, coordinator) -> None:  # type: ignore[no-untyped-def]
    params = {"items": 400, "sleep_ms": 15, "fail_items": [77]}
    proc = cli(test_db, "jobs", "run", "demo", *[f"--param={k}={v}" for k, v in
                                                 {"items": 400, "sleep_ms": 15, "fail_items": "[77]"}.items()])
    try:
        job_id = wait_until(lambda: newest_job(db), 30)
        wait_until(lambda: succeeded_batches(db, job_id) >= 5, 60)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    with db.connection() as c:
        job = jobs_db.get_job(c, job_id)
        summary = jobs_db.batch_summary(c, job_id)
    assert job is not None and job.state == JobState.RUNNING  # the dead process cannot say otherwise
    assert summary.get("running"), "the kill should land mid-batch"
    assert summary["succeeded"][0] < 40
    # its liveness lock went with it: any process sees the owner dead at once (this test's own
    # coordinator may be the one whose heartbeat notices first)
    assert wait_until(lambda: seen_interrupted(db, job_id), 2, 0.05)
    coordinator.resume(job_id)
    resumed = coordinator.wait(job_id, 60)
    assert resumed.state == JobState.SUCCEEDED, resumed.error
    reference_id = coordinator.submit("demo", params)
    reference = coordinator.wait(reference_id, 60)
    with db.connection() as c:
        got, want = results(c, job_id), results(c, reference_id)
        err_items = {e.item for e in jobs_db.list_item_errors(c, job_id)}
    assert got == want  # same items, same values, each committed exactly once
    assert len(got) == 399 and all(w == 1 for _, w in got.values())
    assert err_items == {"77"} and resumed.item_errors == reference.item_errors == 1
    assert resumed.result == reference.result


def test_two_worker_processes_share_a_job_without_double_processing(test_db, db, make_coordinator, settings) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    workers = [cli(test_db, "worker", "--threads", "2", "--idle-exit", "3") for _ in range(2)]
    try:
        with db.connection() as c:
            wait_until(lambda: len(jobs_db.worker_stats(c, 30)) >= 2, 30, 0.05)
        co = make_coordinator(settings=dataclasses.replace(settings, background_workers=1))
        job_id = co.submit("demo", {"items": 600, "sleep_ms": 10})
        job = co.wait(job_id, 90)
        assert job.state == JobState.SUCCEEDED, job.error
        for w in workers:
            out, err = w.communicate(timeout=60)
            assert w.returncode == 0, err
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    with db.connection() as c:
        by_worker = dict(c.execute("SELECT claimed_by, count(*) FROM job_batches WHERE job_id = %s "
                                   "GROUP BY claimed_by", (job_id,)).fetchall())
        attempts = c.execute("SELECT max(attempts) FROM job_batches WHERE job_id = %s", (job_id,)).fetchone()[0]
        res = results(c, job_id)
    remote = [w for w in by_worker if ":worker:" in w]
    assert len(remote) == 2, by_worker  # both processes took part
    assert attempts == 1
    assert len(res) == 600 and all(w == 1 for _, w in res.values())


def test_cancel_from_another_process(test_db, db, coordinator) -> None:  # type: ignore[no-untyped-def]
    job_id = coordinator.submit("demo", {"items": 2000, "sleep_ms": 20})
    wait_until(lambda: coordinator.batches.counters.busy >= 4)
    t0 = time.monotonic()
    proc = cli(test_db, "jobs", "cancel", str(job_id))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"job {job_id}: cancelling" in out
    t_cancelled = time.monotonic()
    wait_until(lambda: coordinator.batches.counters.busy == 0, 5, 0.005)
    assert time.monotonic() - t_cancelled <= 1.0
    assert coordinator.wait(job_id, 10).state == JobState.CANCELLED
    assert time.monotonic() - t0 < 30


def test_jobs_cli_list_show_stats_resume(test_db, db, coordinator) -> None:  # type: ignore[no-untyped-def]
    job_id = coordinator.submit("demo", {"items": 300, "sleep_ms": 10, "fail_items": [3]})
    wait_until(lambda: succeeded_batches(db, job_id) >= 2)
    coordinator.cancel(job_id)
    coordinator.wait(job_id, 10)
    out, err = cli(test_db, "jobs", "list").communicate(timeout=60)
    assert f"{job_id}" in out and "cancelled" in out, err
    out, _ = cli(test_db, "jobs", "show", str(job_id)).communicate(timeout=60)
    assert "(demo), cancelled" in out and "3: DemoItemError" in out
    proc = cli(test_db, "jobs", "resume", str(job_id))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "done" in out and "1 item error" in out
    assert "100.0%" in err  # the terminal progress bar reached the end
    with db.connection() as c:
        assert len(results(c, job_id)) == 299
    out, _ = cli(test_db, "jobs", "stats").communicate(timeout=60)
    assert "live processes" in out and ":app:" in out
    assert "throughput of finished jobs" in out and "demo" in out.split("throughput")[1]
    proc = cli(test_db, "jobs", "resume", str(job_id))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "cannot be resumed" not in err and "only cancelled" in err
    assert "Traceback" not in err


def test_ctrl_c_cancels_a_cli_job_cleanly(test_db, db) -> None:  # type: ignore[no-untyped-def]
    proc = cli(test_db, "jobs", "run", "demo", "--param", "items=3000", "--param", "sleep_ms=20")
    job_id = wait_until(lambda: newest_job(db), 30)
    wait_until(lambda: succeeded_batches(db, job_id) >= 1, 30)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert f"jobs resume {job_id}" in err and "Traceback" not in err
    with db.connection() as c:
        assert jobs_db.get_job(c, job_id).state == JobState.CANCELLED  # type: ignore[union-attr]
