"""analysis.previews: a preview made on demand equals the one a scan makes, and only for the
content it was asked for."""
from __future__ import annotations

from pathlib import Path

from lumina_desktop.analysis.ingest import analyse_file
from lumina_desktop.analysis.previews import ensure_preview
from lumina_desktop.analysis.thumbnails import thumbnail_relpath

from .builders import encode, photo_like, stored_for


def test_on_demand_preview_equals_the_scan_preview_and_is_cached(tmp_path: Path) -> None:
    path = tmp_path / "p.jpg"
    path.write_bytes(encode(stored_for(photo_like(1600, 2400, seed=4), 6), "JPEG", quality=90,
                            exif=_orientation_exif(6)))
    scanned = analyse_file(path)
    cache = tmp_path / "cache"
    made = ensure_preview(str(path), scanned.identity.content_hash, cache)
    assert made == cache / thumbnail_relpath(scanned.identity.content_hash, 1280)
    assert made.read_bytes() == scanned.thumbnails[1280]  # same decode, orientation, colour, size
    stamp = made.stat().st_mtime_ns
    assert ensure_preview(str(path), scanned.identity.content_hash, cache) == made
    assert made.stat().st_mtime_ns == stamp  # cached: not made twice


def test_no_preview_for_changed_missing_or_broken_files(tmp_path: Path) -> None:
    path = tmp_path / "p.jpg"
    path.write_bytes(encode(photo_like(800, 600, seed=1), "JPEG"))
    old_hash = analyse_file(path).identity.content_hash
    path.write_bytes(encode(photo_like(800, 600, seed=2), "JPEG"))
    cache = tmp_path / "cache"
    assert ensure_preview(str(path), old_hash, cache) is None
    assert not (cache / thumbnail_relpath(old_hash, 1280)).exists()
    assert ensure_preview(str(tmp_path / "gone.jpg"), old_hash, cache) is None
    path.write_bytes(b"not a picture")
    assert ensure_preview(str(path), old_hash, cache) is None


def _orientation_exif(value: int) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def test_an_unwritable_cache_gives_no_preview_instead_of_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "p.jpg"
    path.write_bytes(encode(photo_like(800, 600, seed=3), "JPEG"))
    content_hash = analyse_file(path).identity.content_hash
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / content_hash[:2]).write_bytes(b"a file where the cache folder should be")
    assert ensure_preview(str(path), content_hash, cache) is None


def test_a_file_that_gave_no_preview_is_not_read_again_until_it_changes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.analysis import previews

    path = tmp_path / "p.jpg"
    path.write_bytes(encode(photo_like(800, 600, seed=5), "JPEG"))
    stale = "ab" * 32  # the hash the catalog holds: no longer this file's content
    reads: list[int] = []
    real = previews.hashing.content_hash
    monkeypatch.setattr(previews.hashing, "content_hash", lambda data: reads.append(1) or real(data))
    cache = tmp_path / "cache"
    assert ensure_preview(str(path), stale, cache) is None
    assert ensure_preview(str(path), stale, cache) is None
    assert len(reads) == 1  # the second call only stat()ed the file
    path.write_bytes(encode(photo_like(800, 600, seed=6), "JPEG"))  # changed again: read again
    assert ensure_preview(str(path), stale, cache) is None
    assert len(reads) == 2


def test_a_fifo_is_never_opened(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    assert ensure_preview(str(fifo), "cd" * 32, tmp_path / "cache") is None  # would block if opened
