"""analysis.previews: a preview made on demand equals the one a scan makes, and only for the
content it was asked for (storing it is the thumbnail store's job: tests/storage)."""
from __future__ import annotations

from pathlib import Path

from lumina_desktop.analysis.ingest import analyse_file
from lumina_desktop.analysis.previews import make_preview

from .builders import encode, photo_like, stored_for


def test_on_demand_preview_equals_the_scan_preview(tmp_path: Path) -> None:
    path = tmp_path / "p.jpg"
    path.write_bytes(encode(stored_for(photo_like(1600, 2400, seed=4), 6), "JPEG", quality=90,
                            exif=_orientation_exif(6)))
    scanned = analyse_file(path)
    made = make_preview(str(path), scanned.identity.content_hash)
    assert made == scanned.thumbnails[1280]  # same decode, orientation, colour, size


def test_no_preview_for_changed_missing_or_broken_files(tmp_path: Path) -> None:
    path = tmp_path / "p.jpg"
    path.write_bytes(encode(photo_like(800, 600, seed=1), "JPEG"))
    old_hash = analyse_file(path).identity.content_hash
    path.write_bytes(encode(photo_like(800, 600, seed=2), "JPEG"))
    assert make_preview(str(path), old_hash) is None
    assert make_preview(str(tmp_path / "gone.jpg"), old_hash) is None
    path.write_bytes(b"not a picture")
    assert make_preview(str(path), old_hash) is None


def _orientation_exif(value: int) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def test_a_file_that_gave_no_preview_is_not_read_again_until_it_changes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.analysis import previews

    path = tmp_path / "p.jpg"
    path.write_bytes(encode(photo_like(800, 600, seed=5), "JPEG"))
    stale = "ab" * 32  # the hash the catalog holds: no longer this file's content
    reads: list[int] = []
    real = previews.hashing.content_hash
    monkeypatch.setattr(previews.hashing, "content_hash", lambda data: reads.append(1) or real(data))
    assert make_preview(str(path), stale) is None
    assert make_preview(str(path), stale) is None
    assert len(reads) == 1  # the second call only stat()ed the file
    path.write_bytes(encode(photo_like(800, 600, seed=6), "JPEG"))  # changed again: read again
    assert make_preview(str(path), stale) is None
    assert len(reads) == 2


def test_a_fifo_is_never_opened(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    assert make_preview(str(fifo), "cd" * 32) is None  # would block if opened
