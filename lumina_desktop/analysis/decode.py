"""Opening and decoding pictures from in-memory bytes, safely and at reduced size.

Runs on any thread (worker).  Guarantees, without touching Pillow's global settings
(``ImageFile.LOAD_TRUNCATED_IMAGES`` stays False, ``Image.MAX_IMAGE_PIXELS`` unchanged):

* the declared pixel count is checked against the caller's ``max_pixels`` *before*
  any pixel is decoded (reason ``decompression_bomb``); Pillow's own global limit is
  bypassed by calling the registered format factory directly, so the caller's limit
  is the one that applies;
* JPEGs are decoded with ``Image.draft`` at the smallest 1/2/4/8 scale whose long edge
  still covers the largest thumbnail (HEIF uses an embedded thumbnail if big enough);
* a file that ends early raises ``truncated``; any other decoder failure ``corrupt``;
* HEIF/HEIC (pillow-heif) and JPEG XL (a Pillow plugin, if installed) are registered
  lazily, once, under a lock.
"""
from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable
from typing import IO, Any

from PIL import Image, ImageFile

from lumina_desktop.core.media import FailureReason, MediaError

DEFAULT_MAX_PIXELS = 200_000_000

# Registry type name → Pillow plugin format name.
PIL_FORMATS: dict[str, str] = {
    "JPEG": "JPEG", "PNG": "PNG", "TIFF": "TIFF", "WEBP": "WEBP", "GIF": "GIF",
    "BMP": "BMP", "HEIF": "HEIF", "AVIF": "AVIF", "JXL": "JXL",
}

_plugin_lock = threading.Lock()
_plugins_ready: dict[str, bool] = {}


def _register_heif() -> bool:
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener(depth_images=False, aux_images=False)
    return True


def _register_jxl() -> bool:
    Image.init()
    if "JXL" in Image.OPEN:
        return True
    for module in ("pillow_jxl", "jxlpy"):
        try:
            __import__(module)
        except ImportError:
            continue
        if "JXL" in Image.OPEN:
            return True
    return False


def _register_avif() -> bool:
    Image.init()
    if "AVIF" in Image.OPEN:
        return True
    return _register_heif() and "AVIF" in Image.OPEN


_REGISTRARS: dict[str, Callable[[], bool]] = {
    "HEIF": _register_heif, "JXL": _register_jxl, "AVIF": _register_avif,
}
_MISSING_HINT = {
    "HEIF": "no HEIF/HEIC decoder installed (pillow-heif)",
    "JXL": "no JPEG XL decoder installed (e.g. pillow-jxl-plugin)",
    "AVIF": "no AVIF decoder installed (Pillow without libavif and no pillow-heif)",
}


def ensure_decoder(pil_format: str) -> None:
    """Make sure Pillow can open ``pil_format``; MediaError('unsupported') if it cannot."""
    with _plugin_lock:
        ready = _plugins_ready.get(pil_format)
        if ready is None:
            registrar = _REGISTRARS.get(pil_format)
            if registrar is not None:
                ready = registrar()
            else:
                Image.init()
                ready = pil_format in Image.OPEN
            _plugins_ready[pil_format] = ready
    if not ready:
        hint = _MISSING_HINT.get(pil_format, f"no decoder for {pil_format}")
        raise MediaError(FailureReason.UNSUPPORTED, hint)


def decode_error(exc: BaseException, what: str) -> MediaError:
    """Map a decoder exception to a MediaError with a readable message."""
    if isinstance(exc, MediaError):
        return exc
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, Image.DecompressionBombError):
        return MediaError(FailureReason.DECOMPRESSION_BOMB, f"{what}: {exc}")
    if isinstance(exc, EOFError) or "truncated" in str(exc).lower():
        return MediaError(FailureReason.TRUNCATED, f"{what} ends early (truncated file): {text}")
    if isinstance(exc, MemoryError):
        return MediaError(FailureReason.TOO_LARGE, f"{what} needs more memory than available")
    return MediaError(FailureReason.CORRUPT, f"{what} could not be decoded ({text})")


def open_image(data: bytes, pil_format: str, *, max_pixels: int, what: str
               ) -> ImageFile.ImageFile:
    """Open (parse headers only) ``data`` as ``pil_format`` and check its pixel count."""
    ensure_decoder(pil_format)
    fp: IO[bytes] = io.BytesIO(data)
    try:
        factory, accept = Image.OPEN[pil_format]
        verdict = accept(data[:16]) if accept else True
        if not verdict or isinstance(verdict, str):
            raise MediaError(FailureReason.CORRUPT,
                             f"{what} has a {pil_format} signature Pillow does not accept")
        im: Any = factory(fp, "")
    except MediaError:
        raise
    except Exception as exc:  # any parser failure is a property of the file
        raise decode_error(exc, what) from exc
    width, height = im.size
    if width <= 0 or height <= 0:
        raise MediaError(FailureReason.CORRUPT, f"{what} declares an empty size {im.size}")
    if width * height > max_pixels:
        raise MediaError(
            FailureReason.DECOMPRESSION_BOMB,
            f"{what} declares {width}×{height} = {width * height / 1e6:.0f} MP, "
            f"over the {max_pixels / 1e6:.0f} MP limit (possible decompression bomb)")
    return im  # type: ignore[no-any-return]


def draft_request(size: tuple[int, int], long_edge: int) -> tuple[int, int] | None:
    """The ``Image.draft`` size whose scale keeps the long edge ≥ ``long_edge``."""
    w, h = size
    if max(w, h) <= long_edge:
        return None
    scale = long_edge / max(w, h)
    return max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))


def load_reduced(im: ImageFile.ImageFile, long_edge: int, what: str) -> Image.Image:
    """Decode ``im`` (first frame) at reduced size where the format allows."""
    request = draft_request(im.size, long_edge)
    try:
        if request is not None:
            im.draft("RGB" if im.mode in ("RGB", "YCbCr") else None, request)
        im.load()
    except Exception as exc:  # decoder errors of every kind belong to the file
        raise decode_error(exc, what) from exc
    return im
