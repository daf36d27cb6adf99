"""analysis.ingest end to end on generated files of every format we can encode."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lumina_desktop.analysis import ingest
from lumina_desktop.analysis.ingest import analyse_bytes, analyse_file
from lumina_desktop.core.media import GREY_SIZE, HASH_BYTES, IngestResult, MediaKind

from .builders import encode, photo_like, upright


def _thumb(result: IngestResult, size: int) -> Image.Image:
    return Image.open(io.BytesIO(result.thumbnails[size]))


def _check_common(result: IngestResult, width: int, height: int) -> None:
    assert result.kind is MediaKind.IMAGE
    assert result.metadata.width == width and result.metadata.height == height
    assert len(result.identity.content_hash) == 64
    assert result.perceptual is not None
    assert len(result.perceptual.phash) == HASH_BYTES == len(result.perceptual.dhash)
    assert len(result.perceptual.grey) == GREY_SIZE * GREY_SIZE
    assert result.perceptual.aspect == pytest.approx(width / height)
    assert set(result.thumbnails) == {256, 1280}
    for size in (256, 1280):
        thumb = _thumb(result, size)
        assert thumb.format == "JPEG" and thumb.mode == "RGB"
        assert max(thumb.size) == min(size, max(width, height))  # small: never enlarged


@pytest.mark.parametrize(("fmt", "ext", "params"), [
    ("JPEG", "jpg", {"quality": 92}),
    ("PNG", "png", {}),
    ("TIFF", "tif", {"compression": "tiff_deflate"}),
    ("WEBP", "webp", {"quality": 90}),
    ("GIF", "gif", {}),
    ("BMP", "bmp", {}),
    ("AVIF", "avif", {"quality": 90}),
])
def test_formats_pillow_can_write(tmp_path: Path, fmt: str, ext: str, params: dict[str, object]
                                  ) -> None:
    picture = upright(300, 200)
    path = tmp_path / f"picture.{ext}"
    path.write_bytes(encode(picture, fmt, **params))
    result = analyse_file(path)
    assert result.file_type == fmt and result.format == fmt
    _check_common(result, 300, 200)
    thumb = np.asarray(_thumb(result, 1280), dtype=float)
    assert np.abs(thumb - np.asarray(picture, dtype=float)).mean() < 12


def test_heic_via_pillow_heif(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("pillow-heif has no HEVC encoder here")
    from lumina_desktop.analysis.decode import ensure_decoder

    ensure_decoder("HEIF")  # registers the plugin (also for saving)
    picture = upright(320, 240)
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(encode(picture, "HEIF", quality=90))
    result = analyse_file(path)
    assert result.file_type == "HEIF"
    _check_common(result, 320, 240)


def test_large_jpeg_is_decoded_at_a_dct_scale_inside_the_preview_band(tmp_path: Path) -> None:
    picture = upright(2800, 1900).resize((2800, 1900))
    path = tmp_path / "big.jpg"
    path.write_bytes(encode(picture, "JPEG", quality=85))
    result = analyse_file(path)
    assert result.metadata.width == 2800
    assert _thumb(result, 1280).size == (1400, 950)  # 1/2 scale, in 1024–1600: kept as is
    assert _thumb(result, 256).size == (256, 174)


def test_small_picture_is_never_upscaled_and_encoded_once() -> None:
    result = analyse_bytes(encode(upright(120, 90), "PNG"), name="tiny.png")
    assert _thumb(result, 256).size == (120, 90)
    assert result.thumbnails[256] == result.thumbnails[1280]


def test_custom_thumb_sizes() -> None:
    result = analyse_bytes(encode(upright(900, 600), "JPEG"), name="a.jpg", thumb_sizes=(128,))
    assert set(result.thumbnails) == {128}
    assert _thumb(result, 128).size == (128, 85)
    assert result.perceptual is not None  # perceptual data does not depend on thumb sizes
    with pytest.raises(ValueError):
        analyse_bytes(encode(upright(), "PNG"), name="a.png", thumb_sizes=())


def test_perceptual_data_is_independent_of_thumb_sizes() -> None:
    data = encode(photo_like(1600, 1200, seed=3), "JPEG", quality=90)
    a = analyse_bytes(data, name="a.jpg")
    b = analyse_bytes(data, name="a.jpg", thumb_sizes=(256,))
    assert a.perceptual is not None and b.perceptual is not None
    from lumina_desktop.analysis.perceptual import hamming

    # Different draft scales → different resampling chains: a few bits, never more.
    assert hamming(a.perceptual.phash, b.perceptual.phash) <= 8


def test_extension_lie_png_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "really_a_png.jpg"
    path.write_bytes(encode(upright(), "PNG"))
    result = analyse_file(path)
    assert result.file_type == "PNG" and result.format == "PNG"
    assert any("named .jpg" in w and "PNG" in w for w in result.warnings)


def test_alpha_is_composited_on_white() -> None:
    rgba = Image.new("RGBA", (40, 30), (255, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 20, 30))
    result = analyse_bytes(encode(rgba, "PNG"), name="alpha.png")
    thumb = np.asarray(_thumb(result, 256), dtype=int)
    assert (np.abs(thumb[15, 30] - (255, 255, 255)) < 8).all()  # transparent → white
    assert thumb[15, 5, 2] > 230 and thumb[15, 5, 0] < 30  # opaque blue stays blue


@pytest.mark.parametrize("mode", ["L", "P", "1", "CMYK", "I;16", "LA"])
def test_unusual_pixel_modes(mode: str) -> None:
    base = upright(64, 48)
    if mode == "I;16":
        im = Image.fromarray(np.asarray(base.convert("L"), dtype=np.uint16) * 257)
        assert im.mode == "I;16"
        fmt, ext = "PNG", "png"
    else:
        im = base.convert(mode)
        fmt, ext = ("JPEG", "jpg") if mode == "CMYK" else ("PNG", "png")
        if mode == "LA":
            fmt, ext = "PNG", "png"
    result = analyse_bytes(encode(im, fmt), name=f"m.{ext}")
    def blocks(im: Image.Image) -> np.ndarray:  # compare 8×6 block means (dithering of "1")
        return np.asarray(im.convert("L").resize((8, 6), Image.Resampling.BOX), dtype=float)

    tolerance = 25 if mode == "1" else 8
    assert np.abs(blocks(_thumb(result, 256)) - blocks(base)).mean() < tolerance


def test_analyse_file_accepts_bytes_paths_and_pathlike(tmp_path: Path) -> None:
    path = tmp_path / "p.jpg"
    path.write_bytes(encode(upright(), "JPEG"))
    by_str = analyse_file(str(path))
    assert analyse_file(os.fsencode(path)).identity == by_str.identity
    assert analyse_file(path).identity == by_str.identity


def test_results_are_deterministic() -> None:
    data = encode(upright(500, 300, seed=9), "JPEG")
    assert analyse_bytes(data, name="a.jpg") == analyse_bytes(data, name="a.jpg")


def test_max_file_bytes_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "MAX_FILE_BYTES", 100)
    path = tmp_path / "a.png"
    path.write_bytes(encode(upright(), "PNG"))
    with pytest.raises(ingest.MediaError) as info:
        analyse_file(path)
    assert info.value.reason.value == "too_large"
