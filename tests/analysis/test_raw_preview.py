"""analysis.raw_preview + RAW ingest: embedded previews and RAW metadata."""
from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lumina_desktop.analysis import raw_preview
from lumina_desktop.analysis.ingest import analyse_bytes, analyse_file
from lumina_desktop.core.media import FailureReason, MediaError, MediaKind

from .builders import dng_with_preview, encode, stored_for, upright


def test_synthetic_dng_uses_embedded_preview_and_orientation() -> None:
    picture = upright(360, 240)
    preview = encode(stored_for(picture, 6), "JPEG", quality=95)
    data = dng_with_preview(preview, orientation=6, make="TestCam", model="Model-X")
    result = analyse_bytes(data, name="IMG_0001.DNG")
    assert (result.file_type, result.kind, result.format) == ("DNG", MediaKind.RAW, "JPEG")
    meta = result.metadata
    assert (meta.make, meta.model, meta.orientation) == ("TestCam", "Model-X", 6)
    assert (meta.width, meta.height) == (360, 240)
    assert meta.capture_time == datetime(2022, 3, 4, 5, 6, 7) and meta.date_source == "exif"
    thumb = np.asarray(Image.open(io.BytesIO(result.thumbnails[256])), dtype=float)
    expect = np.asarray(picture.resize((256, 171), Image.Resampling.LANCZOS), dtype=float)
    assert thumb.shape == expect.shape and np.abs(thumb - expect).mean() < 10
    assert result.identity.image_data_hash is None


def test_tiff_walker_picks_the_largest_jpeg() -> None:
    small = encode(upright(40, 30), "JPEG")
    big = encode(upright(400, 300), "JPEG")
    data = dng_with_preview(big) + b""
    candidates = raw_preview._tiff_candidates(data)
    assert len(candidates) == 1 and candidates[0][1] == len(big)
    found = raw_preview._from_tiff(data)
    assert found is not None and found.encoded == big and found.source == "tiff"
    assert raw_preview._from_tiff(dng_with_preview(small)) is not None


def test_walker_survives_loops_and_garbage() -> None:
    looping = b"II*\0\x08\0\0\0" + b"\x00\x00" + b"\x08\0\0\0"  # IFD0 → next IFD = itself
    assert raw_preview._tiff_candidates(looping) == []
    assert raw_preview._tiff_candidates(b"MM\0*\xff\xff\xff\xff") == []
    assert raw_preview._tiff_candidates(b"not tiff") == []


def test_raw_without_any_preview_is_unsupported() -> None:
    with pytest.raises(MediaError) as info:
        raw_preview.extract_preview(b"II*\0\x08\0\0\0\0\0\0\0\0\0", "NEF")
    assert info.value.reason is FailureReason.UNSUPPORTED
    assert "NEF" in info.value.message and "preview" in info.value.message


def test_cr3_tiff_blocks() -> None:
    tiff = b"II*\0\x08\0\0\0\0\0\0\0\0\0"
    box = (8 + len(tiff)).to_bytes(4, "big") + b"CMT1" + tiff
    data = b"\0\0\0\x18ftypcrx \0\0\0\x01crx isom" + box
    assert raw_preview.cr3_tiff_blocks(data) == {"CMT1": tiff}


RAW_SAMPLES = ["FujiFilm.raf", "Panasonic.rw2", "SigmaDP2.x3f"]


@pytest.mark.parametrize("name", RAW_SAMPLES)
def test_real_raw_samples(photos_dir: Path, name: str) -> None:
    path = photos_dir / "exiftool-metadata-samples" / name
    if not path.exists():
        pytest.skip(f"{name} not in the corpus")
    result = analyse_file(path)
    assert result.kind is MediaKind.RAW and result.thumbnails
    assert result.metadata.make  # camera make comes from the RAW container or its preview


def test_cr3_metadata_from_cmt_boxes() -> None:
    from lumina_desktop.analysis import exif

    ifd0 = Image.Exif()
    ifd0[exif.MAKE], ifd0[exif.MODEL], ifd0[exif.ORIENTATION] = "Canon", "Canon EOS R6", 8
    sub = Image.Exif()
    sub[exif.DT_ORIGINAL], sub[exif.SUBSEC_ORIGINAL] = "2024:02:29 12:00:01", "45"
    sub[exif.BODY_SERIAL] = "R6-0001"
    blocks = {"CMT1": ifd0.tobytes()[6:], "CMT2": sub.tobytes()[6:]}  # strip "Exif\0\0"
    warnings: list[str] = []
    dirs = exif.cr3_exif(blocks, warnings)
    meta = exif.build_metadata(dirs, path="IMG_0001.CR3", mtime_s=None, size=(6000, 4000),
                               warnings=warnings)
    assert (meta.make, meta.model, meta.body_serial) == ("Canon", "Canon EOS R6", "R6-0001")
    assert meta.capture_time == datetime(2024, 2, 29, 12, 0, 1, 450000)
    assert (meta.orientation, meta.width, meta.height) == (8, 4000, 6000)
    assert not warnings
