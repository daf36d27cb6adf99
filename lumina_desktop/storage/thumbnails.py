"""ThumbnailStore: the one owner of thumbnail files — where they live, writing, reading, pruning.

Files live under the store's root at ``ab/cd/<content hash>_<px>.jpg``: keyed by content hash,
not photo id, so copies share one file and a moved or renamed photo keeps its thumbnails.

* **Writes are atomic** (a temp file in the same folder, then ``os.replace``): readers see the
  old file or the whole new one.  Every write is also reported to the store's
  :class:`SizesRecorder` (the catalog's record of which sizes exist), unless the caller records
  the sizes itself in its own transaction (a scan does, with the photo's row).
* **Reads mark use:** a read file's modification time is moved to now (at most once a day per
  file), so pruning removes the least recently used first.
* **Pruning** (:meth:`ThumbnailStore.prune_to`) removes least recently used files until the store
  fits its budget, never a file the caller says to keep (the grid size of a photo in a catalog),
  and reports what it removed to the recorder.

Any thread; no Qt, no SQL.
"""
from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lumina_desktop.core.media import GRID_PX

log = logging.getLogger(__name__)

TOUCH_AFTER_S = 24 * 3600      # a read moves the file's mtime forward at most once a day
_HEX = frozenset("0123456789abcdef")


class SizesRecorder(Protocol):
    """The catalog's record of which thumbnail sizes exist for a content hash (the db implements it)."""

    def add_sizes(self, content_hash: str, sizes: Sequence[int]) -> None: ...
    def remove_sizes(self, content_hash: str, sizes: Sequence[int]) -> None: ...


def thumbnail_relpath(content_hash: str, px: int) -> str:
    """``ab/cd/<hash>_<px>.jpg`` under the store's root ('/'-separated).  A value that is not a
    lower-case hex hash, or a size that is not positive, is a ValueError: never a path outside."""
    if len(content_hash) < 8 or not set(content_hash) <= _HEX:
        raise ValueError(f"not a lower-case hex content hash: {content_hash!r}")
    if px <= 0:
        raise ValueError(f"thumbnail size must be positive, got {px}")
    return f"{content_hash[:2]}/{content_hash[2:4]}/{content_hash}_{px}.jpg"


def atomic_write(path: str | os.PathLike[str], data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder + ``os.replace``).

    Creates missing parent folders.  With ``durable`` the file is fsynced before the rename
    (thumbnails pass False: they can be rebuilt, and an fsync per file costs more than making
    the thumbnail).  Created private to the user (mode 0600, as ``mkstemp``).
    """
    target = os.fspath(path)
    folder = os.path.dirname(target) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@dataclass(frozen=True)
class PruneResult:
    files_removed: int
    bytes_freed: int
    bytes_kept: int          # what the store holds afterwards
    over_budget: bool        # still above the budget: what is left is all protected
    removed: Mapping[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)   # hash → sizes


class ThumbnailStore:
    """Thumbnail files under ``root``; ``recorder`` (optional) hears of every size written or removed."""

    def __init__(self, root: Path, *, recorder: SizesRecorder | None = None) -> None:
        self.root = Path(root)
        self.recorder = recorder

    # -- where
    def path_for(self, content_hash: str, px: int) -> Path:
        return self.root / thumbnail_relpath(content_hash, px)

    def sizes_on_disk(self, content_hash: str) -> tuple[int, ...]:
        """The sizes stored for ``content_hash``, ascending (what is on disk, whatever the catalog says)."""
        folder = self.path_for(content_hash, 1).parent
        prefix = f"{content_hash}_"
        sizes = []
        try:
            names = os.listdir(folder)
        except OSError:
            return ()
        for name in names:
            if name.startswith(prefix) and name.endswith(".jpg"):
                with contextlib.suppress(ValueError):
                    sizes.append(int(name[len(prefix):-4]))
        return tuple(sorted(sizes))

    @staticmethod
    def best_for(sizes: Iterable[int], px: int) -> int | None:
        """Of ``sizes``, the smallest that covers ``px``, else the largest; None if there is none."""
        ordered = sorted(set(sizes))
        if not ordered:
            return None
        return next((s for s in ordered if s >= px), ordered[-1])

    # -- read
    def read(self, content_hash: str, px: int) -> bytes | None:
        """The stored bytes, or None if absent or unreadable; marks the file as recently used."""
        try:
            path = self.path_for(content_hash, px)
            data = path.read_bytes()
        except (OSError, ValueError):
            return None
        self._touch(path)
        return data

    def open_path(self, content_hash: str, px: int) -> Path | None:
        """The file's path if it exists (marked as recently used), for decoders that read files."""
        try:
            path = self.path_for(content_hash, px)
        except ValueError:
            return None
        if not self._touch(path):
            return None
        return path

    def _touch(self, path: Path) -> bool:
        try:
            st = path.stat()
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode):      # a folder or device where a thumbnail should be
            return False
        now = time.time()
        if now - st.st_mtime > TOUCH_AFTER_S:
            with contextlib.suppress(OSError):
                os.utime(path, (now, now))
        return True

    # -- write
    def write(self, content_hash: str, px: int, data: bytes, *, record: bool = True) -> Path:
        """Store one size atomically; ``record``: tell the recorder (False: the caller records it)."""
        return self.write_many(content_hash, {px: data}, record=record)[px]

    def write_many(self, content_hash: str, by_size: Mapping[int, bytes], *, record: bool = True,
                   only_missing: bool = False) -> dict[int, Path]:
        """Store several sizes (``only_missing``: keep a file already there — copies share it)."""
        paths = {}
        for px, data in by_size.items():
            path = self.path_for(content_hash, px)
            if not (only_missing and path.exists()):
                atomic_write(path, data, durable=False)
            paths[px] = path
        if record and paths and self.recorder is not None:
            try:
                self.recorder.add_sizes(content_hash, sorted(paths))
            except Exception:   # the file is there; the next scan records it — say so, do not fail the read
                log.warning("could not record thumbnail sizes %s of %s", sorted(paths), content_hash, exc_info=True)
        return paths

    # -- size and pruning
    def files(self) -> Iterable[tuple[str, int, int, float]]:
        """Every stored thumbnail: (content hash, size px, bytes, mtime).  Temp files are skipped."""
        for dirpath, _dirs, names in os.walk(self.root):
            for name in names:
                if not name.endswith(".jpg") or name.startswith(".") or "_" not in name:
                    continue
                stem, _, size = name[:-4].rpartition("_")
                if not stem or not set(stem) <= _HEX or not size.isdigit():
                    continue
                try:
                    st = os.stat(os.path.join(dirpath, name))
                except OSError:
                    continue
                yield stem, int(size), st.st_size, st.st_mtime

    def usage(self) -> int:
        """Bytes the store holds."""
        return sum(f[2] for f in self.files())

    def prune_keeping_grid(self, budget_bytes: int, catalogued: Collection[str]) -> PruneResult:
        """:meth:`prune_to` the budget, never removing the grid thumbnail of a ``catalogued`` hash."""
        return self.prune_to(budget_bytes, keep=lambda h, px: px == GRID_PX and h in catalogued)

    def prune_to(self, budget_bytes: int, *, keep: Callable[[str, int], bool] = lambda _h, _px: False) -> PruneResult:
        """Remove least recently used files until the store holds at most ``budget_bytes``;
        never a file for which ``keep(hash, px)`` is true."""
        found = sorted(self.files(), key=lambda f: f[3])        # oldest use first
        total = sum(f[2] for f in found)
        removed: dict[str, list[int]] = {}
        freed = n = 0
        for content_hash, px, size, _mtime in found:
            if total - freed <= budget_bytes:
                break
            if keep(content_hash, px):
                continue
            try:
                os.unlink(self.path_for(content_hash, px))
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("cannot remove thumbnail %s_%d: %s", content_hash, px, exc)
                continue
            freed += size
            n += 1
            removed.setdefault(content_hash, []).append(px)
        if self.recorder is not None:
            for content_hash, sizes in removed.items():
                self.recorder.remove_sizes(content_hash, sizes)
        kept = total - freed
        return PruneResult(n, freed, kept, kept > budget_bytes, {h: tuple(s) for h, s in removed.items()})
