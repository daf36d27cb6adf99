"""analysis.thumbnails: orientation, colour management, sizes, paths, atomic writes."""
from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from PIL import Image

from lumina_desktop.analysis import thumbnails
from lumina_desktop.analysis.ingest import analyse_bytes

from .builders import (
    display_p3_like,
    encode,
    exif_with_orientation,
    srgb_profile,
    stored_for,
    upright,
)


def _thumb_array(data: bytes, size: int = 256) -> np.ndarray:
    result = analyse_bytes(data, name="x")  # name without extension: content decides
    return np.asarray(Image.open(io.BytesIO(result.thumbnails[size])).convert("RGB"), dtype=float)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_gives_an_upright_thumbnail(fmt: str, orientation: int) -> None:
    picture = upright(96, 64)
    stored = stored_for(picture, orientation)
    data = encode(stored, fmt, exif=exif_with_orientation(orientation),
                  **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))
    thumb = _thumb_array(data)
    expect = np.asarray(picture, dtype=float)
    assert thumb.shape == expect.shape
    assert np.abs(thumb - expect).mean() < 10
    if orientation != 1:  # and it really was stored differently
        assert np.asarray(stored).shape != expect.shape or np.abs(
            np.asarray(stored, dtype=float) - expect).mean() > 20


def test_wide_gamut_profile_is_converted_to_srgb() -> None:
    colour = (200, 100, 50)
    im = Image.new("RGB", (64, 64), colour)
    untagged = _thumb_array(encode(im, "PNG"))[32, 32]
    srgb = _thumb_array(encode(im, "PNG", icc_profile=srgb_profile()))[32, 32]
    wide = _thumb_array(encode(im, "PNG", icc_profile=display_p3_like()))[32, 32]
    assert np.abs(untagged - colour).max() <= 2
    assert np.abs(srgb - colour).max() <= 2
    # The same numbers in a wider gamut are a more saturated colour in sRGB.
    assert wide[0] > colour[0] + 8 and wide[2] < colour[2] - 5
    assert np.abs(wide - untagged).max() > 15


def test_icc_conversion_also_for_jpeg_and_cmyk() -> None:
    im = Image.new("RGB", (64, 64), (60, 160, 90))
    plain = _thumb_array(encode(im, "JPEG", quality=95))[32, 32]
    wide = _thumb_array(encode(im, "JPEG", quality=95, icc_profile=display_p3_like()))[32, 32]
    assert np.abs(wide - plain).max() > 10
    cmyk = _thumb_array(encode(im.convert("CMYK"), "JPEG", quality=95))[32, 32]
    assert np.abs(cmyk - plain).max() < 12


def test_unusable_profile_is_a_warning() -> None:
    im = Image.new("RGB", (32, 32), (10, 200, 10))
    result = analyse_bytes(encode(im, "PNG", icc_profile=b"not really a profile"), name="a.png")
    assert any("ICC" in w for w in result.warnings)
    assert result.thumbnails


def test_transform_cache_is_thread_safe() -> None:
    picture = Image.new("RGB", (300, 200), (200, 100, 50))
    data = encode(picture, "JPEG", icc_profile=display_p3_like())
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(analyse_bytes(data, name="a.jpg").thumbnails[256])
        except BaseException as exc:  # collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors and len(set(results)) == 1 and len(results) == 6



def test_encode_jpeg_quality() -> None:
    im = upright(200, 100)
    assert len(thumbnails.encode_jpeg(im, 95)) > len(thumbnails.encode_jpeg(im, 50))
    assert Image.open(io.BytesIO(thumbnails.encode_jpeg(im))).format == "JPEG"
