"""analysis.colour: mode flattening and the ICC transform cache."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lumina_desktop.analysis import colour

from .builders import display_p3_like, srgb_profile


@pytest.mark.parametrize(("mode", "expected"), [
    ("RGB", "RGB"), ("L", "L"), ("CMYK", "CMYK"), ("RGBA", "RGB"), ("LA", "RGB"),
    ("P", "RGB"), ("1", "L"), ("I", "L"), ("F", "L"), ("I;16", "L"), ("YCbCr", "RGB"),
])
def test_flatten_modes(mode: str, expected: str) -> None:
    im = Image.new("RGB", (8, 8), (120, 60, 30)).convert(mode)
    assert colour.flatten(im).mode == expected


def test_flatten_16_bit_scales_instead_of_clipping() -> None:
    im = Image.fromarray(np.full((4, 4), 32768, dtype=np.uint16))
    assert np.asarray(colour.flatten(im)).max() == 128


def test_flatten_float_unit_range() -> None:
    im = Image.fromarray(np.full((4, 4), 0.5, dtype=np.float32))
    assert np.asarray(colour.flatten(im)).max() == 128


def test_srgb_profile_is_skipped_and_wide_gamut_converted() -> None:
    im = Image.new("RGB", (4, 4), (200, 100, 50))
    warnings: list[str] = []
    assert colour.to_srgb(im, srgb_profile(), warnings) is im
    out = colour.to_srgb(im, display_p3_like(), warnings)
    assert out.mode == "RGB" and out.getpixel((0, 0)) != (200, 100, 50)
    assert colour.to_srgb(im, display_p3_like(), warnings).tobytes() == out.tobytes()  # cached
    assert not warnings


def test_profile_mode_mismatch_is_a_warning() -> None:
    warnings: list[str] = []
    out = colour.to_srgb(Image.new("CMYK", (4, 4)), display_p3_like(), warnings)
    assert out.mode == "RGB" and warnings
