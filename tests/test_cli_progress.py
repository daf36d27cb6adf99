"""The CLI's progress bar: it follows the progress NOTIFYs (which carry the progress row) and
reads the job only on state changes and as a once-a-second safety net."""
from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest

from lumina_desktop.cli.progress_bar import render, watch, with_progress
from lumina_desktop.config import load_settings
from lumina_desktop.core.jobs import JobProgress, JobState
from lumina_desktop.db import jobs as jobs_db
from lumina_desktop.services.app import services_on

pytestmark = pytest.mark.db


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_moves_on_progress_notifies_and_reads_the_job_only_on_state_changes(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = services_on(load_settings({"data_dir": str(tmp_path)}, environ={}, config_dir=tmp_path), db)
    elsewhere = jobs_db.PgJobStore(db)
    elsewhere.attach("elsewhere", "cli", 1)  # a live process owns the job (its liveness lock held)
    with db.connection() as c:
        job_id = jobs_db.create_job(c, "demo", None, {"items": 20})
        assert jobs_db.take_ownership(c, job_id, "elsewhere")
    reads: list[float] = []
    first_read = threading.Event()
    get = app.jobs.get

    def counting_get(jid: int):  # type: ignore[no-untyped-def]
        reads.append(time.monotonic())
        first_read.set()
        return get(jid)

    app.jobs.get = counting_get  # type: ignore[method-assign]

    def publish() -> None:  # another process's job: 20 progress writes in ~0.4 s, then the end
        first_read.wait(10)
        for i in range(1, 21):
            with db.connection() as c:
                jobs_db.upsert_progress(c, job_id, phase="process", done=i, total=20, fraction=i / 20,
                                        message="", rate=50.0, eta_s=(20 - i) / 50)
            time.sleep(0.02)
        with db.connection() as c:
            jobs_db.finish_job(c, job_id, JobState.SUCCEEDED, result={"items": 20})

    publisher = threading.Thread(target=publish)
    publisher.start()
    out = Terminal()
    try:
        job = watch(app.jobs, job_id, out=out, wording=app.wording, timeout_s=30)
    finally:
        publisher.join(30)
        elsewhere.detach("elsewhere")
    assert job.state == JobState.SUCCEEDED and "100.0%" in out.getvalue().split("\r")[-1]
    shown = {line.split("%")[0].split()[-1] for line in out.getvalue().split("\r") if "%" in line}
    assert len(shown - {"0.0", "100.0"}) >= 3, shown  # the bar moved between the reads
    # the first read, the end (a state change), and the once-a-second safety net at most
    assert 2 <= len(reads) <= 2 + int(reads[-1] - reads[0]) + 1, reads


def test_a_progress_notify_older_than_the_job_read_is_ignored() -> None:
    from datetime import datetime, timedelta, timezone

    from lumina_desktop.core.jobs import JobSnapshot

    now = datetime.now(timezone.utc)
    newer = JobProgress(1, "process", 8, 10, 0.8, "", None, None, now)
    job = JobSnapshot(1, None, "demo", JobState.RUNNING, {}, "x", now, now, None, None, None, 0, False, newer)
    older = JobProgress(1, "process", 5, 10, 0.5, "", None, None, now - timedelta(seconds=1))
    assert with_progress(job, older) is job
    assert with_progress(job, None) is job and with_progress(job, JobProgress(2, "p", 1, 1, 1.0, "", None, None)) is job
    later = JobProgress(1, "process", 9, 10, 0.9, "", None, None, now + timedelta(seconds=1))
    assert with_progress(job, later).progress == later
    assert " 90.0%" in render(with_progress(job, later))


def test_the_bar_says_the_eta_in_the_panels_words() -> None:
    from datetime import datetime, timezone

    from lumina_desktop.core.jobs import JobSnapshot
    from lumina_desktop.services.describe import format_eta

    now = datetime.now(timezone.utc)
    p = JobProgress(1, "process", 30, 100, 0.3, "", 2.0, 92.0, now)
    running = JobSnapshot(1, None, "demo", JobState.RUNNING, {}, "x", now, now, None, None, None, 0, False, p)
    line = render(running, 120)
    assert "1 min 32 s left" in line and format_eta(92.0) == "1 min 32 s left"
    assert format_eta(12.4) == "12 s left" and format_eta(0.4) == format_eta(4.9) == "a few seconds left"
    assert format_eta(3700) == "1 h 01 min left" and format_eta(None) == ""
    young = JobProgress(1, "process", 1, 100, 0.01, "", None, None, now)   # no trusted rate yet: no ETA
    assert "left" not in render(with_progress(running, young), 120)
