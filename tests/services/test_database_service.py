"""DatabaseAdmin: status, url, start and migrations of the embedded server or an external one."""
from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from lumina_desktop.config import load_settings
from lumina_desktop.core.errors import DatabaseError, LuminaError
from lumina_desktop.db.migrate import available_migrations
from lumina_desktop.services.database import DatabaseAdmin

pytestmark = pytest.mark.db


def admin_for(tmp_path: Path, **overrides: str) -> DatabaseAdmin:
    return DatabaseAdmin(load_settings(overrides, environ={}, config_dir=tmp_path))


def test_status_of_the_running_embedded_server(pg_cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin = admin_for(tmp_path, data_dir=str(pg_cluster.data_dir))
    st = admin.status()
    assert st.embedded and st.running and st.initialised
    assert st.pid == pg_cluster.server_pid() and st.socket_dir == pg_cluster.socket_dir
    assert st.home == pg_cluster.home and st.major == pg_cluster.cluster_major()
    assert st.binaries.startswith("PostgreSQL ")
    assert str(pg_cluster.socket_dir) in admin.url()
    # start finds it running, brings the schema up to date and leaves it running
    started = admin.start()
    assert not started.started_here and started.socket_dir == pg_cluster.socket_dir
    assert admin.migrate() == () and admin.start().migrations_applied == ()
    assert pg_cluster.server_pid() == st.pid


def test_status_never_starts_a_server(tmp_path: Path) -> None:
    admin = admin_for(tmp_path, data_dir=str(tmp_path / "fresh"))
    st = admin.status()
    assert st.embedded and not st.running and not st.initialised and st.pid is None
    assert admin.stop() is False  # nothing to stop
    assert not (st.home / "data" / "PG_VERSION").exists()  # type: ignore[operator]


def test_external_server_status_url_and_migrations(pg_cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = f"t_empty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_cluster.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        url = pg_cluster.conninfo(name)
        admin = admin_for(tmp_path, database_url=url)
        st = admin.status()
        assert not st.embedded and st.running and st.home is None
        assert admin.url(show_password=True) == url
        # an empty database gets every migration, once
        assert admin.migrate() == tuple(m.version for m in available_migrations())
        assert admin.migrate() == ()
        with pytest.raises(LuminaError, match="no embedded server to start"):
            admin.start()
        with pytest.raises(LuminaError, match="no embedded server to stop"):
            admin.stop()
    finally:
        with psycopg.connect(pg_cluster.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_an_unreachable_server_is_one_line_without_its_password(tmp_path: Path) -> None:
    admin = admin_for(tmp_path, database_url="postgresql://bob:hunter2@127.0.0.1:1/x")
    assert "hunter2" not in admin.url() and "bob:" in admin.url()
    assert "hunter2" in admin.url(show_password=True)
    with pytest.raises(DatabaseError) as e:
        admin.status()
    assert "cannot connect" in str(e.value) and "hunter2" not in str(e.value) and "\n" not in str(e.value)
