"""The embedded PostgreSQL: a private cluster in the data folder, shared safely by any number of
processes at once (runs on any non-GUI thread; blocking).

Layout of a cluster home (mode 0700, owned by the account the server runs as)::

    <home>/data/            PGDATA.  Made by initdb in <home>/data.init-*, renamed here only
                            once complete: a killed first run leaves no half-made cluster
    <home>/pgpass           the cluster's random password (libpq passfile format, 0600, ours)
    <home>/server.log       the server's log
    <home>/lifecycle.lock   flock held while creating, starting, checking or stopping the server
    <home>/clients.lock     one shared flock per process using the server: its lease
    <home>/server-mode      "keep" (``db start``: runs until ``db stop``) or "auto" (stopped by
                            its last user)
    <home>/socket-dir       names the socket folder when <home>/run would make the path too long
    <home>/run/             the socket folder (0700), or a ``mkdtemp`` folder under /tmp

The lifecycle, always under ``lifecycle.lock``: ``acquire()`` creates the cluster if needed,
starts the server unless it runs (mode "auto"), waits until it accepts connections (a server
left starting or in crash recovery by a killed process is waited for, not raced) and takes a
lease; ``release()`` drops the lease, and the last user stops the server only in mode "auto".
``start()`` is the same in mode "keep", without a lease; ``stop()`` stops it whoever uses it.
Leases are flocks, so the kernel drops the lease of a killed process: nobody pins the server.

The server listens on a Unix socket only (``listen_addresses=''``) and asks for a password
(``scram-sha-256``): each cluster has its own random one, so no catalog can open another.
A cluster made by an older version with ``trust`` is given a password on its next start.
Binaries and the account the server runs as (``lumina-pg`` when we are root) come from
``pg_binaries``; locks, private files and error texts from ``cluster_files``.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lumina_desktop.core.errors import ClusterError
from lumina_desktop.db.cluster_files import (check_private_dir, exclusive_flock, file_size, fsync_dir,
                                             is_postgres_process, last_line, relevant_lines, write_private)
from lumina_desktop.db.pg_binaries import (ROOT_RUNTIME, PgBinaries, chmod_tree_readable, choose_binaries,
                                           reachable_binaries, reachable_by, server_user)

if TYPE_CHECKING:
    import psycopg

__all__ = ["ClusterStatus", "EmbeddedCluster", "PgBinaries", "SOCKET_LIMIT", "choose_binaries"]

log = logging.getLogger(__name__)

DB_NAME = "lumina"
DB_USER = "lumina"
PORT = 5432
SOCKET_LIMIT = 107  # sizeof(sun_path) - 1 on Linux
LOCK_TIMEOUT_S = 300.0   # initdb + start + recovery of another process, at worst
READY_TIMEOUT_S = 60.0   # a server in crash recovery may take a while
MODE_KEEP, MODE_AUTO = "keep", "auto"
_HBA = ("# lumina-desktop: Unix socket only; the password is in ../pgpass (scram-sha-256)\n"
        "local   all   all   scram-sha-256\n")
_CONF = ("\n# lumina-desktop: private cluster, Unix socket only\n"
         "listen_addresses = ''\nunix_socket_permissions = 0700\npassword_encryption = 'scram-sha-256'\n"
         "max_connections = 100\nshared_buffers = 128MB\n"
         "log_min_messages = warning\nlog_timezone = 'UTC'\ntimezone = 'UTC'\n")
_AUTH_FAILED = ("password authentication failed", "no password supplied", "pg_hba.conf")


@dataclass(frozen=True)
class ClusterStatus:
    home: Path
    initialised: bool
    running: bool
    pid: int | None
    major: int | None
    socket_dir: Path | None      # None: not chosen yet (made at the first start)
    binaries: str
    mode: str | None = None      # "keep" or "auto" while running
    auth: str = ""               # how clients authenticate


class EmbeddedCluster:
    """The private cluster that belongs to a data folder: create, start, share, stop, status."""

    def __init__(self, data_dir: Path, *, fsync: bool = True, pg_bindir: str | None = None) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.fsync = fsync
        self._explicit_bindir = pg_bindir if pg_bindir is not None else os.environ.get("LUMINA_PG_BINDIR")
        self.user = server_user()
        self.home = self._cluster_home()
        self.pgdata = self.home / "data"
        self.log_path = self.home / "server.log"
        self.password_file = self.home / "pgpass"
        self._mode_file = self.home / "server-mode"
        self._socket_pointer = self.home / "socket-dir"
        self._client_lock: int | None = None
        self.started_here = False
        self._binaries: PgBinaries | None = None

    # -- locations
    def _cluster_home(self) -> Path:
        home = self.data_dir / "postgres"
        if self.user is None:
            return home
        pointer = ROOT_RUNTIME / "clusters" / hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:16]
        if self._ensure_dir(self.data_dir) and reachable_by(self.data_dir, self.user):
            return home
        return pointer

    @property
    def socket_dir(self) -> Path | None:
        """The socket folder: <home>/run, or the /tmp folder recorded at the first start."""
        preferred = self.home / "run"
        if _fits(preferred):
            return preferred
        try:
            recorded = self._socket_pointer.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return Path(recorded) if recorded else None

    @staticmethod
    def _ensure_dir(path: Path) -> bool:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise ClusterError(f"data folder {path} exists but is not a folder") from None
        except NotADirectoryError:
            raise ClusterError(f"data folder {path} cannot be created: a part of its path is a file") from None
        except PermissionError:
            raise ClusterError(f"data folder {path} is not writable (permission denied); choose another with --data-dir") from None
        except OSError as exc:
            raise ClusterError(f"data folder {path} cannot be created: {exc.strerror}") from None
        if not os.access(path, os.W_OK | os.X_OK):
            raise ClusterError(f"data folder {path} is not writable; choose another with --data-dir")
        return True

    @property
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def cluster_major(self) -> int | None:
        try:
            return int((self.pgdata / "PG_VERSION").read_text().strip())
        except (OSError, ValueError):
            return None

    def binaries(self) -> PgBinaries:
        if self._binaries is None:
            chosen = choose_binaries(self.cluster_major(), self._explicit_bindir)
            self._binaries = reachable_binaries(chosen, self.user)
        return self._binaries

    def conninfo(self, dbname: str = DB_NAME) -> str:
        """libpq parameters for this cluster.  The password stays in its file (``passfile``); the
        empty ``password`` keeps a PGPASSWORD meant for another server from overriding it."""
        from psycopg.conninfo import make_conninfo

        sock = self.socket_dir
        if sock is None:
            raise ClusterError(f"the embedded database server of {self.data_dir} has never been started")
        return make_conninfo(host=str(sock), port=PORT, dbname=dbname, user=DB_USER, password="",
                             passfile=str(self.password_file), connect_timeout=10,
                             application_name="lumina-desktop")

    # -- running commands as the server user
    def _run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "LANG": "C", "TZ": "UTC"}
        if self.user is not None:
            kwargs = {"user": self.user.uid, "group": self.user.gid, "extra_groups": []}
            env["HOME"] = self.user.home
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                                  cwd=str(self.home), stdin=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
        except subprocess.TimeoutExpired:
            raise ClusterError(f"{Path(args[0]).name} did not finish within {timeout:.0f} s; see {self.log_path}") from None

    def _own(self, path: Path, mode: int = 0o700) -> None:
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, mode)
        if self.user is not None:
            os.chown(path, self.user.uid, self.user.gid)

    # -- the lifecycle lock
    def _prepare_home(self) -> None:
        self._ensure_dir(self.data_dir)
        if self.user is not None:
            ROOT_RUNTIME.mkdir(parents=True, exist_ok=True)
            chmod_tree_readable(ROOT_RUNTIME)
            if self.home.is_relative_to(ROOT_RUNTIME):
                (ROOT_RUNTIME / "clusters").mkdir(parents=True, exist_ok=True)
                (self.data_dir / "postgres-location").write_text(str(self.home) + "\n")
        self._own(self.home)

    @contextmanager
    def _locked(self, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
        """Hold ``lifecycle.lock`` (released by the kernel if this process dies)."""
        self._prepare_home()
        busy = (f"another Lumina process has been creating, starting or stopping the database server in "
                f"{self.home} for {timeout_s:.0f} s; try again later (log: {self.log_path})")
        with exclusive_flock(self.home / "lifecycle.lock", timeout_s, busy):
            yield

    # -- public lifecycle
    def init(self) -> None:
        """Create the cluster if it does not exist (idempotent)."""
        if self.initialised:
            return
        with self._locked():
            self._init_locked()

    def start(self, *, keep_running: bool = True) -> None:
        """Create if needed and start the server, or reuse the running one; it keeps running until
        ``stop()`` (``keep_running=False``: until its last user releases it)."""
        with self._locked():
            self._start_locked(MODE_KEEP if keep_running else MODE_AUTO)

    def acquire(self, *, keep_running: bool = False) -> None:
        """Start (or reuse) the server and register this process as one of its users."""
        if self._client_lock is not None:
            return
        with self._locked():
            self._start_locked(MODE_KEEP if keep_running else MODE_AUTO)
            fd = os.open(self.home / "clients.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_SH)
            self._client_lock = fd

    def release(self, *, stop: bool | None = None) -> bool:
        """Unregister.  ``stop=None``: stop the server if this was its last user and it was started
        to stop when done (mode "auto"); ``True``: stop it if this was the last user, whatever the mode; ``False``:
        leave it running.  True if it was stopped."""
        fd, self._client_lock = self._client_lock, None
        if fd is None:
            return False
        if stop is False:
            os.close(fd)
            return False
        try:
            with self._locked():
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    log.info("another Lumina process still uses the database server; leaving it running")
                    return False
                if stop is None and self.mode() != MODE_AUTO:  # "keep", or started by someone else
                    log.info("leaving the database server running (not started to stop when done; 'db stop' stops it)")
                    return False
                return self._stop_locked()
        finally:
            os.close(fd)

    def stop(self) -> bool:
        """Stop the server (fast shutdown), whoever uses it; True if one was running."""
        if not self.pgdata.exists():
            return False
        with self._locked():
            return self._stop_locked()

    def mode(self) -> str | None:
        try:
            text = self._mode_file.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return text if text in (MODE_KEEP, MODE_AUTO) else None

    def has_users(self) -> bool:
        """Does any process hold a lease on the server (``acquire`` without ``release``)?"""
        try:
            fd = os.open(self.home / "clients.lock", os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def server_pid(self) -> int | None:
        """The pid of a live postmaster serving this cluster (reads only)."""
        pid = self._pidfile_pid()
        return pid if pid is not None and self._is_our_postmaster(pid) else None

    def status(self) -> ClusterStatus:
        try:
            bins = self.binaries()
            desc = f"PostgreSQL {bins.version} from {bins.origin} ({bins.bindir})"
        except ClusterError as exc:
            desc = f"unavailable: {exc}"
        pid = self.server_pid()
        if not self.initialised:
            auth = ""
        elif self._hba_trusts():
            auth = "trust (a password is set at the next start)"
        else:
            auth = f"scram-sha-256, password in {self.password_file}"
        return ClusterStatus(self.home, self.initialised, pid is not None, pid, self.cluster_major(),
                             self.socket_dir, desc, self.mode() if pid is not None else None, auth)

    # -- creation
    def _init_locked(self) -> None:
        self._remove_unfinished_inits()
        if self.initialised:
            return
        if self.pgdata.exists():
            if any(self.pgdata.iterdir()):
                raise ClusterError(f"{self.pgdata} is not empty but holds no PostgreSQL cluster; move it away, nothing was changed")
            self.pgdata.rmdir()
        bins = self.binaries()
        t0 = time.monotonic()
        password = secrets.token_urlsafe(32)
        tmp = self.home / f"data.init-{os.getpid()}-{secrets.token_hex(4)}"
        pwfile = self.home / f".initdb-pw-{secrets.token_hex(8)}"
        write_private(pwfile, password + "\n")
        if self.user is not None:
            os.chown(pwfile, self.user.uid, self.user.gid)  # initdb runs as the server account
        args = [bins.tool("initdb"), "-D", str(tmp), "-U", DB_USER, "--auth=scram-sha-256",
                f"--pwfile={pwfile}", "-E", "UTF8", "--no-locale", "--no-instructions"]
        if not self.fsync:
            args.append("--no-sync")
        elif bins.major >= 17 and sys.platform.startswith("linux"):
            args.append("--sync-method=syncfs")  # one syncfs: ~1 s instead of ~3 s of fsyncs
        try:
            res = self._run(args)
        finally:
            pwfile.unlink(missing_ok=True)
        if res.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ClusterError(f"initdb failed: {relevant_lines((res.stderr or '') + chr(10) + (res.stdout or ''))}")
        with open(tmp / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write(_CONF)
        (tmp / "pg_hba.conf").write_text(_HBA, encoding="utf-8")
        write_private(self.password_file, _pgpass_line(password))
        (self.home / "lumina-cluster.json").write_text(
            f'{{"major": {bins.major}, "version": "{bins.version}", "binaries": "{bins.origin}"}}\n')
        os.rename(tmp, self.pgdata)  # the cluster appears complete, or not at all
        if self.fsync:
            fsync_dir(self.home)
        log.info("initialised PostgreSQL %s cluster in %s (%.2f s)", bins.version, self.pgdata, time.monotonic() - t0)

    def _remove_unfinished_inits(self) -> None:
        """A killed first run's temporary cluster (we hold the lock: nobody is still making it,
        though an orphaned initdb may still write to it)."""
        for stale in self.home.glob("data.init-*"):
            log.warning("removing %s, left by an interrupted first start", stale)
            shutil.rmtree(stale, ignore_errors=True)

    # -- starting
    def _start_locked(self, mode: str) -> None:
        self._init_locked()
        sock = self._ensure_socket_dir_locked()
        conn = None
        for _attempt in range(3):
            if self.server_pid() is not None:  # running, starting, or recovering after a crash
                conn = self._wait_ready()
                if conn is not None:
                    if mode == MODE_KEEP:
                        self._write_mode(MODE_KEEP)
                    log.info("reusing the PostgreSQL server already running on %s", self.pgdata)
                    break
                continue  # it went away while we waited: start it
            bins = self.binaries()
            major = self.cluster_major()
            if major is not None and major != bins.major:
                raise ClusterError(f"cluster major {major} does not match binaries {bins.major}")
            self._clear_stale_pidfile()
            self._adopt_ownership()
            self._write_mode(mode)
            t0 = time.monotonic()
            log_offset = file_size(self.log_path)
            opts = f"-k {shlex.quote(str(sock))} -p {PORT} -c listen_addresses="
            if not self.fsync:
                opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            res = self._run([bins.tool("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.log_path),
                             "-w", "-t", "60", "-o", opts, "start"], timeout=90)
            if res.returncode != 0:
                if self.server_pid() is not None:
                    continue  # a server another (killed) process launched got there first: wait for it
                raise ClusterError(f"the PostgreSQL server did not start: {self._start_failure(res, log_offset)}")
            self.started_here = True
            conn = self._wait_ready()
            if conn is None:
                raise ClusterError(f"the PostgreSQL server stopped right after starting: {self._start_failure(res, log_offset)}")
            log.info("started PostgreSQL on %s (%.2f s)", sock, time.monotonic() - t0)
            break
        if conn is None:
            raise ClusterError(f"the PostgreSQL server in {self.home} keeps stopping while it starts; see {self.log_path}")
        with conn:
            self._finish_setup(conn)

    def _wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> psycopg.Connection | None:
        """A connection once the server accepts them; None if the server went away meanwhile."""
        import psycopg

        deadline = time.monotonic() + timeout_s
        last = ""
        while True:
            try:
                return psycopg.connect(self.conninfo("postgres"), connect_timeout=5, autocommit=True)
            except psycopg.OperationalError as exc:
                last = last_line(str(exc))
                if any(s in last for s in _AUTH_FAILED):
                    raise ClusterError(
                        f"the database server in {self.home} refused this catalog's password ({last}); "
                        f"its password file {self.password_file} is missing or was changed"
                    ) from None
            if self.server_pid() is None:
                return None
            if time.monotonic() > deadline:
                raise ClusterError(f"the PostgreSQL server on {self.socket_dir} does not accept connections "
                                   f"after {timeout_s:.0f} s: {last} (log: {self.log_path})")
            time.sleep(0.05)

    def _finish_setup(self, conn: psycopg.Connection) -> None:
        """Give a cluster made with ``trust`` its password; create the app's database if missing."""
        from psycopg import sql

        if self._hba_trusts():
            password = self._read_password() or secrets.token_urlsafe(32)
            write_private(self.password_file, _pgpass_line(password))
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(DB_USER), sql.Literal(password)))
            (self.pgdata / "pg_hba.conf").write_text(_HBA, encoding="utf-8")
            conn.execute("SELECT pg_reload_conf()")
            log.warning("the database cluster in %s used 'trust' authentication; it now asks for the password in %s",
                        self.home, self.password_file)
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))

    def _start_failure(self, res: subprocess.CompletedProcess[str], log_offset: int) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(log_offset)
                logged = f.read(64_000).decode("utf-8", "replace")
        except OSError:
            logged = ""
        text = logged + "\n" + (res.stderr or "") + "\n" + (res.stdout or "")
        detail = relevant_lines(text)
        if "Address already in use" in text or "could not create lock file" in text or "another server" in text:
            return (f"its socket {self.socket_dir}/.s.PGSQL.{PORT} is in use by another server; stop it or "
                    f"use another --data-dir ({detail})")
        return f"{detail} (log: {self.log_path})"

    # -- stopping
    def _stop_locked(self) -> bool:
        was_running = self.server_pid() is not None
        if was_running:
            res = self._run([self.binaries().tool("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60",
                             "stop"], timeout=90)
            if res.returncode != 0 and self.server_pid() is not None:
                raise ClusterError(f"the PostgreSQL server did not stop: {relevant_lines(res.stderr or res.stdout)}")
        else:
            self._clear_stale_pidfile()
        self._mode_file.unlink(missing_ok=True)
        self._drop_fallback_socket_dir()
        return was_running

    # -- files
    def _write_mode(self, mode: str) -> None:
        write_private(self._mode_file, mode + "\n")

    def _read_password(self) -> str | None:
        try:
            line = self.password_file.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        parts = line.split(":", 4)
        return parts[4] if len(parts) == 5 and parts[4] else None

    def _hba_trusts(self) -> bool:
        try:
            text = (self.pgdata / "pg_hba.conf").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
        return any("trust" in ln.split() for ln in text.splitlines() if not ln.lstrip().startswith("#"))

    def _pidfile_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _pidfile_socket_dir(self) -> Path | None:
        """The socket folder the running server uses (line 5 of postmaster.pid)."""
        try:
            line = (self.pgdata / "postmaster.pid").read_text().splitlines()[4].strip()
        except (OSError, IndexError):
            return None
        return Path(line) if line.startswith("/") else None

    def _is_our_postmaster(self, pid: int) -> bool:
        if not is_postgres_process(pid):
            return False
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            return True  # no /proc (macOS): trust kill(0)
        return os.fsencode(str(self.pgdata)) in args or not any(a == b"-D" for a in args)

    def _clear_stale_pidfile(self) -> None:
        pid = self._pidfile_pid()
        if pid is None or self._is_our_postmaster(pid):
            return
        log.warning("removing stale postmaster.pid (pid %d is not running): the server was not shut down cleanly", pid)
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
        sock = self.socket_dir
        if sock is not None:
            for lock in sock.glob(".s.PGSQL.*"):
                lock.unlink(missing_ok=True)

    def _adopt_ownership(self) -> None:
        """A cluster made by an older version as root belongs to another account: hand it over."""
        if self.user is None:
            return
        uid, gid = self.user.uid, self.user.gid
        if os.stat(self.pgdata).st_uid == uid:
            return
        log.warning("handing the database cluster in %s over to the %s account", self.home, self.user.name)
        keep = {self.password_file}
        for root, dirs, files in os.walk(self.home):
            for name in [*dirs, *files]:
                p = Path(root) / name
                if p not in keep:
                    os.lchown(p, uid, gid)
        os.chown(self.home, uid, gid)

    def _ensure_socket_dir_locked(self) -> Path:
        """<home>/run, or a private /tmp folder: made with mkdtemp, checked before every use."""
        preferred = self.home / "run"
        if _fits(preferred):
            self._own(preferred)
            return preferred
        owner = self.user.uid if self.user is not None else os.geteuid()
        recorded = self.socket_dir
        if recorded is not None and check_private_dir(recorded, owner, "database socket folder"):
            return recorded
        live = self._pidfile_socket_dir() if self.server_pid() is not None else None
        if live is not None and check_private_dir(live, owner, "database socket folder"):
            write_private(self._socket_pointer, str(live) + "\n")  # a server an older version started
            return live
        made = Path(tempfile.mkdtemp(prefix=f"lumina-{os.geteuid()}-", dir="/tmp"))  # random name, 0700
        if self.user is not None:
            os.chown(made, self.user.uid, self.user.gid)
        if not _fits(made):
            raise ClusterError(f"cannot find a socket folder short enough for {self.home}")
        write_private(self._socket_pointer, str(made) + "\n")
        return made

    def _drop_fallback_socket_dir(self) -> None:
        sock = self.socket_dir
        if sock is None or sock == self.home / "run":
            return
        try:
            os.rmdir(sock)
        except FileNotFoundError:
            pass
        except OSError:
            return  # not empty (or not ours): leave it and its pointer alone
        self._socket_pointer.unlink(missing_ok=True)


def _fits(socket_dir: Path) -> bool:
    return len(str(socket_dir / f".s.PGSQL.{PORT}")) < SOCKET_LIMIT - 6  # room for ".lock"


def _pgpass_line(password: str) -> str:
    return "*:*:*:" + DB_USER + ":" + password.replace("\\", "\\\\").replace(":", "\\:") + "\n"
