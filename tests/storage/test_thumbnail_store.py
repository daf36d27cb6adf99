"""storage.thumbnails: the one owner of thumbnail files — layout, atomic writes, the sizes it
reports to the catalog, reads that mark use, and pruning to a budget that never removes a
catalogued photo's grid thumbnail."""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from lumina_desktop.storage.thumbnails import ThumbnailStore, atomic_write, thumbnail_relpath

H1, H2, H3 = "a1" * 32, "b2" * 32, "c3" * 32


class Recorder:
    """A SizesRecorder that remembers what it was told (the catalog's side, in memory)."""

    def __init__(self) -> None:
        self.sizes: dict[str, set[int]] = {}

    def add_sizes(self, content_hash: str, sizes: Sequence[int]) -> None:
        self.sizes.setdefault(content_hash, set()).update(sizes)

    def remove_sizes(self, content_hash: str, sizes: Sequence[int]) -> None:
        self.sizes.get(content_hash, set()).difference_update(sizes)


def test_layout_is_by_content_hash_and_never_leaves_the_root() -> None:
    h = "abcdef0123456789" * 4
    assert thumbnail_relpath(h, 256) == f"ab/cd/{h}_256.jpg"
    for bad in ("../../etc/passwd", "ABCDEF0123456789", "abc"):
        with pytest.raises(ValueError):
            thumbnail_relpath(bad, 256)
    with pytest.raises(ValueError):
        thumbnail_relpath(h, 0)


def test_atomic_writes_leave_no_temp_files_and_keep_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "ab" / "cd" / "x_256.jpg"
    atomic_write(target, b"first")
    atomic_write(target, b"second")
    assert target.read_bytes() == b"second" and os.listdir(target.parent) == ["x_256.jpg"]
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"second" and os.listdir(target.parent) == ["x_256.jpg"]
    assert target.stat().st_mode & 0o077 == 0     # private to the user


def test_writes_report_sizes_unless_the_caller_records_them(tmp_path: Path) -> None:
    rec = Recorder()
    store = ThumbnailStore(tmp_path, recorder=rec)
    store.write(H1, 1280, b"preview")
    assert rec.sizes == {H1: {1280}}
    store.write_many(H2, {256: b"grid", 1280: b"big"}, record=False)     # a scan records with its row
    assert H2 not in rec.sizes and store.sizes_on_disk(H2) == (256, 1280)
    store.write_many(H2, {256: b"other copy"}, only_missing=True)
    assert store.read(H2, 256) == b"grid" and rec.sizes[H2] == {256}
    assert store.read(H3, 256) is None and store.open_path("not-a-hash", 256) is None
    assert ThumbnailStore.best_for((256, 1280), 600) == 1280 and ThumbnailStore.best_for((256,), 600) == 256
    assert ThumbnailStore.best_for((), 600) is None


def test_a_read_marks_the_file_used_at_most_once_a_day(tmp_path: Path) -> None:
    store = ThumbnailStore(tmp_path)
    path = store.write(H1, 256, b"x")
    old = time.time() - 3 * 86400
    os.utime(path, (old, old))
    assert store.read(H1, 256) == b"x" and path.stat().st_mtime > time.time() - 60
    recent = time.time() - 3600
    os.utime(path, (recent, recent))
    store.open_path(H1, 256)
    assert abs(path.stat().st_mtime - recent) < 1       # used an hour ago: not touched again


def test_pruning_removes_least_recently_used_and_never_a_kept_grid_thumbnail(tmp_path: Path) -> None:
    rec = Recorder()
    store = ThumbnailStore(tmp_path, recorder=rec)
    now = time.time()
    ages = {(H1, 256): 50, (H1, 1280): 40, (H2, 256): 30, (H2, 1280): 20, (H3, 1280): 10}   # days unused
    for (h, px), days in ages.items():
        path = store.write(h, px, b"." * 1000)
        os.utime(path, (now - days * 86400, now - days * 86400))
    (tmp_path / "a1" / "a1" / ".tmp-x.part").write_bytes(b"." * 5000)   # a write in progress: not counted
    assert store.usage() == 5000
    kept_grid = {H1, H2}                                               # photos in the catalog
    result = store.prune_to(2500, keep=lambda h, px: px == 256 and h in kept_grid)
    # oldest first, skipping the catalogued grid thumbnails: H1's preview, H2's preview, H3's
    assert sorted(f[:2] for f in store.files()) == sorted([(H1, 256), (H2, 256)])
    assert (result.files_removed, result.bytes_freed, result.bytes_kept, result.over_budget) == (3, 3000, 2000, False)
    assert rec.sizes == {H1: {256}, H2: {256}, H3: set()}              # the catalog hears of the removals
    assert result.removed == {H1: (1280,), H2: (1280,), H3: (1280,)}
    result = store.prune_to(1000, keep=lambda h, px: px == 256 and h in kept_grid)
    assert result.files_removed == 0 and result.over_budget and store.usage() == 2000   # all that is left is kept
    assert store.prune_to(1000).files_removed == 1                     # unprotected: the older grid goes
