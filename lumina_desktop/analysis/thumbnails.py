"""Thumbnails: decoded picture → upright sRGB images per size → JPEG bytes.

Runs on any thread (worker).  Pure functions: where thumbnails are stored, and writing them,
belong to ``storage.thumbnails.ThumbnailStore``.

Pipeline (one decode, everything else derived from it):
  1. ``colour.flatten`` — alpha composited on **white** (thumbnails are JPEG, which has
     no alpha; white matches how photo apps show transparent PNG/GIF/WebP), 16-bit → 8-bit.
  2. shrink to the largest requested long edge (LANCZOS with ``reducing_gap``; never
     enlarged beyond the source) — unless the decode already lies in that size's
     :func:`band` (previews accept 0.8–1.25× their nominal edge, so a JPEG decoded at a
     DCT scale in 1024–1600 px is used as decoded: no second resampling),
  3. convert to sRGB from the embedded ICC profile (after shrinking: cheaper),
  4. apply the EXIF orientation (same table as ``ImageOps.exif_transpose``),
  5. each smaller size is shrunk from the previous one; JPEG quality 85, RGB, no profile.
Pillow releases the GIL in decode, resize, colour transform and encode.
"""
from __future__ import annotations

import io

from PIL import Image

from lumina_desktop.analysis import colour
from lumina_desktop.analysis.perceptual import BASE_PX, SHARP_MAX_PX, reduce_to
from lumina_desktop.core.media import GRID_PX, PREVIEW_PX  # one definition, in core

DEFAULT_SIZES: tuple[int, ...] = (GRID_PX, PREVIEW_PX)
JPEG_QUALITY = 85
PREVIEW_SLACK = (0.8, 1.25)
"""A preview slot (nominal edge above SHARP_MAX_PX) accepts long edges in this ratio band."""

TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def orient(im: Image.Image, orientation: int) -> Image.Image:
    """Apply EXIF orientation 1–8 (1 or unknown: unchanged)."""
    method = TRANSPOSE.get(orientation)
    return im.transpose(method) if method is not None else im


def band(size: int) -> tuple[int, int]:
    """The long edges ``(lo, hi)`` a thumbnail slot of nominal ``size`` accepts.

    Grid sizes (up to ``SHARP_MAX_PX``) are exact: cells and the perceptual contract
    rely on them.  Previews take 0.8–1.25× (1280 → 1024–1600 px): a viewer scales them
    to the window anyway, and landing on a JPEG DCT scale saves a full-size resample.
    """
    if size <= SHARP_MAX_PX:
        return size, size
    return round(size * PREVIEW_SLACK[0]), round(size * PREVIEW_SLACK[1])


def decode_band(sizes: tuple[int, ...]) -> tuple[int, int]:
    """The band the one decode should land in to feed every size in ``sizes``."""
    return band(max(max(sizes), BASE_PX))


def render_sizes(decoded: Image.Image, *, orientation: int, icc: bytes | None,
                 sizes: tuple[int, ...], warnings: list[str], aspect: float | None = None
                 ) -> dict[int, Image.Image]:
    """Upright sRGB ``RGB`` images for every size in ``sizes`` plus :data:`BASE_PX`.

    Each image's long edge is ``min(size, source long edge)``, or, for a preview, whatever
    the decode gave if that lies in the slot's :func:`band`; ``aspect`` is the displayed
    width / height of the full-resolution picture (for exact rounding, see ``fit_size``).
    """
    wanted = sorted(set(sizes) | {BASE_PX}, reverse=True)
    stored_aspect = None
    if aspect is not None:
        stored_aspect = 1 / aspect if orientation in (5, 6, 7, 8) else aspect
    im = colour.flatten(decoded)
    im = reduce_to(im, wanted[0], stored_aspect, keep_up_to=band(wanted[0])[1])
    im = colour.to_srgb(im, icc, warnings)
    im = orient(im, orientation)
    out: dict[int, Image.Image] = {}
    for size in wanted:
        im = reduce_to(im, size, aspect, keep_up_to=band(size)[1])
        out[size] = im
    return out


def encode_jpeg(im: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    """Baseline JPEG bytes of an RGB/L image."""
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def encode_thumbnails(images: dict[int, Image.Image], sizes: tuple[int, ...],
                      quality: int = JPEG_QUALITY) -> dict[int, bytes]:
    """Encode the requested sizes; sizes that came out identical are encoded once."""
    out: dict[int, bytes] = {}
    done: dict[int, bytes] = {}
    for size in sorted(set(sizes)):
        im = images[size]
        key = id(im)
        if key not in done:
            done[key] = encode_jpeg(im, quality)
        out[size] = done[key]
    return out
