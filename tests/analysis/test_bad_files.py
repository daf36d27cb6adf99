"""Bad files: each is a MediaError with a clear reason, quickly, never a crash or hang."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lumina_desktop.analysis import decode, ingest
from lumina_desktop.analysis.ingest import analyse_bytes, analyse_file, probe_video
from lumina_desktop.core.media import FailureReason, MediaError

from .builders import encode, png_declaring, upright


def _reason(path: Path | str | bytes, **kwargs: object) -> MediaError:
    with pytest.raises(MediaError) as info:
        analyse_file(path, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    err = _reason(tmp_path / "empty.jpg")
    assert err.reason is FailureReason.EMPTY_FILE and "empty" in err.message


def test_text_file_named_jpg(tmp_path: Path) -> None:
    (tmp_path / "notes.jpg").write_text("shopping list:\n- milk\n- bread\n")
    err = _reason(tmp_path / "notes.jpg")
    assert err.reason is FailureReason.NOT_AN_IMAGE
    assert "text" in err.message


@pytest.mark.parametrize(("fmt", "ext"), [("JPEG", "jpg"), ("PNG", "png")])
def test_truncated_file(tmp_path: Path, fmt: str, ext: str) -> None:
    data = encode(upright(400, 300), fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    path = tmp_path / f"cut.{ext}"
    path.write_bytes(data[: len(data) * 2 // 3])
    err = _reason(path)
    assert err.reason is FailureReason.TRUNCATED, err
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # global untouched


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    from PIL import Image

    limit_before = Image.MAX_IMAGE_PIXELS
    path = tmp_path / "bomb.png"
    path.write_bytes(png_declaring(60000, 60000))
    started = time.perf_counter()
    err = _reason(path)
    assert err.reason is FailureReason.DECOMPRESSION_BOMB
    assert "60000" in err.message and time.perf_counter() - started < 2
    assert Image.MAX_IMAGE_PIXELS == limit_before


def test_max_pixels_is_the_callers_limit(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(encode(upright(100, 100), "PNG"))
    assert _reason(path, max_pixels=5000).reason is FailureReason.DECOMPRESSION_BOMB
    assert analyse_file(path, max_pixels=10_000).metadata.width == 100
    # Above Pillow's own global limit (~179 MP) but within ours: not refused by Pillow.
    big = png_declaring(15000, 13000)  # 195 MP declared; token data → fails later, not as bomb
    assert analyse_bytes_reason(big) is not FailureReason.DECOMPRESSION_BOMB


def analyse_bytes_reason(data: bytes) -> FailureReason:
    with pytest.raises(MediaError) as info:
        analyse_bytes(data, name="x.png")
    return info.value.reason


def test_garbage_after_valid_magic_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "bad.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    assert _reason(path).reason in (FailureReason.CORRUPT, FailureReason.TRUNCATED)


def test_vanished_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.jpg"
    path.write_bytes(encode(upright(), "JPEG"))
    path.unlink()  # deleted between the directory scan and ingest
    err = _reason(path)
    assert err.reason is FailureReason.VANISHED
    with pytest.raises(MediaError) as info:
        probe_video(tmp_path / "gone.mp4")
    assert info.value.reason is FailureReason.VANISHED


def test_directory_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "folder.jpg").mkdir()
    assert _reason(tmp_path / "folder.jpg").reason is FailureReason.UNREADABLE


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads files whatever their permissions")
def test_unreadable_permissions(tmp_path: Path) -> None:
    path = tmp_path / "secret.jpg"
    path.write_bytes(encode(upright(), "JPEG"))
    path.chmod(0)
    try:
        assert _reason(path).reason is FailureReason.UNREADABLE
    finally:
        path.chmod(0o600)


def test_permission_error_maps_to_unreadable() -> None:
    # Runs as root too, where chmod cannot produce the error: check the mapping itself.
    err = ingest._open_error(PermissionError(13, "Permission denied"), "/x/secret.jpg")
    assert err.reason is FailureReason.UNREADABLE and "permission" in err.message
    err = ingest._open_error(OSError(36, "File name too long"), "/x/" + "a" * 5000)
    assert err.reason is FailureReason.UNREADABLE and "too long" in err.message


def test_non_utf8_file_name(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    name = os.path.join(folder, b"caf\xe9_IMG_20230514_101112.jpg")
    with open(name, "wb") as fh:
        fh.write(encode(upright(), "JPEG"))
    by_bytes = analyse_file(name)
    by_str = analyse_file(os.fsdecode(name))  # surrogate-escaped str works the same
    assert by_bytes.identity == by_str.identity
    assert by_bytes.metadata.date_source == "filename"


def test_very_long_file_name(tmp_path: Path) -> None:
    name = "é" * 120 + ".jpg"  # 244 bytes in UTF-8, near the 255-byte limit
    path = tmp_path / name
    path.write_bytes(encode(upright(), "JPEG"))
    assert analyse_file(path).file_type == "JPEG"
    too_long = tmp_path / ("x" * 300 + ".jpg")
    assert _reason(too_long).reason in (FailureReason.UNREADABLE, FailureReason.VANISHED)


def test_jpeg_xl_without_decoder(tmp_path: Path) -> None:
    from PIL import Image

    decode.ensure_decoder("JPEG")
    Image.init()
    path = tmp_path / "a.jxl"
    path.write_bytes(b"\xff\x0a" + os.urandom(100))
    try:
        decode.ensure_decoder("JXL")
    except MediaError as err:
        assert err.reason is FailureReason.UNSUPPORTED and "JPEG XL" in err.message
        assert _reason(path).reason is FailureReason.UNSUPPORTED
    else:
        assert _reason(path).reason in (FailureReason.CORRUPT, FailureReason.TRUNCATED)


def test_raw_without_preview(tmp_path: Path) -> None:
    path = tmp_path / "empty.nef"
    path.write_bytes(b"II*\0\x08\0\0\0\0\0\0\0\0\0")
    err = _reason(path)
    assert err.reason is FailureReason.UNSUPPORTED and "preview" in err.message


def test_analyse_bytes_refuses_video() -> None:
    with pytest.raises(MediaError) as info:
        analyse_bytes(b"\0\0\0\x18ftypisom\0\0\x02\0isommp41", name="a.mp4")
    assert info.value.reason is FailureReason.UNSUPPORTED


def test_invalid_samples_never_hang(tmp_path: Path) -> None:
    good = encode(upright(300, 200), "JPEG")
    samples = [
        good[:200],
        good[:2] + b"\xff\xc0\x00\x11" + b"\xff" * 50,
        good.replace(b"\xff\xda", b"\xff\xdb", 1),
        b"GIF89a" + b"\xff" * 40,
        b"BM" + b"\x00" * 60,
        b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x01" * 30,
    ]
    for i, blob in enumerate(samples):
        path = tmp_path / f"s{i}.bin.jpg"
        path.write_bytes(blob)
        started = time.perf_counter()
        with pytest.raises(MediaError):
            analyse_file(path)
        assert time.perf_counter() - started < 5


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_fifo_named_jpg_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    started = time.perf_counter()
    assert _reason(fifo).reason is FailureReason.UNREADABLE
    with pytest.raises(MediaError):
        probe_video(fifo)
    assert time.perf_counter() - started < 2
