"""Moving files to the trash and back, with names known before the move (any non-GUI thread).

Nothing is ever deleted: a file leaves its folder only by ``rename`` into a trash on the same
file system, so a move is atomic and costs no copy, and a restore is the same rename back.

Where a file goes, in order:

1. the freedesktop.org home trash (``$XDG_DATA_HOME/Trash``) when it is on the file's file system;
2. the file system's own ``$topdir/.Trash-$uid`` (made 0700 when missing), as the trash
   specification says for other file systems;
3. otherwise the app's trash folder at the top of that file system (``.lumina-trash-$uid``),
   for file systems where neither can be made.

Unlike ``send2trash``, which picks the name in the trash while it moves, :func:`plan` picks the
name first, so the operations journal can record it before the file moves: a move interrupted
at any moment is then finished or undone from the journal alone (:func:`finish_move`,
:func:`restore`).  Trash entries carry the spec's ``.trashinfo`` file, so the desktop's trash
can restore them too.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

SYSTEM, FILESYSTEM, APP = "system", "filesystem", "app"
APP_TRASH = ".lumina-trash-{uid}"


class TrashError(OSError):
    """A file could not be moved to or from the trash; the message says why, in words."""


@dataclass(frozen=True, slots=True)
class TrashSpot:
    """Where one file goes: the trash ``files`` path and its ``.trashinfo`` (None for the app trash)."""

    kind: str
    path: str
    info_path: str | None


def _device(path: str) -> int:
    return os.stat(path).st_dev


def _mount_top(path: str) -> str:
    """The top directory of the file system holding ``path``."""
    path = os.path.realpath(path)
    dev = _device(path)
    while True:
        parent = os.path.dirname(path)
        if parent == path or _device(parent) != dev:
            return path
        path = parent


def home_trash() -> str:
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "Trash")


def _usable_dir(path: str, *, private: bool) -> bool:
    """``path`` is (or was made) a real directory of ours; a symlink or someone else's is refused."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        return False
    if private and st.st_mode & 0o077:
        return False
    return os.access(path, os.W_OK | os.X_OK)


def _trash_for(source_dir: str) -> tuple[str, str] | None:
    """(kind, trash root) of a trash on the file system of ``source_dir``, made if needed."""
    dev = _device(source_dir)
    home = home_trash()
    try:
        os.makedirs(os.path.dirname(home), exist_ok=True)
        home_dev = _device(os.path.dirname(home))
    except OSError:
        home_dev = None
    if home_dev == dev and _usable_dir(os.path.join(home, "files"), private=False) and \
            _usable_dir(os.path.join(home, "info"), private=False):
        return SYSTEM, home
    top = _mount_top(source_dir)
    fs_trash = os.path.join(top, f".Trash-{os.getuid()}")
    if _usable_dir(fs_trash, private=True) and _usable_dir(os.path.join(fs_trash, "files"), private=False) \
            and _usable_dir(os.path.join(fs_trash, "info"), private=False) and _device(fs_trash) == dev:
        return FILESYSTEM, fs_trash
    app = os.path.join(top, APP_TRASH.format(uid=os.getuid()))
    if _usable_dir(app, private=True) and _device(app) == dev:
        return APP, app
    return None


def plan(original: str, key: str) -> TrashSpot:
    """Where ``original`` will go; ``key`` (e.g. the journal's item id) makes the name unique.

    TrashError when no trash on its file system can take it (the file then stays where it is)."""
    folder = os.path.dirname(os.path.abspath(original))
    found = _trash_for(folder)
    if found is None:
        raise TrashError(f"no trash can take files from {folder} (read-only, or no room for a trash folder)")
    kind, root = found
    stem, ext = os.path.splitext(os.path.basename(original))
    name = f"{stem}.{key}{ext}"
    if kind == APP:
        return TrashSpot(kind, os.path.join(root, name), None)
    return TrashSpot(kind, os.path.join(root, "files", name), os.path.join(root, "info", name + ".trashinfo"))


def _trashinfo(original: str, spot: TrashSpot) -> bytes:
    # the home trash records absolute paths; a file system's own trash, paths from its top
    path = os.path.abspath(original)
    if spot.kind == FILESYSTEM:
        top = os.path.dirname(os.path.dirname(os.path.dirname(spot.path)))
        path = os.path.relpath(path, top)
    when = datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    return f"[Trash Info]\nPath={quote(path)}\nDeletionDate={when}\n".encode()


def move(original: str, spot: TrashSpot) -> None:
    """Move ``original`` to ``spot`` (its ``.trashinfo`` first, as the spec asks); never replaces
    a file already in the trash.  TrashError says why it could not."""
    if not os.path.lexists(original):
        raise TrashError(f"{original} is not there any more")
    if os.path.lexists(spot.path):
        raise TrashError(f"the trash already holds {spot.path}")
    if spot.info_path is not None:
        try:
            fd = os.open(spot.info_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(_trashinfo(original, spot))
        except OSError as exc:
            raise TrashError(f"cannot write to the trash: {exc.strerror or exc}") from None
    try:
        os.rename(original, spot.path)
    except OSError as exc:
        if spot.info_path is not None:
            try:
                os.unlink(spot.info_path)
            except OSError:
                pass
        raise TrashError(f"cannot move {original} to the trash: {exc.strerror or exc}") from None


def is_moved(original: str, spot: TrashSpot) -> bool:
    """The move happened (an interrupted one included): the file is in the trash, not at home."""
    return os.path.lexists(spot.path) and not os.path.lexists(original)


def restore(original: str, spot: TrashSpot) -> None:
    """Move a trashed file back (TrashError when its place is taken or it left the trash)."""
    if os.path.lexists(original):
        raise TrashError(f"a file now exists at {original}; move it away first")
    if not os.path.lexists(spot.path):
        raise TrashError(f"{os.path.basename(spot.path)} is no longer in the trash (emptied, or restored "
                         "from the desktop's trash?)")
    try:
        os.makedirs(os.path.dirname(original), exist_ok=True)
        os.rename(spot.path, original)
    except OSError as exc:
        raise TrashError(f"cannot move {os.path.basename(original)} back: {exc.strerror or exc}") from None
    drop_info(spot)


def drop_info(spot: TrashSpot) -> None:
    if spot.info_path is not None:
        try:
            os.unlink(spot.info_path)
        except OSError:
            pass


__all__ = ["APP", "FILESYSTEM", "SYSTEM", "TrashError", "TrashSpot", "drop_info", "home_trash", "is_moved", "move",
           "plan", "restore"]
