"""Shared helpers for the duplicate-detection tests (no tests here).

Fingerprints follow the input contract of ``analysis.duplicates``: EXIF-oriented
RGB picture, ``imagehash.phash/dhash(hash_size=16)`` packed with ``np.packbits``,
and the whole picture squashed to a 64x64 ``L`` grey (BILINEAR).
"""
from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from lumina_desktop.core.duplicates import PhotoFingerprint

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "photos"


def fingerprint_image(img: Image.Image, pid: int, **meta: Any) -> PhotoFingerprint:
    """A PhotoFingerprint of a Pillow image, with keeper facts defaulted from the image."""
    img = ImageOps.exif_transpose(img).convert("RGB")
    ph = imagehash.phash(img, hash_size=16)
    dh = imagehash.dhash(img, hash_size=16)
    grey = img.convert("L").resize((64, 64), Image.BILINEAR)
    fields: dict[str, Any] = dict(
        id=pid,
        content_hash=f"{pid:064x}",
        image_data_hash=None,
        phash=np.packbits(ph.hash.flatten()).tobytes(),
        dhash=np.packbits(dh.hash.flatten()).tobytes(),
        grey=grey.tobytes(),
        aspect=img.width / img.height,
        width=img.width,
        height=img.height,
        size=img.width * img.height // 4,
        format="JPEG",
        is_raw=False,
        has_camera_exif=False,
        capture_time=None,
        mtime=1_700_000_000.0 + pid,
        path=f"/photos/img_{pid}.jpg",
    )
    fields.update(meta)
    return PhotoFingerprint(**fields)


def scene(seed: int, w: int = 640, h: int = 480, *, shift: tuple[float, float] = (0.0, 0.0),
          move: tuple[float, float] | None = None) -> Image.Image:
    """A deterministic photo-like picture: gradient sky, soft blobs, hard shapes, texture.

    ``shift`` moves the camera (fraction of the frame); ``move`` moves one object
    (the 'subject') by that fraction -- together they make burst siblings.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    x = x / w + shift[0]
    y = y / h + shift[1]
    img = rng.uniform(0.2, 0.8, 3) * (1 - y[..., None]) + rng.uniform(0.1, 0.7, 3) * y[..., None]
    for _ in range(10):
        cx, cy = rng.uniform(-0.1, 1.1, 2)
        rx, ry = rng.uniform(0.05, 0.3, 2)
        col = rng.uniform(-0.5, 0.5, 3)
        img += col * np.exp(-(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2))[..., None]
    for _ in range(6):
        cx, cy = rng.uniform(0.1, 0.9, 2)
        sx, sy = rng.uniform(0.04, 0.12, 2)
        img[(np.abs(x - cx) < sx) & (np.abs(y - cy) < sy)] = rng.uniform(0, 1, 3)
    # the subject: a person-sized dark figure with a light head, drawn last
    cx, cy = rng.uniform(0.3, 0.7), rng.uniform(0.45, 0.6)
    if move is not None:
        cx, cy = cx + move[0], cy + move[1]
    img[(np.abs(x - cx) < 0.06) & (np.abs(y - cy - 0.1) < 0.18)] = (0.1, 0.1, 0.15)
    img[((x - cx) / 0.05) ** 2 + ((y - cy + 0.14) / 0.065) ** 2 < 1] = (0.9, 0.75, 0.6)
    pad = 64
    noise = rng.normal(0, 1, ((h + 2 * pad) // 16 + 2, (w + 2 * pad) // 16 + 2)).astype(np.float32)
    tex = np.asarray(Image.fromarray(noise).resize((w + 2 * pad + 32, h + 2 * pad + 32), Image.BICUBIC))
    ox, oy = pad + int(round(shift[0] * w)), pad + int(round(shift[1] * h))
    img += 0.06 * tex[oy : oy + h, ox : ox + w, None]
    return Image.fromarray(np.clip(img * 255, 0, 255).astype(np.uint8))


def reencode(img: Image.Image, fmt: str = "JPEG", **kw: Any) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out


def crop(img: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = img.size
    return img.crop((round(left * w), round(top * h), round(w - right * w), round(h - bottom * h)))


def resize(img: Image.Image, f: float) -> Image.Image:
    return img.resize((max(8, round(img.width * f)), max(8, round(img.height * f))), Image.LANCZOS)


def gamma(img: Image.Image, g: float) -> Image.Image:
    return img.point([round(255 * (i / 255) ** g) for i in range(256)] * 3)


def watermark(img: Image.Image) -> Image.Image:
    img = img.copy()
    d = ImageDraw.Draw(img)
    w, h = img.size
    d.text((int(w * 0.7), int(h * 0.9)), "(c) Lumina", fill=(255, 255, 255))
    d.rectangle((int(w * 0.02), int(h * 0.02), int(w * 0.08), int(h * 0.06)), outline=(255, 255, 255), width=2)
    return img


def rotated_with_orientation_tag(img: Image.Image) -> Image.Image:
    """Pixels stored rotated 90 degrees with EXIF orientation 8: displays as the original."""
    stored = img.transpose(Image.Transpose.ROTATE_270)
    exif = Image.Exif()
    exif[274] = 8
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=92, exif=exif.tobytes())
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out


POSITIVES = {
    "jpeg_q50": lambda im: reencode(im, "JPEG", quality=50),
    "jpeg_q90": lambda im: reencode(im, "JPEG", quality=90),
    "resize_50": lambda im: resize(im, 0.5),
    "resize_30_q70": lambda im: reencode(resize(im, 0.3), "JPEG", quality=70),
    "png": lambda im: reencode(im, "PNG"),
    "webp": lambda im: reencode(im, "WEBP", quality=80),
    "crop_2pct": lambda im: crop(im, 0.01, 0.01, 0.01, 0.01),
    "crop_4pct_left": lambda im: crop(im, 0.04, 0.0, 0.0, 0.0),
    "crop_5pct_centre": lambda im: crop(im, 0.025, 0.025, 0.025, 0.025),
    "brightness_1_15": lambda im: ImageEnhance.Brightness(im).enhance(1.15),
    "brightness_0_85": lambda im: ImageEnhance.Brightness(im).enhance(0.85),
    "gamma_0_8": lambda im: gamma(im, 0.8),
    "contrast_1_1": lambda im: ImageEnhance.Contrast(im).enhance(1.1),
    "watermark": watermark,
    "rotated_pixels_with_tag": rotated_with_orientation_tag,
}


def content_edit(img: Image.Image) -> Image.Image:
    img = img.copy()
    w, h = img.size
    ImageDraw.Draw(img).ellipse((int(w * 0.3), int(h * 0.25), int(w * 0.65), int(h * 0.75)), fill=(20, 200, 40))
    return img


NEGATIVES = {
    "mirror": lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "crop_20pct": lambda im: crop(im, 0.1, 0.1, 0.1, 0.1),
    "crop_15pct_left": lambda im: crop(im, 0.15, 0.0, 0.0, 0.0),
    "content_edit": content_edit,
}


def when(s: str) -> datetime:
    return datetime.fromisoformat(s)
