"""File identity: a hash of every byte and a hash of the picture data alone.

Runs on any thread (worker).  Pure functions over bytes already in memory (one read
per file, shared with decoding); ``hashlib`` releases the GIL on large buffers.

* ``content_hash`` — SHA-256 hex of the whole file.  Equal ⇒ byte-identical copy.
* ``image_data_hash`` — SHA-256 hex of the parts of the file that define the pixels,
  skipping metadata containers, so re-tagging a photo (new EXIF/XMP/IPTC, rating,
  keywords, GPS) keeps it.  Computed without decoding:

  - JPEG: every marker segment from SOI up to the first SOS except APP0–APP15 and COM
    (i.e. DQT, DHT, SOFn, DRI, …), then everything from the first SOS up to and including
    the EOI that ends the primary image (trailers such as MPO second frames or
    motion-photo videos after EOI are excluded).
  - PNG: IHDR, PLTE, tRNS and the image chunks (IDAT, and APNG's acTL/fcTL/fdAT), type
    and payload; text, time, colour and EXIF chunks are skipped.
  - WebP: the bitstream chunks (VP8, VP8L, ALPH, ANIM, ANMF); VP8X/ICCP/EXIF/XMP skipped.
  - everything else: ``None`` (content_hash still identifies exact copies).
"""
from __future__ import annotations

import hashlib
import re
from typing import BinaryIO

from lumina_desktop.core.media import FileIdentity

DIGEST_BYTES = 32
STREAM_CHUNK_BYTES = 1 << 20

# A JPEG marker inside/after entropy-coded data: 0xFF followed by anything except a
# stuffed zero, a restart marker or another fill byte.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_PNG_IMAGE_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"acTL", b"fcTL", b"fdAT"})
_WEBP_IMAGE_CHUNKS = frozenset({b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF"})


def _new_hasher() -> "hashlib._Hash":
    return hashlib.sha256()


def content_hash(data: bytes) -> str:
    """SHA-256 hex of ``data``."""
    return hashlib.sha256(data).hexdigest()


def hash_stream(stream: BinaryIO) -> tuple[int, str]:
    """``(byte count, SHA-256 hex)`` of a stream read in 1 MiB chunks (for videos)."""
    hasher = _new_hasher()
    total = 0
    buf = bytearray(STREAM_CHUNK_BYTES)
    view = memoryview(buf)
    while True:
        n = stream.readinto(view)  # type: ignore[attr-defined]
        if not n:
            break
        hasher.update(view[:n])
        total += n
    return total, hasher.hexdigest()


def _jpeg_scan_end(data: bytes, pos: int) -> int:
    """Offset just past the EOI that ends the image whose first SOS header starts at pos."""
    n = len(data)
    while True:
        seglen = int.from_bytes(data[pos + 2:pos + 4], "big")
        pos += 2 + seglen  # past this segment's header; entropy data (if any) follows
        match = _JPEG_MARKER.search(data, pos)
        if match is None:
            return -1
        pos = match.start()
        if data[pos + 1] == 0xD9:
            return pos + 2
        if pos + 4 > n:
            return -1


def jpeg_image_data_hash(data: bytes) -> str | None:
    """Hash of a JPEG's tables + scans (see module doc); None if the structure is broken."""
    if not data.startswith(b"\xff\xd8"):
        return None
    view = memoryview(data)
    hasher = _new_hasher()
    n = len(data)
    pos = 2
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # standalone markers
            pos += 2
            continue
        if marker == 0xD9:
            return None  # EOI before any scan
        end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if end > n:
            return None
        if marker == 0xDA:
            scan_end = _jpeg_scan_end(data, pos)
            if scan_end < 0:
                return None
            hasher.update(view[pos:scan_end])
            return hasher.hexdigest()
        if not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            hasher.update(view[pos:end])
        pos = end
    return None


def png_image_data_hash(data: bytes) -> str | None:
    """Hash of a PNG's pixel-defining chunks (see module doc); None if malformed."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    view = memoryview(data)
    hasher = _new_hasher()
    n = len(data)
    pos = 8
    seen_data = False
    while pos + 8 <= n:
        length = int.from_bytes(data[pos:pos + 4], "big")
        ctype = bytes(data[pos + 4:pos + 8])
        end = pos + 8 + length
        if end > n:
            return None
        if ctype in _PNG_IMAGE_CHUNKS:
            hasher.update(view[pos + 4:end])
            seen_data = seen_data or ctype == b"IDAT"
        if ctype == b"IEND":
            break
        pos = end + 4  # skip CRC
    return hasher.hexdigest() if seen_data else None


def webp_image_data_hash(data: bytes) -> str | None:
    """Hash of a WebP's bitstream chunks (see module doc); None if malformed."""
    if not (data.startswith(b"RIFF") and data[8:12] == b"WEBP"):
        return None
    view = memoryview(data)
    hasher = _new_hasher()
    n = len(data)
    pos = 12
    seen = False
    while pos + 8 <= n:
        fourcc = bytes(data[pos:pos + 4])
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        end = pos + 8 + size
        if end > n:
            return None
        if fourcc in _WEBP_IMAGE_CHUNKS:
            hasher.update(view[pos:end])
            seen = True
        pos = end + (size & 1)
    return hasher.hexdigest() if seen else None


def image_data_hash(data: bytes, type_name: str) -> str | None:
    """The metadata-independent hash for registry type ``type_name``, or None."""
    if type_name == "JPEG":
        return jpeg_image_data_hash(data)
    if type_name == "PNG":
        return png_image_data_hash(data)
    if type_name == "WEBP":
        return webp_image_data_hash(data)
    return None


def identify(data: bytes, type_name: str) -> FileIdentity:
    """Both hashes of one in-memory file."""
    return FileIdentity(size=len(data), content_hash=content_hash(data),
                        image_data_hash=image_data_hash(data, type_name))
