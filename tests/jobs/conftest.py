"""Fixtures for the job engine: a real coordinator on a fresh database with fast timings."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from lumina_desktop.config import load_settings
from lumina_desktop.db.jobs import PgJobStore
from lumina_desktop.jobs.engine.coordinator import EngineTiming, JobCoordinator
from lumina_desktop.jobs.engine.executor import shutdown_executor
from lumina_desktop.jobs.kinds import BUILTIN_KINDS

FAST = EngineTiming(heartbeat_s=0.5, cancel_poll_s=0.05, progress_interval_s=0.1)


def wait_until(cond: Callable[[], Any], timeout_s: float = 30.0, interval_s: float = 0.02) -> Any:
    """Wait for a condition (never a bare sleep for a result); fails the test on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(interval_s)


def seen_interrupted(db: Any, job_id: int) -> bool:
    """Any process's liveness check (``recover_dead``) has marked the job's dead owner: interrupted."""
    from lumina_desktop.core.jobs import JobState
    from lumina_desktop.db import jobs as jobs_db
    from lumina_desktop.db.jobs import PgJobStore

    PgJobStore(db).recover_dead()
    with db.connection() as c:
        job = jobs_db.get_job(c, job_id)
    return job is not None and job.state == JobState.INTERRUPTED


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_settings({"data_dir": str(tmp_path), "background_workers": 8, "batch_size": 10},
                         environ={}, config_dir=tmp_path)


@pytest.fixture
def make_coordinator(db, settings) -> Iterator[Callable[..., JobCoordinator]]:  # type: ignore[no-untyped-def]
    made: list[JobCoordinator] = []

    def make(**kw: Any) -> JobCoordinator:
        co = JobCoordinator(PgJobStore(db), kw.pop("settings", settings), kw.pop("registry", BUILTIN_KINDS),
                            timing=kw.pop("timing", FAST), **kw)
        made.append(co)
        return co

    yield make
    for co in made:
        co.shutdown(cancel=True, timeout_s=10)
    shutdown_executor()


@pytest.fixture
def coordinator(make_coordinator) -> JobCoordinator:  # type: ignore[no-untyped-def]
    return make_coordinator()
