"""Every command is right about dead jobs (one liveness rule), and a paused owner whose job was
taken over stops quietly without cancelling the new owner's work."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from lumina_desktop.core.jobs import JobState
from lumina_desktop.db import jobs as jobs_db
from lumina_desktop.db.jobs import PgJobStore
from tests.jobs.conftest import wait_until
from tests.jobs.test_processes import succeeded_batches

pytestmark = [pytest.mark.db, pytest.mark.slow]


def cli(test_db, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "LUMINA_BATCH_SIZE": "10", "BACKGROUND_WORKERS": "4", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
LONG_DEMO = ("jobs", "run", "demo", "--param", "items=4000", "--param", "sleep_ms=20")


def job_of(db, proc: subprocess.Popen[str]) -> int:  # type: ignore[no-untyped-def]
    """The job a ``jobs run`` process owns, once one of its batches is stored."""
    def find() -> int | None:
        with db.connection() as c:
            row = c.execute("SELECT j.id FROM jobs j JOIN job_workers w ON w.worker_id = j.owner "
                            "WHERE w.pid = %s AND j.state = 'running'", (proc.pid,)).fetchone()
        return row[0] if row and succeeded_batches(db, row[0]) >= 1 else None
    return wait_until(find, 60, 0.05)


def state(db, job_id: int) -> JobState:  # type: ignore[no-untyped-def]
    with db.connection() as c:
        return jobs_db.get_job(c, job_id).state  # type: ignore[union-attr]  # no liveness rule here


def listeners(db) -> int:  # type: ignore[no-untyped-def]
    with db.connection() as c:
        return c.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lumina-listener' "
                         "AND datname = current_database()").fetchone()[0]


def killed(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


def finish(*procs: subprocess.Popen[str]) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(10)


def test_list_watch_and_cancel_see_a_killed_owner_at_once(test_db, db) -> None:  # type: ignore[no-untyped-def]
    a, b = cli(test_db, *LONG_DEMO), cli(test_db, *LONG_DEMO)
    watcher = None
    try:
        job_a, job_b = job_of(db, a), job_of(db, b)
        watcher = cli(test_db, "jobs", "watch", str(job_a))
        wait_until(lambda: listeners(db) >= 3, 30, 0.05)  # a, b and the watcher listen

        # watch ends on its own when the owner dies, with the resume command
        killed(a)
        t0 = time.monotonic()
        out, err = watcher.communicate(timeout=15)
        assert time.monotonic() - t0 < 5
        assert watcher.returncode == 1, err
        assert f"job {job_a} was interrupted" in err and f"jobs resume {job_a}" in err
        assert "Traceback" not in err

        # list: nobody else alive applies the rule; the command itself does, at once
        killed(b)
        assert state(db, job_b) == JobState.RUNNING  # what the dead process left behind
        out, err = cli(test_db, "jobs", "list").communicate(timeout=60)
        row = next(ln for ln in out.splitlines() if ln.split()[:1] == [str(job_b)])
        assert row.split()[2] == "interrupted", out
        assert state(db, job_b) == JobState.INTERRUPTED
    finally:
        finish(a, b, *([watcher] if watcher else []))

    # cancel: a dead owner's running job is cancelled at once (never left "cancelling")
    c = cli(test_db, *LONG_DEMO)
    try:
        job_c = job_of(db, c)
        killed(c)
        assert state(db, job_c) == JobState.RUNNING
        proc = cli(test_db, "jobs", "cancel", str(job_c))
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == f"job {job_c}: cancelled"
        assert state(db, job_c) == JobState.CANCELLED
    finally:
        finish(c)


def test_a_cancelling_job_whose_owner_died_ends_cancelled(settings, db) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.services.app import services_on

    app = services_on(settings, db)
    with db.connection() as c:
        job = jobs_db.create_job(c, "demo", None, {"items": 3})
        assert jobs_db.take_ownership(c, job, "gone:1:cli:x")
        c.execute("UPDATE jobs SET state = 'cancelling', cancel_requested = true WHERE id = %s", (job,))
    # a read, a list and a cancel all apply the same rule
    assert app.jobs.get(job).state == JobState.CANCELLED  # type: ignore[union-attr]
    with db.connection() as c:
        other = jobs_db.create_job(c, "demo", None, {"items": 3})
        assert jobs_db.take_ownership(c, other, "gone:2:cli:y")
    assert [j.state for j in app.jobs.recent(5) if j.id == other] == [JobState.INTERRUPTED]


def test_a_stopping_process_never_cancels_a_job_another_process_took_over(make_coordinator, db) -> None:  # type: ignore[no-untyped-def]
    co = make_coordinator()
    job = co.submit("demo", {"items": 3000, "sleep_ms": 20})
    wait_until(lambda: succeeded_batches(db, job) >= 1)
    other = PgJobStore(db)
    other.attach("new-owner", "worker", 1)  # a live process took the job over (this one was presumed dead)
    try:
        with db.connection() as c:
            c.execute("UPDATE jobs SET owner = 'new-owner' WHERE id = %s", (job,))
        # this process stops (cancelling its jobs) before it noticed: the job is not its to cancel
        assert co.shutdown(cancel=True, timeout_s=10)
        assert not co.running_jobs() and co.batches.counters.busy == 0
    finally:
        other.detach("new-owner")
    with db.connection() as c:
        row = c.execute("SELECT state, cancel_requested, owner FROM jobs WHERE id = %s", (job,)).fetchone()
        cancelled = c.execute("SELECT count(*) FROM job_batches WHERE job_id = %s AND state = 'cancelled'",
                              (job,)).fetchone()[0]
    assert row == ("running", False, "new-owner") and cancelled == 0


def test_a_paused_owner_whose_job_was_taken_over_stops_quietly(test_db, db) -> None:  # type: ignore[no-untyped-def]
    lease = {"LUMINA_JOB_LEASE_S": "5", "BACKGROUND_WORKERS": "2"}
    owner = cli(test_db, "jobs", "run", "demo", "--param", "items=800", "--param", "sleep_ms=20", env=lease)
    worker = None
    try:
        job = job_of(db, owner)
        os.kill(owner.pid, signal.SIGSTOP)  # paused, alive: only its lease can lapse
        worker = cli(test_db, "worker", "--threads", "2", "--idle-exit", "4", env=lease)
        # the server ends the paused owner's liveness session after the lease: the job is interrupted
        wait_until(lambda: state(db, job) == JobState.INTERRUPTED, 30, 0.2)
        proc = cli(test_db, "jobs", "resume", "--detach", str(job))
        assert proc.communicate(timeout=60)[0].strip() == f"job {job} is pending"

        def taken_over() -> bool:
            with db.connection() as c:
                row = c.execute("SELECT state, owner FROM jobs WHERE id = %s", (job,)).fetchone()
            return row[0] == "running" and ":worker:" in (row[1] or "") and succeeded_batches(db, job) >= 20

        wait_until(taken_over, 30, 0.1)
        os.kill(owner.pid, signal.SIGCONT)
        out, err = owner.communicate(timeout=90)  # it follows the job to its end, doing nothing to it
        w_out, w_err = worker.communicate(timeout=60)
    finally:
        for p in (owner, worker):
            if p is not None and p.poll() is None:
                os.kill(p.pid, signal.SIGCONT)
                p.kill()
                p.wait(10)
    with db.connection() as c:
        row = c.execute("SELECT state, cancel_requested, owner FROM jobs WHERE id = %s", (job,)).fetchone()
        history = c.execute("SELECT state FROM job_history WHERE job_id = %s", (job,)).fetchone()
        done = c.execute("SELECT count(*), count(DISTINCT item) FROM demo_results WHERE job_id = %s",
                         (job,)).fetchone()
    assert row[0] == "succeeded" and row[1] is False and ":worker:" in row[2], row
    assert history == ("succeeded",)
    assert done[1] == 800
    assert owner.returncode == 0, err
    assert "Traceback" not in err and not re.search(r"^(WARNING|ERROR)", err, re.M), err
    assert worker.returncode == 0 and "Traceback" not in w_err, w_err
