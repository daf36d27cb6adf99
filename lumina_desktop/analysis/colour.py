"""Pixel-mode normalisation and ICC colour conversion to sRGB.

Runs on any thread (worker).  The one piece of process-wide state in ``analysis`` lives
here, as the brief allows: a lock-guarded cache of the built sRGB profile and of
``ImageCms`` transforms keyed by (blake2b of the embedded profile, input mode).  Building
a transform costs milliseconds; applying one is cheap and thread-safe (LittleCMS
transforms keep no per-call state when built with ``NOCACHE``).  The cache is bounded.

Why: phones embed Display P3 (iPhone) and cameras Adobe RGB; showing those pixels as
if they were sRGB looks washed out.  Thumbnails are therefore converted to sRGB and
carry no profile.
"""
from __future__ import annotations

import hashlib
import io
import threading

import numpy as np
from PIL import Image, ImageCms

MAX_CACHED_TRANSFORMS = 64
WHITE = (255, 255, 255)

_lock = threading.Lock()
_srgb: ImageCms.ImageCmsProfile | None = None
_transforms: dict[tuple[bytes, str], ImageCms.ImageCmsTransform | None] = {}
_errors: dict[tuple[bytes, str], str] = {}


def _srgb_profile() -> ImageCms.ImageCmsProfile:
    global _srgb
    with _lock:
        if _srgb is None:
            _srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        return _srgb


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    """Heuristic: the profile calls itself sRGB (IEC 61966-2.1 and vendor variants)."""
    description = (profile.profile.profile_description or "").lower()
    return "srgb" in description and "linear" not in description


def _build(icc: bytes, mode: str) -> tuple[ImageCms.ImageCmsTransform | None, str | None]:
    """A transform ``mode`` (RGB/CMYK/L) → sRGB RGB, or None when the profile is sRGB."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if mode == "RGB" and _is_srgb(profile):
            return None, None
        transform = ImageCms.buildTransform(
            profile, _srgb_profile(), mode, "RGB",
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            flags=ImageCms.Flags.NOCACHE,
        )
        return transform, None
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        return None, f"embedded ICC profile unusable ({exc}); colours shown unconverted"


def _transform_for(icc: bytes, mode: str) -> tuple[ImageCms.ImageCmsTransform | None, str | None]:
    key = (hashlib.blake2b(icc, digest_size=16).digest(), mode)
    with _lock:
        if key in _transforms:
            return _transforms[key], _errors.get(key)
    transform, error = _build(icc, mode)  # built outside the lock; a race only wastes work
    with _lock:
        if len(_transforms) >= MAX_CACHED_TRANSFORMS:
            _transforms.clear()
            _errors.clear()
        _transforms[key] = transform
        if error:
            _errors[key] = error
    return transform, error


def flatten(im: Image.Image) -> Image.Image:
    """Any Pillow mode → ``RGB``, ``L`` or ``CMYK`` (kept for the ICC step).

    Alpha is composited on white (thumbnails are JPEG); 16-bit and float greys are
    scaled to 8 bits instead of clipped.
    """
    mode = im.mode
    if mode in ("RGB", "L", "CMYK"):
        return im
    if mode == "P" and "transparency" not in im.info:
        return im.convert("RGB")
    if mode in ("P", "PA", "LA", "La", "RGBA", "RGBa") or "A" in im.getbands():
        rgba = im.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, WHITE)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(im).astype(np.float32)
        if mode == "F":  # float data is either 0..1 or 0..255
            scale = 255.0 if arr.size and float(arr.max()) <= 1.0 else 1.0
        else:  # 16-bit integer samples
            scale = 255.0 / 65535.0
        grey = np.clip(arr * scale + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey)
    if mode == "1":
        return im.convert("L")
    return im.convert("RGB")


def to_srgb(im: Image.Image, icc: bytes | None, warnings: list[str]) -> Image.Image:
    """An ``RGB``/``L``/``CMYK`` image (with its embedded profile) → sRGB ``RGB``."""
    if icc and im.mode in ("RGB", "L", "CMYK"):
        transform, error = _transform_for(icc, im.mode)
        if error:
            warnings.append(error)
        if transform is not None:
            try:
                return ImageCms.applyTransform(im, transform) or im
            except (ImageCms.PyCMSError, ValueError) as exc:
                warnings.append(f"ICC conversion failed ({exc}); colours shown unconverted")
    return im if im.mode == "RGB" else im.convert("RGB")
