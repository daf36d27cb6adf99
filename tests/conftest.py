"""Root test configuration: offscreen Qt, one real PostgreSQL cluster per session, leak guard."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LUMINA_CONFIG_DIR", "/nonexistent-lumina-test-config")
# QSettings (window geometry, the catalog used last) go to a folder of this run, not the user's
import tempfile as _tempfile  # noqa: E402

os.environ["XDG_CONFIG_HOME"] = _tempfile.mkdtemp(prefix="lumina-test-xdg-")

import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from lumina_desktop.db.cluster import EmbeddedCluster

TEMPLATE_DB = "lumina_test_template"


def _stop_abandoned_test_clusters() -> None:
    """A test run that was killed leaves its server running: stop those whose owner is gone."""
    for owner in Path(tempfile.gettempdir()).glob("lumina-test-*/owner.pid"):
        try:
            pid = int(owner.read_text())
            os.kill(pid, 0)
            continue  # still running (another test session)
        except ProcessLookupError:
            pass
        except (ValueError, OSError):
            continue
        try:
            EmbeddedCluster(owner.parent / "data").stop()
        except Exception:
            pass
        shutil.rmtree(owner.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[EmbeddedCluster]:
    """The app's own embedded cluster manager, started once (fsync off), in a temp folder.

    Never skips: if PostgreSQL cannot start, every DB test fails with the reason.
    """
    import psycopg

    from lumina_desktop.db.migrate import apply_migrations

    _stop_abandoned_test_clusters()
    base = Path(tempfile.mkdtemp(prefix="lumina-test-"))
    os.chmod(base, 0o755)  # the server user (when we are root) must reach it
    (base / "owner.pid").write_text(str(os.getpid()))
    cluster = EmbeddedCluster(base / "data", fsync=False)
    cluster.acquire()
    with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}")
        conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    with psycopg.connect(cluster.conninfo(TEMPLATE_DB)) as conn:
        apply_migrations(conn)
    try:
        yield cluster
    finally:
        cluster.release(stop=True)
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(cluster.home, ignore_errors=True)


class TestDatabase:
    """A fresh, migrated database for one test (cloned from the session template)."""

    def __init__(self, cluster: EmbeddedCluster) -> None:
        import psycopg

        self.cluster = cluster
        self.name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.name} TEMPLATE {TEMPLATE_DB}")
        self.conninfo = cluster.conninfo(self.name)

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.cluster.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


@pytest.fixture
def test_db(pg_cluster: EmbeddedCluster) -> Iterator[TestDatabase]:
    tdb = TestDatabase(pg_cluster)
    try:
        yield tdb
    finally:
        tdb.drop()


@pytest.fixture
def db(test_db: TestDatabase):  # type: ignore[no-untyped-def]
    """A ``Database`` (pool) on a fresh migrated database."""
    from lumina_desktop.db.pool import Database, make_pool

    database = Database(test_db.conninfo, make_pool(test_db.conninfo, max_size=20, name="test"))
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def conn(db):  # type: ignore[no-untyped-def]
    with db.connection() as c:
        yield c


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a non-daemon thread running (executors, coordinators)."""
    before = set(threading.enumerate())
    yield
    deadline = 5.0
    import time

    end = time.monotonic() + deadline
    while True:
        leaked = [t for t in threading.enumerate()
                  if t not in before and t.is_alive() and not t.daemon]
        if not leaked or time.monotonic() > end:
            break
        time.sleep(0.02)
    assert not leaked, f"test leaked threads: {[t.name for t in leaked]}"
