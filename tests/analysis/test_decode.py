"""analysis.decode: the libjpeg-turbo scale choice, its fast path, and Pillow's fallback."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from lumina_desktop.analysis import decode, thumbnails
from lumina_desktop.analysis.decode import jpeg_scale
from lumina_desktop.analysis.ingest import analyse_bytes
from lumina_desktop.core.media import FailureReason, MediaError

from .builders import encode, photo_like

PREVIEW_BAND = thumbnails.band(thumbnails.PREVIEW_PX)


def test_preview_band_is_0_8_to_1_25_of_the_nominal_size_and_grid_is_exact() -> None:
    assert PREVIEW_BAND == (1024, 1600)
    assert thumbnails.band(256) == (256, 256)
    assert thumbnails.decode_band((256, 1280)) == (1024, 1600)
    assert thumbnails.decode_band((128,)) == (256, 256)  # perceptual base needs 256


@pytest.mark.parametrize(("long_edge", "eighths"), [
    (3000, 4),   # 1/2 → 1500, a SIMD scale inside the band
    (2400, 4),   # 1/2 → 1200
    (5000, 2),   # 1/4 → 1250
    (3600, 3),   # no SIMD scale fits: 3/8 → 1350
    (1800, 5),   # 5/8 → 1125
    (1500, 8),   # already inside the band: full size
    (800, 8),    # smaller than the band: full size, never enlarged
    (7200, 2),   # nothing n/8 fits (1/4 → 1800, 1/8 → 900): the SIMD scale above, resized later
    (12000, 1),  # 1/8 → 1500
])
def test_jpeg_scale_prefers_simd_scales_inside_the_band(long_edge: int, eighths: int) -> None:
    assert jpeg_scale(long_edge, PREVIEW_BAND) == eighths


def test_jpeg_scale_for_grid_only_is_the_smallest_simd_scale_covering_256() -> None:
    assert jpeg_scale(4000, (256, 256)) == 1   # 500 px, then LANCZOS to 256
    assert jpeg_scale(1500, (256, 256)) == 2   # 375
    assert jpeg_scale(256, (256, 256)) == 8


def _open(data: bytes) -> Image.Image:
    return decode.open_image(data, "JPEG", max_pixels=decode.DEFAULT_MAX_PIXELS, what="t")


def test_fast_path_decodes_at_the_chosen_scale_and_matches_pillow() -> None:
    data = encode(photo_like(3000, 2000, seed=5), "JPEG", quality=90)
    fast = decode.load_reduced(_open(data), PREVIEW_BAND, "t", data)
    assert fast.size == (1500, 1000)
    assert fast.mode == "RGB" and getattr(fast, "format", None) is None  # not Pillow's loader
    pillow = decode.load_reduced(_open(data), PREVIEW_BAND, "t")  # no bytes: Pillow's draft
    assert pillow.size == (1500, 1000) and pillow.format == "JPEG"
    diff = np.abs(np.asarray(fast, dtype=float) - np.asarray(pillow, dtype=float))
    assert diff.mean() < 1.0


def test_fast_path_uses_non_simd_scales_to_land_in_the_band() -> None:
    data = encode(photo_like(3600, 2400, seed=6), "JPEG", quality=85)
    im = decode.load_reduced(_open(data), PREVIEW_BAND, "t", data)
    assert im.size == (1350, 900)


def test_grey_jpeg_stays_grey_on_the_fast_path() -> None:
    data = encode(photo_like(2400, 1600, seed=7).convert("L"), "JPEG", quality=90)
    im = decode.load_reduced(_open(data), PREVIEW_BAND, "t", data)
    assert im.mode == "L" and im.size == (1200, 800)


def test_cmyk_jpeg_takes_pillows_path() -> None:
    cmyk = Image.new("CMYK", (2400, 1600), (0, 255, 255, 0))  # pure red in CMYK
    data = encode(cmyk, "JPEG", quality=95)
    im = decode.load_reduced(_open(data), PREVIEW_BAND, "t", data)
    assert im.mode == "CMYK" and im.format == "JPEG" and im.size == (1200, 800)
    result = analyse_bytes(data, name="cmyk.jpg")
    thumb = np.asarray(Image.open(io.BytesIO(result.thumbnails[256])).convert("RGB"), dtype=float)
    r, g, b = thumb.reshape(-1, 3).mean(axis=0)
    assert r > 200 and g < 60 and b < 60


def test_truncated_jpeg_still_reported_as_truncated() -> None:
    data = encode(photo_like(2400, 1600, seed=8), "JPEG", quality=90)
    with pytest.raises(MediaError) as info:
        analyse_bytes(data[: len(data) * 2 // 3], name="cut.jpg")
    assert info.value.reason is FailureReason.TRUNCATED


def test_extraneous_bytes_warning_falls_back_to_pillow_and_decodes() -> None:
    """libjpeg warns about garbage between markers; simplejpeg refuses, Pillow decodes it."""
    data = encode(photo_like(1200, 800, seed=9), "JPEG", quality=90)
    dht = data.index(b"\xff\xc4")
    damaged = data[:dht] + b"\x00\x01\x02" + data[dht:]  # "3 extraneous bytes before marker 0xc4"
    assert decode._decode_jpeg_turbo(damaged, PREVIEW_BAND) is None  # noqa: SLF001 - strict refuses
    result = analyse_bytes(damaged, name="junk.jpg")
    assert result.metadata.width == 1200 and result.thumbnails


def test_ingest_preview_is_the_dct_scaled_decode_not_resampled() -> None:
    picture = photo_like(3000, 2000, seed=10)
    data = encode(picture, "JPEG", quality=92)
    result = analyse_bytes(data, name="big.jpg")
    preview = Image.open(io.BytesIO(result.thumbnails[1280]))
    assert preview.size == (1500, 1000)
    grid = Image.open(io.BytesIO(result.thumbnails[256]))
    assert grid.size == (256, 171)
    # the preview is the picture, not just the right size
    reference = np.asarray(picture.resize((1500, 1000), Image.Resampling.LANCZOS), dtype=float)
    assert np.abs(np.asarray(preview, dtype=float) - reference).mean() < 6


def test_portrait_jpeg_scales_by_its_long_edge() -> None:
    data = encode(photo_like(2000, 3000, seed=11), "JPEG", quality=90)
    im = decode.load_reduced(_open(data), PREVIEW_BAND, "t", data)
    assert im.size == (1000, 1500)


def test_progressive_jpeg_on_the_fast_path() -> None:
    data = encode(photo_like(3000, 2000, seed=12), "JPEG", quality=90, progressive=True)
    fast = decode._decode_jpeg_turbo(data, PREVIEW_BAND)  # noqa: SLF001
    assert fast is not None and fast.size == (1500, 1000)


def test_mpo_first_frame_on_the_fast_path() -> None:
    first, second = photo_like(2400, 1600, seed=13), photo_like(2400, 1600, seed=14)
    buf = io.BytesIO()
    first.save(buf, "MPO", save_all=True, append_images=[second], quality=90)
    data = buf.getvalue()
    im = decode.open_image(data, "JPEG", max_pixels=decode.DEFAULT_MAX_PIXELS, what="t")
    assert im.format == "MPO"
    decoded = decode.load_reduced(im, PREVIEW_BAND, "t", data)
    assert decoded.size == (1200, 800) and getattr(decoded, "format", None) is None
    reference = np.asarray(first.resize((1200, 800), Image.Resampling.LANCZOS), dtype=float)
    assert np.abs(np.asarray(decoded, dtype=float) - reference).mean() < 4


def test_exif_rotated_jpeg_preview_is_upright_with_the_band_size() -> None:
    from .builders import stored_for

    upright_picture = photo_like(2000, 3000, seed=15)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(stored_for(upright_picture, 6), "JPEG", quality=92, exif=exif.tobytes())
    result = analyse_bytes(data, name="rotated.jpg")
    assert (result.metadata.width, result.metadata.height) == (2000, 3000)
    preview = Image.open(io.BytesIO(result.thumbnails[1280]))
    assert preview.size == (1000, 1500)
    reference = np.asarray(upright_picture.resize((1000, 1500), Image.Resampling.LANCZOS), dtype=float)
    assert np.abs(np.asarray(preview, dtype=float) - reference).mean() < 6
