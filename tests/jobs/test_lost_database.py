"""A lost database is one clear failure: the embedded server killed, or stopped from another
terminal, while a scan runs → the scan ends within 10 s with one line naming the cause and the
exact ``jobs resume`` command, no traceback, no pool warnings; ``jobs resume`` then finishes it."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

from lumina_desktop.db.cluster import EmbeddedCluster
from tests.jobs.conftest import wait_until
from tests.jobs.test_scan import make_jpeg

pytestmark = [pytest.mark.db, pytest.mark.slow]
N_PHOTOS = 300


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lost-db-photos")
    for i in range(N_PHOTOS):
        make_jpeg(root / f"img{i:03d}.jpg", i, size=(320, 240))
    return root


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data folder of its own: this test kills its server, not the session's."""
    base = Path(tempfile.mkdtemp(prefix="lumina-lostdb-"))
    os.chmod(base, 0o755)  # the server user (when we are root) must reach it
    data = base / "data"
    try:
        yield data
    finally:  # the folder goes: its server need not write a shutdown checkpoint first
        try:
            os.kill(int((EmbeddedCluster(data).pgdata / "postmaster.pid").read_text().split()[0]), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass
        shutil.rmtree(base, ignore_errors=True)


def lumina(data: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "LUMINA_BATCH_SIZE": "10", "BACKGROUND_WORKERS": "2"}
    return subprocess.Popen([sys.executable, "-m", "lumina_desktop", "--data-dir", str(data), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def scan_batches_stored(cluster: EmbeddedCluster) -> int:
    """Batches the newest scan job has stored (0 while the server or the schema is not up)."""
    try:
        with psycopg.connect(cluster.conninfo(), connect_timeout=2) as conn:
            row = conn.execute("SELECT count(*) FROM job_batches WHERE state = 'succeeded' AND job_id = "
                               "(SELECT max(id) FROM jobs WHERE kind = 'scan')").fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:
        return 0


def scan_until_some_stored(data: Path, *args: str) -> subprocess.Popen[str]:
    scan = lumina(data, "scan", *args)
    cluster = EmbeddedCluster(data)
    try:
        wait_until(lambda: scan_batches_stored(cluster) >= 3, 90, 0.05)
    except BaseException:
        scan.kill()
        raise
    assert scan.poll() is None, "the scan should still run"
    return scan


def check_one_clear_failure(scan: subprocess.Popen[str], t0: float, data: Path) -> int:
    """The scan ends within 10 s of ``t0`` with one message; returns the job id it names."""
    try:
        out, err = scan.communicate(timeout=30)
    finally:
        if scan.poll() is None:
            scan.kill()
    elapsed = time.monotonic() - t0
    lines = [ln for ln in re.split(r"[\r\n]+", err) if ln.strip()]
    messages = [ln for ln in lines if "lost the connection to the catalog database" in ln]
    assert elapsed < 10, f"took {elapsed:.1f} s: {err}"
    assert scan.returncode == 1, err
    assert "Traceback" not in err, err
    assert len(messages) == 1, err
    others = [ln for ln in lines if ln not in messages and not ln.startswith("#")]  # progress bars start with #
    assert not others, others  # no warnings, no pool chatter
    m = re.search(r"resume it with: lumina-desktop --data-dir (\S+) jobs resume (\d+)", messages[0])
    assert m and m.group(1) == str(data), messages[0]
    return int(m.group(2))


def resume_finishes(data: Path, job_id: int, summary: str) -> None:
    proc = lumina(data, "jobs", "resume", str(job_id))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert f"job {job_id} " in out and summary in out and "0 errors" in out, out


def test_server_killed_or_stopped_mid_scan_is_one_clear_failure_then_resume(data_dir: Path, photos: Path) -> None:
    # the postmaster is SIGKILLed (found through postmaster.pid)
    scan = scan_until_some_stored(data_dir, str(photos))
    pid = int((EmbeddedCluster(data_dir).pgdata / "postmaster.pid").read_text().split()[0])
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    job_id = check_one_clear_failure(scan, t0, data_dir)
    resume_finishes(data_dir, job_id, f"done; {N_PHOTOS} files: {N_PHOTOS} new")

    # `db stop` from another terminal while a full rescan runs
    scan = scan_until_some_stored(data_dir, "--full", str(photos))
    t0 = time.monotonic()
    stop = lumina(data_dir, "db", "stop")
    out, err = stop.communicate(timeout=60)
    assert stop.returncode == 0 and "stopped" in out, err
    job_id = check_one_clear_failure(scan, t0, data_dir)
    resume_finishes(data_dir, job_id, f"done; {N_PHOTOS} files: 0 new")

    # the catalog holds each photo once (the server stopped with the last command: start it to look)
    start = lumina(data_dir, "db", "start")
    assert start.communicate(timeout=60) and start.returncode == 0
    with psycopg.connect(EmbeddedCluster(data_dir).conninfo()) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT file_name) FROM photos "
                            "WHERE status = 'ok'").fetchone() == (N_PHOTOS, N_PHOTOS)


def test_the_window_hears_of_a_lost_database_once_and_restarts_the_server(data_dir: Path) -> None:
    """What the window connects to: ``on_database_lost`` (one notice, naming the cause and the
    stopped job) and ``restart_after_loss`` (the server again, the job resumed to its end)."""
    import threading

    from lumina_desktop.config import load_settings
    from lumina_desktop.core.jobs import JobState
    from lumina_desktop.services.app import open_services
    from tests.jobs.conftest import FAST

    settings = load_settings({"data_dir": str(data_dir), "background_workers": 2, "batch_size": 10},
                             environ={}, config_dir=data_dir)
    app = open_services(settings, pool_size=8, fsync=False)
    notices: list = []
    heard = threading.Event()
    app.on_database_lost(lambda n: (notices.append(n), heard.set()))
    try:
        co = app.start_engine(timing=FAST, pickup=True)
        job_id = app.jobs.submit("demo", {"items": 600, "sleep_ms": 10})
        wait_until(lambda: (app.jobs.get(job_id).progress or None) is not None
                   and app.jobs.get(job_id).progress.done >= 50, 60, 0.05)  # type: ignore[union-attr]
        pid = int((EmbeddedCluster(data_dir).pgdata / "postmaster.pid").read_text().split()[0])
        t0 = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        assert heard.wait(10), "no notice within 10 s"
        assert time.monotonic() - t0 < 10
        wait_until(lambda: not co.running_jobs(), 10, 0.05)  # every thread stopped, nothing written
        notice = notices[0]
        assert notice.job_ids == (job_id,) and notice.can_restart
        assert "the database server is not running" in notice.message and f"Job {job_id} stopped" in notice.message
        assert app.database_lost is not None

        resumed = app.restart_after_loss()
        assert resumed == [job_id] and app.database_lost is None
        done = app.coordinator.wait(job_id, 60)  # type: ignore[union-attr]
        assert done.state == JobState.SUCCEEDED, done.error
        assert done.result["items"] == 600
        assert len(notices) == 1  # said once
    finally:
        app.stop_engine(cancel=True, timeout_s=10)
        app.close()
