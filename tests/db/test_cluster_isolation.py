"""Catalogs that cannot read each other, and secrets that stay secret: per-cluster passwords
(scram-sha-256), the account the server runs as, file modes, the /tmp socket folder, password
masking, the warning for a password on the command line, and PGPASSFILE / PGPASSWORD."""
from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from lumina_desktop.cli import run_cli
from lumina_desktop.config import load_settings, mask_url, url_has_password, write_settings_file
from lumina_desktop.core.errors import ClusterError
from lumina_desktop.db.cluster import PORT, SOCKET_LIMIT, EmbeddedCluster
from lumina_desktop.services.database import DatabaseAdmin

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def base() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="lumina-iso-"))
    os.chmod(d, 0o755)
    yield d
    for home in d.glob("**/postgres"):
        if (home / "data").exists():
            try:
                EmbeddedCluster(home.parent, fsync=False).stop()
            except ClusterError:
                pass
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def other(base: Path) -> Iterator[EmbeddedCluster]:
    """A second catalog's cluster, next to the session's."""
    c = EmbeddedCluster(base / "other", fsync=False)
    c.acquire()
    yield c
    c.release(stop=True)


def _with_passfile(conninfo: str, passfile: Path) -> str:
    params = conninfo_to_dict(conninfo)
    params["passfile"] = str(passfile)
    return make_conninfo(**params)


@pytest.mark.db
@pytest.mark.slow
def test_two_catalogs_cannot_open_each_other(pg_cluster: EmbeddedCluster, other: EmbeddedCluster) -> None:
    for mine, theirs in ((pg_cluster, other), (other, pg_cluster)):
        with psycopg.connect(mine.conninfo("postgres")) as conn:  # its own password works
            assert conn.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(_with_passfile(mine.conninfo("postgres"), theirs.password_file))
        with pytest.raises(psycopg.OperationalError, match="no password supplied"):
            psycopg.connect(_with_passfile(mine.conninfo("postgres"), mine.home / "no-such-file"))
    assert pg_cluster.password_file.read_text() != other.password_file.read_text()
    hba = (other.pgdata / "pg_hba.conf").read_text()
    assert [ln.split() for ln in hba.splitlines() if ln.strip() and not ln.startswith("#")] == \
        [["local", "all", "all", "scram-sha-256"]]


@pytest.mark.db
@pytest.mark.slow
def test_the_server_runs_as_a_private_account_that_cannot_read_the_passwords(
        pg_cluster: EmbeddedCluster, other: EmbeddedCluster) -> None:
    pid = other.server_pid()
    assert pid is not None
    uid = next(int(ln.split()[1]) for ln in Path(f"/proc/{pid}/status").read_text().splitlines()
               if ln.startswith("Uid:"))
    if os.geteuid() != 0:  # a normal user runs the server as themselves
        assert uid == os.geteuid()
        return
    account = pwd.getpwuid(uid)
    assert account.pw_name == "lumina-pg" and account.pw_shell.endswith(("nologin", "false"))
    for c in (pg_cluster, other):
        assert os.stat(c.home).st_uid == uid and _mode(c.home) == 0o700
        st = os.stat(c.password_file)
        assert st.st_uid == 0 and _mode(c.password_file) == 0o600  # the server's account cannot read it
    # what the shared 'postgres' account allowed (issue 16, failure 8) fails: one catalog's
    # superuser cannot read another catalog's password
    with psycopg.connect(pg_cluster.conninfo("postgres"), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="Permission denied"):
            conn.execute("SELECT pg_read_file(%s)", (str(other.password_file),))


@pytest.mark.db
def test_file_modes_of_a_cluster(pg_cluster: EmbeddedCluster) -> None:
    assert _mode(pg_cluster.home) == 0o700 and _mode(pg_cluster.pgdata) == 0o700
    assert pg_cluster.socket_dir is not None and _mode(pg_cluster.socket_dir) == 0o700
    assert _mode(pg_cluster.password_file) == 0o600
    assert os.stat(pg_cluster.password_file).st_uid == os.geteuid()
    for name in ("lifecycle.lock", "clients.lock", "server-mode"):
        assert _mode(pg_cluster.home / name) == 0o600, name
    assert "password" not in pg_cluster.conninfo() or "password=''" in pg_cluster.conninfo()


@pytest.mark.db
@pytest.mark.slow
def test_the_tmp_socket_folder_is_random_private_and_checked(base: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = base / ("x" * 60) / ("y" * 60)
    c = EmbeddedCluster(data, fsync=False)
    c.start()
    first = c.socket_dir
    assert first is not None and first.parent == Path("/tmp") and not first.is_relative_to(c.home)
    assert len(str(first / f".s.PGSQL.{PORT}")) < SOCKET_LIMIT
    old_predictable = f"lumina-{os.getuid()}-{hashlib.sha1(str(c.home).encode()).hexdigest()[:12]}"
    assert first.name != old_predictable
    assert _mode(first) == 0o700 and os.stat(first).st_uid == (c.user.uid if c.user else os.geteuid())
    with psycopg.connect(c.conninfo()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    c.stop()
    assert not first.exists() and c.socket_dir is None
    c.start()
    second = c.socket_dir
    assert second is not None and second != first  # a new random name each time
    (c.home / "socket-dir").unlink()  # a server started by an older version: its folder is found
    user = EmbeddedCluster(data, fsync=False)
    user.acquire()
    assert user.socket_dir == second
    user.release(stop=False)
    c.stop()

    # another account got there first: one clear line, nothing started, no traceback
    squatted = Path(tempfile.mkdtemp(prefix="lumina-squat-", dir="/tmp"))
    try:
        os.chmod(squatted, 0o755)
        (c.home / "socket-dir").write_text(str(squatted) + "\n")
        code = run_cli(["--data-dir", str(data), "db", "start"])
        out, err = capsys.readouterr()
        assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
        assert f"socket folder {squatted} is not Lumina's" in err and "mode 755" in err
        assert c.server_pid() is None
        if os.geteuid() == 0:  # owned by someone else, even with the right mode
            os.chmod(squatted, 0o700)
            os.chown(squatted, pwd.getpwnam("nobody").pw_uid, -1)
            with pytest.raises(ClusterError, match="is not Lumina's.*owner uid"):
                EmbeddedCluster(data, fsync=False).start()
    finally:
        shutil.rmtree(squatted, ignore_errors=True)
    (c.home / "socket-dir").unlink()


SECRETS = [
    ("postgresql://bob:s3cret@host:5432/db", "s3cret", "postgresql://bob:****@host:5432/db"),
    ("host=h user=bob password=s3cret dbname=x", "s3cret", "host=h user=bob password=**** dbname=x"),
    ("host=h password='my s3cret pw' dbname=x", "s3cret pw", "host=h password=**** dbname=x"),
    ("host=h password = 'it\\'s s3cret' dbname=x", "s3cret", "host=h password = **** dbname=x"),
    ("host=h password=a\\ s3cret dbname=x", "s3cret", "host=h password=**** dbname=x"),
    ("postgresql://bob:p%40ss%20s3cret@h1,h2/db?sslmode=require", "s3cret",
     "postgresql://bob:****@h1,h2/db?sslmode=require"),
    ("postgresql://bob:pa ss s3cret@host/db", "s3cret", "postgresql://bob:****@host/db"),
    ("postgresql://h/db?user=bob&password=s%26s3cret&sslmode=require", "s3cret",
     "postgresql://h/db?user=bob&password=****&sslmode=require"),
    ("failed: FATAL for password=abc s3cret? no: password='s3cret x' and postgres://u:s3cret@h", "s3cret x",
     "failed: FATAL for password=**** s3cret? no: password=**** and postgres://u:****@h"),
    ("sslpassword=s3cret host=h", "s3cret", "sslpassword=**** host=h"),
]


@pytest.mark.parametrize("url,secret,masked", SECRETS)
def test_masking_hides_every_quoting_of_a_password(url: str, secret: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert secret not in mask_url(url).replace("abc s3cret?", "")
    assert url_has_password(url)


@pytest.mark.parametrize("url", ["postgresql://host/db", "host=/tmp/x password='' passfile=/x/pgpass",
                                 "postgresql://bob@host:5432/db?sslmode=require", "dbname=lumina user=u"])
def test_urls_without_a_password_are_left_alone(url: str) -> None:
    assert mask_url(url) == url and not url_has_password(url)


def test_the_settings_file_is_private(tmp_path: Path) -> None:
    cfg = tmp_path / "new-config"
    write_settings_file(cfg / "settings.json", {"database_url": "postgresql://bob:s3cret@db/x"})
    assert _mode(cfg / "settings.json") == 0o600 and _mode(cfg) == 0o700
    assert [p.name for p in cfg.iterdir()] == ["settings.json"]  # no temporary file left
    # a file an older version wrote world-readable is made private when it holds a password
    (cfg / "settings.json").chmod(0o644)
    s = load_settings(environ={}, config_dir=cfg)
    assert s.database_url == "postgresql://bob:s3cret@db/x" and _mode(cfg / "settings.json") == 0o600
    (cfg / "settings.json").write_text('{"theme": "light"}')
    (cfg / "settings.json").chmod(0o644)
    load_settings(environ={}, config_dir=cfg)
    assert _mode(cfg / "settings.json") == 0o644  # nothing secret: left as the user made it


def test_a_password_on_the_command_line_is_warned_about_once(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(["--database-url", "postgresql://bob:s3cret@db/x", "config", "show"]) == 0
    out, err = capsys.readouterr()
    assert err.count("warning") == 1 and "--database-url" in err and "PGPASSFILE" in err
    assert "s3cret" not in out + err and "bob:****@db" in out
    assert run_cli(["--database-url", "postgresql://bob@db/x", "config", "show"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.db
def test_pgpassfile_and_pgpassword_work_for_an_external_server_and_not_against_ours(
        pg_cluster: EmbeddedCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert pg_cluster.socket_dir is not None
    bare = make_conninfo(host=str(pg_cluster.socket_dir), port=PORT, dbname="postgres", user="lumina")
    assert not url_has_password(bare)
    admin = DatabaseAdmin(load_settings({"database_url": bare}, environ={}, config_dir=tmp_path))
    passfile = tmp_path / "pgpass"
    shutil.copy(pg_cluster.password_file, passfile)
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    assert admin.status().running
    monkeypatch.delenv("PGPASSFILE")
    password = pg_cluster.password_file.read_text().strip().split(":", 4)[4]
    monkeypatch.setenv("PGPASSWORD", password)
    assert admin.status().running
    # a PGPASSWORD meant for another server does not break the embedded one
    monkeypatch.setenv("PGPASSWORD", "wrong")
    with psycopg.connect(pg_cluster.conninfo("postgres")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.db
@pytest.mark.slow
def test_a_cluster_made_with_trust_gets_a_password_at_its_next_start(base: Path) -> None:
    c = EmbeddedCluster(base / "legacy", fsync=False)
    c.init()
    (c.pgdata / "pg_hba.conf").write_text("local all all trust\n")  # as versions before issue 16 made it
    c.password_file.unlink()
    assert "trust" in c.status().auth
    c.start()
    assert "scram-sha-256" in c.status().auth and _mode(c.password_file) == 0o600
    with psycopg.connect(c.conninfo()) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("lumina",)
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(_with_passfile(c.conninfo(), base / "none"))
    c.stop()


def test_cli_subprocess_has_no_traceback_for_an_unusable_data_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = subprocess.run([sys.executable, "-m", "lumina_desktop", "--data-dir", str(blocker / "data"), "db", "start"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert res.returncode == 1 and "Traceback" not in res.stderr and res.stderr.count("\n") == 1
