"""One lifecycle for the embedded server, under real concurrency: many processes starting at once
on a stopped (or never created) cluster, first runs killed at several moments, a server in crash
recovery, ``db start`` surviving later commands, killed users not pinning the server, and start
failures that say the server's own reason."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

from lumina_desktop.core.errors import ClusterError
from lumina_desktop.db.cluster import EmbeddedCluster

pytestmark = [pytest.mark.db, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

# One short user of the catalog database, twice: waits for a "go" file (so all start at once),
# opens the database as every command does (start or reuse the server, migrate), reads, holds the
# connection a little while and closes (the last one out stops the server), says "done".
USER = textwrap.dedent("""
    import random, sys, time
    from pathlib import Path
    from lumina_desktop.config import load_settings
    from lumina_desktop.db.pool import open_database
    data, go, hold = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    settings = load_settings({"data_dir": str(data)}, environ={}, config_dir=data.parent / "config")
    for n in (1, 2):
        while not Path(f"{go}-{n}").exists():
            time.sleep(0.002)
        db = open_database(settings, pool_size=1, fsync=False)
        with db.connection() as conn:
            assert conn.execute("SELECT count(*) FROM catalogs").fetchone() is not None
            time.sleep(random.uniform(0, hold))
        db.close()
        print("done", flush=True)
""")


@pytest.fixture
def base() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="lumina-lc-"))
    os.chmod(d, 0o755)  # the server account (when we are root) must reach it
    yield d
    for home in d.glob("*/postgres"):
        try:
            EmbeddedCluster(home.parent, fsync=False).stop()
        except ClusterError:
            pass
    shutil.rmtree(d, ignore_errors=True)


def _cli(data: Path, *args: str, **kw) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    return subprocess.Popen([sys.executable, "-m", "lumina_desktop", "--data-dir", str(data), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, **kw)


def _run_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    p = _cli(data, *args)
    out, err = p.communicate(timeout=120)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def test_many_processes_at_once_on_a_new_then_a_stopped_data_folder(base: Path) -> None:
    """22 processes open the database together on a data folder with no cluster yet (one creates
    it, all use it), then all again once the last of them has stopped the server."""
    data = base / "crowd"
    go = base / "go"
    procs = [subprocess.Popen([sys.executable, "-c", USER, str(data), str(go), "0.4"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(22)]
    try:
        time.sleep(1.0)  # let them import; then all at once
        Path(f"{go}-1").touch()
        for p in procs:
            assert p.stdout is not None
            if p.stdout.readline().strip() != "done":
                pytest.fail(f"a process failed: exit {p.wait(30)}: {p.stderr.read() if p.stderr else ''}")
        cluster = EmbeddedCluster(data, fsync=False)
        assert cluster.initialised and not list(cluster.home.glob("data.init-*"))
        assert cluster.server_pid() is None, "the last user out did not stop the server it started"
        Path(f"{go}-2").touch()  # the cluster exists, its server is down: all at once again
        failed = []
        for p in procs:
            out, err = p.communicate(timeout=150)
            if p.returncode != 0 or out.strip() != "done":
                failed.append((p.returncode, err.strip().splitlines()[-1:]))
        assert failed == []
        assert cluster.server_pid() is None
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=30)


def _wait_for(pred, timeout_s: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.003)
    return False


@pytest.mark.parametrize("moment", ["during initdb", "server starting", "server killed too", "migrating"])
def test_a_first_run_killed_at_any_moment_leaves_a_data_folder_the_next_command_uses(base: Path, moment: str) -> None:
    data = base / "first"
    home = data / "postgres"
    proc = _cli(data, "db", "start", start_new_session=True)
    if moment == "migrating":
        assert _wait_for(lambda: (home / "run" / ".s.PGSQL.5432").exists()), "the server never listened"
    elif moment == "during initdb":
        assert _wait_for(lambda: any(home.glob("data.init-*"))), "initdb never started"
    else:
        assert _wait_for(lambda: (home / "data" / "postmaster.pid").exists()), "the server never started"
    pm_pid = None
    if moment == "server killed too":
        try:
            pm_pid = int((home / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    os.killpg(proc.pid, signal.SIGKILL)  # the command and its initdb / pg_ctl, as a hard Ctrl-C would
    if pm_pid:
        os.kill(pm_pid, signal.SIGKILL)  # and the server it launched (it runs in its own session)
    proc.communicate(timeout=30)
    # nothing half-made is ever in place: either no cluster, or a complete one
    assert not (home / "data").exists() or (home / "data" / "PG_VERSION").exists()

    res = _run_cli(data, "catalog", "list")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr and "no catalogs yet" in res.stdout
    assert not list(home.glob("data.init-*")), "a killed run's temporary cluster was left behind"
    assert EmbeddedCluster(data, fsync=False).initialised


def test_a_server_in_crash_recovery_is_waited_for_not_failed_on(base: Path) -> None:
    cluster = EmbeddedCluster(base / "crash", fsync=False)
    cluster.acquire()
    try:
        victim = psycopg.connect(cluster.conninfo())
        backend = victim.execute("SELECT pg_backend_pid()").fetchone()[0]
        os.kill(backend, signal.SIGKILL)  # the postmaster now resets every backend and recovers
        time.sleep(0.05)
        second = EmbeddedCluster(base / "crash", fsync=False)
        second.acquire()  # while it is "in recovery mode": waits until it accepts connections
        with psycopg.connect(second.conninfo()) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
        second.release()
        try:
            victim.close()
        except psycopg.Error:
            pass
    finally:
        cluster.release()
    assert cluster.server_pid() is None


def test_db_start_is_not_undone_by_the_next_command_and_a_normal_command_cleans_up(base: Path) -> None:
    data = base / "keep"
    started = _run_cli(data, "db", "start")
    assert started.returncode == 0 and "until 'lumina-desktop db stop'" in started.stdout, started.stderr
    cluster = EmbeddedCluster(data, fsync=False)
    pid = cluster.server_pid()
    assert pid is not None
    assert _run_cli(data, "catalog", "create", "Kept").returncode == 0
    assert cluster.server_pid() == pid, "a later command stopped the server 'db start' started"
    assert cluster.mode() == "keep"
    stopped = _run_cli(data, "db", "stop")
    assert stopped.returncode == 0 and stopped.stdout.startswith("stopped"), stopped.stderr
    assert cluster.server_pid() is None
    # without db start, a command starts the server for itself and stops it when done
    res = _run_cli(data, "catalog", "list")
    assert res.returncode == 0 and "Kept" in res.stdout
    assert cluster.server_pid() is None


def test_a_killed_user_does_not_keep_the_server_running(base: Path) -> None:
    data = base / "lease"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from lumina_desktop.db.cluster import EmbeddedCluster
        c = EmbeddedCluster({str(data)!r}, fsync=False)
        c.acquire()
        print("held", flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        me = EmbeddedCluster(data, fsync=False)
        me.acquire()
        assert me.has_users()
        holder.kill()
        holder.wait(timeout=30)
        assert me.release() is True, "the killed process's lease kept the server running"
        assert me.server_pid() is None
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_release_never_stops_a_server_others_use_and_stop_stops_it_anyway(base: Path) -> None:
    a = EmbeddedCluster(base / "share", fsync=False)
    b = EmbeddedCluster(base / "share", fsync=False)
    a.acquire()
    b.acquire()
    assert a.release() is False and b.server_pid() is not None
    assert b.stop() is True and b.server_pid() is None  # db stop: whoever uses it
    assert b.release() is False  # its server is gone already; the lease just ends
    a.start()  # keep mode: runs after its users are gone
    a.acquire()
    assert a.release() is False and a.server_pid() is not None
    assert a.stop() is True


def test_a_server_that_cannot_start_says_why_in_its_own_words(base: Path) -> None:
    cluster = EmbeddedCluster(base / "broken", fsync=False)
    cluster.init()
    with open(cluster.pgdata / "postgresql.conf", "a", encoding="utf-8") as f:
        f.write("\nshared_buffers = 'lots'\n")
    with pytest.raises(ClusterError) as err:
        cluster.start()
    msg = str(err.value)
    assert "did not start" in msg and 'invalid value for parameter "shared_buffers"' in msg, msg
    assert "\n" not in msg and str(cluster.log_path) in msg


def test_an_initdb_that_fails_says_why_not_just_that_it_removed_the_folder(base: Path) -> None:
    real = EmbeddedCluster(base / "probe", fsync=False).binaries().bindir
    fake = base / "bin"
    fake.mkdir()
    os.chmod(fake, 0o755)
    for tool in ("postgres", "pg_ctl"):
        (fake / tool).symlink_to(real / tool)
    # the real initdb, given a setting that its bootstrap server rejects
    (fake / "initdb").write_text(f'#!/bin/sh\nexec "{real}/initdb" "$@" -c shared_buffers=bogus\n')
    os.chmod(fake / "initdb", 0o755)
    cluster = EmbeddedCluster(base / "noinit", fsync=False, pg_bindir=str(fake))
    with pytest.raises(ClusterError) as err:
        cluster.init()
    msg = str(err.value)
    assert msg.startswith("initdb failed") and 'invalid value for parameter "shared_buffers"' in msg, msg
    assert "removing data directory" not in msg and "\n" not in msg
    assert not cluster.pgdata.exists() and not list(cluster.home.glob("data.init-*"))
