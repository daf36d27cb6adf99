"""PhotoImages: the pictures the window shows — grid thumbnails, previews, originals — decoded
off the GUI thread into :class:`Picture` values (pixels as bytes); the UI wraps them in QImage.

libjpeg-turbo (simplejpeg) decodes the store's JPEGs, Pillow everything else (at a reduced JPEG
scale when that still covers the size asked for); both work and resample with the GIL released,
so these calls can run beside the GUI thread without starving it.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image, ImageOps

try:
    import simplejpeg
except ImportError:  # pragma: no cover - a dependency; Pillow's path still decodes JPEG
    simplejpeg = None

from lumina_desktop.analysis import colour
from lumina_desktop.analysis.decode import PIL_FORMATS, ensure_decoder
from lumina_desktop.analysis.previews import make_preview
from lumina_desktop.analysis.thumbnails import PREVIEW_PX
from lumina_desktop.core.library import PhotoDetails
from lumina_desktop.core.media import MediaKind
from lumina_desktop.core.models import PhotoStatus
from lumina_desktop.storage.thumbnails import ThumbnailStore

log = logging.getLogger(__name__)

MAX_VIEW_PIXELS = 120_000_000
_PREVIEWABLE = (MediaKind.IMAGE.value, MediaKind.RAW.value)


@dataclass(frozen=True, slots=True)
class Picture:
    """Decoded pixels, rows packed, top first.  ``mode``: "RGB" (3 bytes a pixel), "RGBA" (4), or
    "BGRA" — opaque pixels as 32-bit 0xffRRGGBB words in little-endian order, what screens and
    Qt's ``QImage.Format_RGB32`` use as is (no conversion on the GUI thread)."""

    width: int
    height: int
    mode: str
    data: bytes

    @staticmethod
    def of(im: Image.Image, layout: str = "RGB") -> Picture:
        """``im`` packed as ``layout`` ("RGB"/"RGBA" keep alpha if there is some; "BGRA" drops it)."""
        if layout == "BGRA":
            # the padding byte must be 255 (Pillow's BGRX pads with 0, which reads as transparent)
            return Picture(im.width, im.height, "BGRA", im.convert("RGBA").tobytes("raw", "BGRA"))
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGBA" if "A" in im.getbands() else "RGB")
        return Picture(im.width, im.height, im.mode, im.tobytes())

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


def fit_size(w: int, h: int, px: int) -> tuple[int, int]:
    """``w``×``h`` scaled (up or down) to fit a ``px`` square, aspect kept."""
    scale = px / max(w, h, 1)
    return max(1, round(w * scale)), max(1, round(h * scale))


def decode_fitted(path: Path, px: int, *, can_enlarge: bool = True, layout: str = "BGRA") -> Picture | None:
    """The image file at ``path`` decoded to RGB and scaled to fit a ``px`` square (smaller pictures
    are enlarged unless ``can_enlarge`` is False); None if it is missing or unreadable.

    The store's JPEGs are decoded by libjpeg-turbo (simplejpeg: 0.17 ms for a 256 px grid
    thumbnail, where Pillow took 0.57 ms), straight into the 32-bit layout the screen uses.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return None
    fast = _decode_fitted_jpeg(data, px, can_enlarge, layout)
    if fast is not None:
        return fast
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.draft("RGB", (px, px))
            im = im.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    size = fit_size(im.width, im.height, px)
    if size != im.size and (can_enlarge or size[0] < im.width or size[1] < im.height):
        im = im.resize(size, Image.Resampling.BILINEAR if size[0] < im.width else Image.Resampling.BICUBIC,
                       reducing_gap=2.0 if size[0] < im.width else None)
    return Picture.of(im, layout)


def _decode_fitted_jpeg(data: bytes, px: int, can_enlarge: bool, layout: str) -> Picture | None:
    """:func:`decode_fitted` of JPEG bytes by libjpeg-turbo; None to let Pillow do it (not a
    JPEG, a colour space other than YCbCr/RGB/grey, or anything libjpeg warns about)."""
    if simplejpeg is None or data[:2] != b"\xff\xd8":
        return None
    try:
        height, width, colourspace, _ = simplejpeg.decode_jpeg_header(data)
        if colourspace not in ("YCbCr", "RGB", "Gray"):
            return None
        size = fit_size(width, height, px)
        limit = {"min_width": size[0], "min_height": size[1]} if size[0] * 2 <= width else {}
        bgrx = layout == "BGRA"
        pixels = simplejpeg.decode_jpeg(data, "BGRX" if bgrx else "RGB", strict=True, **limit)
    except (ValueError, MemoryError):
        return None
    mode = "RGBX" if bgrx else "RGB"     # (Pillow resamples the four bytes alike: BGRX stays BGRX)
    im = Image.frombuffer(mode, (pixels.shape[1], pixels.shape[0]), pixels, "raw", mode, 0, 1)
    if size != im.size and (can_enlarge or size[0] < im.width or size[1] < im.height):
        im = im.resize(size, Image.Resampling.BOX if size[0] < im.width else Image.Resampling.BICUBIC)
    return Picture(im.width, im.height, "BGRA" if bgrx else "RGB", im.tobytes())


def decode_original(path: str, file_type: str | None) -> Picture:
    """The whole picture, upright, in sRGB (RGBA when it has transparency).  Raises on failure,
    and ValueError for pictures too large to show at full size."""
    pil_format = PIL_FORMATS.get(file_type or "")
    if pil_format:
        ensure_decoder(pil_format)
    with Image.open(path) as im:
        if im.width * im.height > MAX_VIEW_PIXELS:
            raise ValueError(f"{im.width}×{im.height} is too large to show at full size")
        im.load()
        upright = ImageOps.exif_transpose(im)
        has_alpha = upright.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in upright.info
        if has_alpha:
            return Picture.of(upright.convert("RGBA"))
        return Picture.of(colour.to_srgb(colour.flatten(upright), im.info.get("icc_profile"), []))


class PhotoPictures(Protocol):
    """What the grid, the details panel and the viewer decode (a fake in widget tests)."""

    def thumbnail(self, content_hash: str, source_px: int, px: int) -> Picture | None: ...
    def preview(self, details: PhotoDetails, max_px: int, *, make_missing: bool = True) -> Picture | None: ...
    def original(self, details: PhotoDetails) -> Picture: ...


class PhotoImages:
    """:class:`PhotoPictures` from the thumbnail store and the original files."""

    def __init__(self, store: ThumbnailStore | Path) -> None:
        self.store = store if isinstance(store, ThumbnailStore) else ThumbnailStore(Path(store))

    def thumbnail(self, content_hash: str, source_px: int, px: int) -> Picture | None:
        """The stored ``source_px`` thumbnail of ``content_hash`` fitted to ``px``; None if absent."""
        path = self.store.open_path(content_hash, source_px)   # None too for a value that is not a hash
        return decode_fitted(path, px) if path is not None else None

    def preview(self, details: PhotoDetails, max_px: int, *, make_missing: bool = True) -> Picture | None:
        """The photo's 1280 px preview reduced to ``max_px``.

        A photo scanned with previews on demand gets its preview made now from the original
        (``make_missing``; about 30 ms, once); otherwise, or if that cannot be done, the largest
        stored thumbnail is used.
        """
        h, sizes = details.content_hash, details.thumb_sizes
        if not h or not sizes:
            return None
        store = self.store
        path = store.open_path(h, PREVIEW_PX) if PREVIEW_PX in sizes else None
        if path is None and make_missing and details.kind in _PREVIEWABLE and details.status == PhotoStatus.OK:
            path = store.open_path(h, PREVIEW_PX)   # another copy's, or made since the row was read
            if path is None:
                data = make_preview(details.os_path, h, PREVIEW_PX)
                if data is not None:
                    try:   # the store also records the new size in the catalog
                        path = store.write(h, PREVIEW_PX, data)
                    except OSError as exc:   # cache full, read-only or broken: show the grid image
                        log.warning("cannot store the preview of %s: %s", details.path, exc)
        if path is None:
            best = store.best_for(sizes, PREVIEW_PX)
            path = store.open_path(h, best) if best is not None else None
        return decode_fitted(path, max_px, can_enlarge=False) if path is not None else None

    def original(self, details: PhotoDetails) -> Picture:
        return decode_original(details.os_path, details.file_type)
