"""Tags from simple rules on pixels and on what the catalog knows of the file: screenshot,
document, black and white, night, panorama.

Any thread; pure functions of a small upright RGB picture (the grid thumbnail or the preview,
shrunk to :data:`RULES_PX`) and a :class:`FileFacts`.  Each rule gives a confidence 0–1 (0: not
this) from measures that are cheap on ≤ 256 px (about 1 ms together):

* **black and white**: the colourfulness of the picture — the 99th percentile of each pixel's
  largest channel difference — stays under :data:`GREY_CHROMA` (a JPEG of a grey picture keeps
  it under ~6 of 255; a dull colour photo reaches 25+), and its 99.9th under twice that (a dark
  street with a few coloured lights: p99 6, p99.9 53), measured where the picture is lit (luma
  ≥ 32): a mostly dark picture is never called black and white, as dark pixels hold no colour
  to judge by.  A sepia or tinted picture does not count.
* **screenshot**: no camera wrote the file (no make in EXIF), and the picture is mostly *flat*:
  neighbouring pixels exactly equal (:func:`flat_share`), as interface backgrounds are even after
  shrinking — a photo's noise leaves well under 10 %.  A lossless format (PNG, GIF, BMP, WebP)
  or a common screen size adds certainty.
* **document**: a light page with dark marks — most pixels bright, a few dark, little in between,
  and little colour — whether scanned, photographed or rendered.
* **night**: a dark picture (median luma under :data:`NIGHT_MEDIAN`) that was taken long or at
  a high ISO (EXIF), or that holds bright points of light.
* **panorama**: the original is at least :data:`PANORAMA_RATIO` times wider than high (or higher
  than wide).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

RULES_PX = 256
GREY_CHROMA = 12.0
FLAT_SHARE = 0.45
NIGHT_MEDIAN = 50.0
PANORAMA_RATIO = 2.0
LOSSLESS_FORMATS = frozenset({"PNG", "GIF", "BMP", "WEBP", "TIFF"})
SCREEN_SIZES = frozenset({
    (640, 480), (800, 600), (1024, 768), (1280, 720), (1280, 800), (1280, 1024), (1366, 768), (1440, 900),
    (1536, 864), (1600, 900), (1680, 1050), (1920, 1080), (1920, 1200), (2560, 1080), (2560, 1440),
    (2560, 1600), (2880, 1800), (3024, 1964), (3440, 1440), (3840, 2160), (750, 1334), (828, 1792),
    (1080, 1920), (1080, 2340), (1080, 2400), (1125, 2436), (1170, 2532), (1179, 2556), (1242, 2688),
    (1284, 2778), (1290, 2796), (1440, 3200), (1440, 2960), (2048, 1536), (2732, 2048), (2388, 1668),
})


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What the catalog knows of the original file."""

    file_format: str | None = None
    width: int | None = None
    height: int | None = None
    camera_make: str | None = None
    iso: int | None = None
    shutter_s: float | None = None


def _small(im: Image.Image) -> npt.NDArray[np.int16]:
    if im.mode != "RGB":
        im = im.convert("RGB")
    if max(im.size) > RULES_PX:
        im = im.copy()
        im.thumbnail((RULES_PX, RULES_PX), Image.Resampling.NEAREST)   # keeps flat areas exactly flat
    return np.asarray(im, dtype=np.int16)


def chroma(a: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """Each pixel's largest channel difference (0 for grey)."""
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    return np.maximum(np.maximum(np.abs(r - g), np.abs(g - b)), np.abs(r - b))


def chroma_p99(a: npt.NDArray[np.int16]) -> float:
    """99th percentile of :func:`chroma` (0 for a grey picture)."""
    return float(np.percentile(chroma(a), 99))


def flat_share(a: npt.NDArray[np.int16]) -> float:
    """Share of horizontally and vertically neighbouring pixels that are exactly equal."""
    same_x = np.all(a[:, 1:] == a[:, :-1], axis=2).mean()
    same_y = np.all(a[1:] == a[:-1], axis=2).mean()
    return float((same_x + same_y) / 2)


def _luma(a: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
    return (a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114).astype(np.float32)


def _ramp(x: float, zero: float, one: float) -> float:
    """0 at ``zero``, 1 at ``one``, linear between (either direction)."""
    if one == zero:
        return 1.0 if x >= one else 0.0
    return float(min(1.0, max(0.0, (x - zero) / (one - zero))))


def black_and_white(y: npt.NDArray[np.float32], c: npt.NDArray[np.int16]) -> float:
    lit = y >= 32                        # colour shows only where there is light
    if lit.mean() < 0.2:
        return 0.0
    p99, p999 = np.percentile(c[lit], (99, 99.9))
    if p999 >= 2 * GREY_CHROMA:      # a few coloured lights in a dark picture are colour
        return 0.0
    return _ramp(float(p99), GREY_CHROMA, GREY_CHROMA / 3)


def screenshot(a: npt.NDArray[np.int16], facts: FileFacts) -> float:
    if facts.camera_make:
        return 0.0
    flat = flat_share(a)
    score = _ramp(flat, FLAT_SHARE - 0.2, FLAT_SHARE + 0.2)
    if score <= 0:
        return 0.0
    bonus = 0.0
    if (facts.file_format or "").upper() in LOSSLESS_FORMATS:
        bonus += 0.25
    if facts.width and facts.height and (facts.width, facts.height) in SCREEN_SIZES:
        bonus += 0.25
    return float(min(1.0, score * (0.5 + bonus)))


def document(y: npt.NDArray[np.float32], c: npt.NDArray[np.int16]) -> float:
    bright = float((y >= 170).mean())
    dark = float((y < 110).mean())
    middle = 1.0 - bright - dark
    if dark < 0.01:
        return 0.0
    score = _ramp(bright, 0.45, 0.7) * _ramp(middle, 0.35, 0.15) * _ramp(dark, 0.45, 0.25)
    return float(score * _ramp(float(np.percentile(c, 99)), 90.0, 40.0)) if score > 0 else 0.0


def night(y: npt.NDArray[np.float32], facts: FileFacts) -> float:
    median = float(np.median(y))
    dark = _ramp(median, NIGHT_MEDIAN, NIGHT_MEDIAN / 2)
    if dark <= 0:
        return 0.0
    lights = float((y >= 200).mean())
    evidence = 0.4
    if facts.shutter_s is not None and facts.shutter_s >= 1 / 15:
        evidence = 1.0
    elif facts.iso is not None and facts.iso >= 1600:
        evidence = 0.9
    elif 0.0005 <= lights <= 0.15:
        evidence = 0.8
    return float(dark * evidence)


def panorama(facts: FileFacts, size: tuple[int, int]) -> float:
    w, h = (facts.width, facts.height) if facts.width and facts.height else size
    ratio = max(w, h) / max(1, min(w, h))
    return _ramp(ratio, PANORAMA_RATIO - 0.2, PANORAMA_RATIO + 0.5)


def heuristic_tags(im: Image.Image, facts: FileFacts) -> dict[str, float]:
    """Every rule's confidence for an upright picture (rules that say 0 are left out)."""
    a = _small(im)
    y, c = _luma(a), chroma(a)
    scores = {
        "black and white": black_and_white(y, c),
        "screenshot": screenshot(a, facts),
        "document": document(y, c),
        "night": night(y, facts),
        "panorama": panorama(facts, im.size),
    }
    return {k: round(v, 4) for k, v in scores.items() if v > 0}
