"""Embedded previews of camera RAW files (RAW pixels are never demosaiced at ingest).

Runs on any thread (worker).  Pure functions over the file bytes already in memory.

Strategy: LibRaw via ``rawpy`` (``extract_thumb``) knows every RAW format and picks the
largest embedded preview; when rawpy is not installed, or LibRaw rejects the file, a
small TIFF-structure walker finds JPEG previews in TIFF-based RAWs itself (DNG, NEF,
CR2, ARW, PEF, ORF, RW2, …: JPEGInterchangeFormat, JPEG-compressed strips, Panasonic's
JpgFromRaw).  No preview at all → ``MediaError('unsupported')``.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lumina_desktop.core.media import FailureReason, MediaError

# LibRaw "flip" → EXIF orientation.
_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 13: 4}
MAX_IFDS = 64


@dataclass(frozen=True, slots=True)
class RawPreview:
    """An embedded preview: encoded bytes (usually JPEG) or an RGB bitmap."""

    encoded: bytes | None
    bitmap: npt.NDArray[np.uint8] | None
    raw_size: tuple[int, int] | None
    """Full sensor output size (stored orientation), when LibRaw reported it."""
    orientation: int | None
    """EXIF-style orientation from LibRaw's flip, when known."""
    source: str
    """``"libraw"`` or ``"tiff"``."""


def _from_libraw(data: bytes, notes: list[str]) -> RawPreview | None:
    try:
        import rawpy
    except ImportError:
        notes.append("rawpy is not installed")
        return None
    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            sizes = raw.sizes
            raw_size = (int(sizes.width), int(sizes.height)) if sizes.width else None
            orientation = _FLIP_TO_ORIENTATION.get(int(sizes.flip))
            try:
                thumb = raw.extract_thumb()
            except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError) as exc:
                notes.append(f"LibRaw: {exc}")
                return RawPreview(None, None, raw_size, orientation, "libraw")
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        notes.append(f"LibRaw: {type(exc).__name__}: {exc}")
        return None
    if thumb.format == rawpy.ThumbFormat.JPEG:
        return RawPreview(bytes(thumb.data), None, raw_size, orientation, "libraw")
    bitmap = np.ascontiguousarray(thumb.data, dtype=np.uint8)
    return RawPreview(None, bitmap, raw_size, orientation, "libraw")


def _tiff_candidates(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of JPEG streams referenced from any IFD of a TIFF-layout file."""
    if data[:2] == b"II":
        order = "little"
    elif data[:2] == b"MM":
        order = "big"
    else:
        return []
    n = len(data)

    def u(off: int, size: int) -> int:
        return int.from_bytes(data[off:off + size], order)  # type: ignore[arg-type]

    found: list[tuple[int, int]] = []
    queue = [u(4, 4)]
    seen: set[int] = set()
    while queue and len(seen) < MAX_IFDS:
        ifd = queue.pop()
        if ifd in seen or not 8 <= ifd < n - 2:
            continue
        seen.add(ifd)
        count = u(ifd, 2)
        tags: dict[int, list[int]] = {}
        for i in range(min(count, 512)):
            entry = ifd + 2 + 12 * i
            if entry + 12 > n:
                break
            tag, typ, cnt = u(entry, 2), u(entry + 2, 2), u(entry + 4, 4)
            size = _TYPE_SIZES.get(typ, 1)
            if tag == 0x002E and typ == 7:  # Panasonic JpgFromRaw: value is the JPEG
                found.append((u(entry + 8, 4), cnt))
                continue
            if typ not in (3, 4, 13) or cnt == 0 or cnt > 4096:
                continue
            where = entry + 8 if size * cnt <= 4 else u(entry + 8, 4)
            tags[tag] = [u(where + size * k, size) for k in range(cnt)
                         if where + size * (k + 1) <= n]
        if 513 in tags and 514 in tags:
            found.append((tags[513][0], tags[514][0]))
        if tags.get(259, [0])[0] in (6, 7) and len(tags.get(273, [])) == 1 and 279 in tags:
            found.append((tags[273][0], tags[279][0]))
        queue.extend(tags.get(330, []))  # SubIFDs
        queue.extend(tags.get(0x8769, []))  # Exif IFD (some makers put previews there)
        next_ifd = ifd + 2 + 12 * count
        if next_ifd + 4 <= n:
            queue.append(u(next_ifd, 4))
    return [(o, ln) for o, ln in found
            if ln > 4 and o + ln <= n and data[o:o + 3] == b"\xff\xd8\xff"]


def _from_tiff(data: bytes) -> RawPreview | None:
    candidates = _tiff_candidates(data)
    if not candidates:
        return None
    offset, length = max(candidates, key=lambda c: c[1])
    return RawPreview(data[offset:offset + length], None, None, None, "tiff")


def extract_preview(data: bytes, type_name: str) -> RawPreview:
    """The largest embedded preview of a RAW file; MediaError('unsupported') if none."""
    notes: list[str] = []
    libraw = _from_libraw(data, notes)
    if libraw is not None and (libraw.encoded is not None or libraw.bitmap is not None):
        return libraw
    tiff = _from_tiff(data)
    if tiff is not None:
        if libraw is not None:
            return RawPreview(tiff.encoded, None, libraw.raw_size, libraw.orientation, "tiff")
        return tiff
    detail = "; ".join(notes) or "no preview found"
    raise MediaError(FailureReason.UNSUPPORTED,
                     f"{type_name} file has no usable embedded preview ({detail})")


def cr3_tiff_blocks(data: bytes) -> dict[str, bytes]:
    """Canon CR3 metadata boxes CMT1 (IFD0), CMT2 (Exif IFD), CMT4 (GPS IFD) as TIFF bytes."""
    head = data[:1 << 18]
    blocks: dict[str, bytes] = {}
    for name in ("CMT1", "CMT2", "CMT4"):
        at = head.find(name.encode())
        if at < 4:
            continue
        size = int.from_bytes(head[at - 4:at], "big")
        payload = data[at + 4:at - 4 + size]
        if size > 8 and payload[:2] in (b"II", b"MM"):
            blocks[name] = payload
    return blocks
