"""Files of an embedded cluster's home: private atomic writes, the lifecycle lock, checked private
folders, and what the server's log and tools said went wrong (any non-GUI thread)."""
from __future__ import annotations

import fcntl
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lumina_desktop.core.errors import ClusterError


@contextmanager
def exclusive_flock(path: Path, timeout_s: float, busy_message: str) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (the kernel releases it if this process dies); after
    ``timeout_s`` of waiting, ClusterError(``busy_message``)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        delay = 0.002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ClusterError(busy_message) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        yield
    finally:
        os.close(fd)


def check_private_dir(path: Path, owner_uid: int, what: str) -> bool:
    """True if ``path`` is a real folder of ``owner_uid`` with mode 0700; False if it is missing;
    ClusterError (one line) if it is anything else: someone else made it."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode) and st.st_uid == owner_uid and stat.S_IMODE(st.st_mode) == 0o700:
        return True
    found = "a symlink" if stat.S_ISLNK(st.st_mode) else f"owner uid {st.st_uid}, mode {stat.S_IMODE(st.st_mode):o}"
    raise ClusterError(f"the {what} {path} is not Lumina's ({found}; it must be uid {owner_uid}, mode 700): "
                       "another account may have made it. Nothing was started; remove it and try again")


def write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically to ``path``, mode 0600 from the start."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d [\d:.]+(?: \w+)? \[\d+\] ")
_NOISE = re.compile(r"removing (contents of )?data directory|Examine the log output|could not start server$|"
                    r"^waiting for server|^\.+$|stopped waiting|^done$|^server start", re.IGNORECASE)
_SIGNAL = re.compile(r"\b(FATAL|PANIC|ERROR|DETAIL|HINT)\b|error|could not|cannot|invalid|denied|no space|"
                     r"exists|unrecognized|failed", re.IGNORECASE)


def relevant_lines(text: str, limit: int = 4) -> str:
    """The lines of a tool's output or the server's log that say what went wrong, on one line."""
    lines = [_LOG_PREFIX.sub("", ln).strip() for ln in (text or "").splitlines()]
    lines = [ln[:300] for ln in lines if ln and not _NOISE.search(ln)]
    picked = [ln for ln in lines if _SIGNAL.search(ln)] or lines
    out = list(dict.fromkeys(picked[-limit:]))
    return "; ".join(out) if out else "no error output"


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def is_postgres_process(pid: int) -> bool:
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
