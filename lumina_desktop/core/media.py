"""Value types for ingest results and the one exception ingest raises.

Runs on any thread (worker): frozen dataclasses and an exception class, pure Python,
no I/O.  ``analysis.ingest.analyse_file`` produces an :class:`IngestResult` or raises
:class:`MediaError`; the ingest job stores the former and records the latter's
``reason`` code against the file.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from lumina_desktop.core.errors import LuminaError

DateSource = Literal["exif", "xmp", "container", "filename", "folder", "file_mtime"]
"""Where ``PhotoMetadata.capture_time`` came from, most to least trustworthy."""

DateConfidence = Literal["high", "medium", "low"]

GRID_PX = 256
"""The grid thumbnail's long edge (every catalogued photo has one; the store never prunes it)."""
PREVIEW_PX = 1280
"""The preview's nominal long edge (the details panel, the viewer while the original decodes)."""

HASH_BYTES = 32
"""Length of ``PerceptualData.phash`` / ``dhash``: 256 bits packed (16×16 hash matrix)."""

GREY_SIZE = 64
"""Side of ``PerceptualData.grey``: a GREY_SIZE×GREY_SIZE 8-bit greyscale image."""

FINGERPRINT_VERSION = 2
"""Version of the chain that makes ``PerceptualData`` (stored with each fingerprint).

Bump it whenever decoding or resampling up to the 256 px base changes, so hashes from
different chains never mix unnoticed: a rescan re-analyses photos whose stored version
is older, even when the file is unchanged.  1: Pillow draft at 1/2–1/8, BOX to 1280,
LANCZOS with reducing gap 2.  2: libjpeg-turbo n/8 into the 1024–1600 preview band (or
the grid size), LANCZOS with reducing gap 1.5.
"""


class MediaKind(enum.StrEnum):
    """What a supported file is catalogued as (the values are stored in the DB)."""

    IMAGE = "image"
    RAW = "raw"
    VIDEO = "video"


class FailureReason(enum.StrEnum):
    """Machine-readable cause of a :class:`MediaError` (stable values, stored in the DB)."""

    EMPTY_FILE = "empty_file"
    NOT_AN_IMAGE = "not_an_image"
    NOT_A_VIDEO = "not_a_video"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    DECOMPRESSION_BOMB = "decompression_bomb"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"
    VANISHED = "vanished"
    UNSUPPORTED = "unsupported"


class MediaError(LuminaError):
    """A file that cannot be ingested, with a stable ``reason`` code and a human message.

    A :class:`LuminaError` (its text is meant for the user), normally recorded as a per-item
    error by the job that met it rather than raised to the user.

    ``str(err)`` is ``"<reason>: <message>"``.  Pickles cleanly (args are the two strings).
    """

    def __init__(self, reason: FailureReason | str, message: str) -> None:
        super().__init__(str(reason), message)
        self.reason = FailureReason(reason)
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.message}"


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """Who a file is, by content.

    ``content_hash`` is SHA-256 (hardware-accelerated here, 2x blake2b) (hex) of every byte of the file.  ``image_data_hash``
    is SHA-256 (hex) of the picture data alone, metadata excluded (JPEG: tables and
    scans; PNG: IHDR/PLTE/tRNS/IDAT; WebP: bitstream chunks), so the same picture with
    edited metadata keeps it; ``None`` for formats where it is not computed.
    """

    size: int
    content_hash: str
    image_data_hash: str | None = None


@dataclass(frozen=True, slots=True)
class PhotoMetadata:
    """What a file says about itself (EXIF / XMP / IPTC / container), normalised.

    ``capture_time`` is a naive *local* wall-clock time (with microseconds from
    SubSecTimeOriginal); ``utc_offset_minutes`` is its offset from UTC when known.
    ``width``/``height`` are full-resolution pixel dimensions as displayed, i.e. already
    swapped for EXIF orientations 5–8.  ``orientation`` is the file's EXIF value (1–8),
    informational only: dimensions and thumbnails already account for it.
    ``rating`` is xmp:Rating (-1 = rejected, 0–5).  ``duration_s`` is set for videos only.
    ``burst_uuid`` is the id a camera gives every frame of one burst (Apple's BurstUUID).
    """

    capture_time: datetime | None = None
    utc_offset_minutes: int | None = None
    date_source: DateSource | None = None
    date_confidence: DateConfidence | None = None
    make: str | None = None
    model: str | None = None
    body_serial: str | None = None
    lens: str | None = None
    iso: int | None = None
    aperture: float | None = None
    shutter_s: float | None = None
    focal_length_mm: float | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_alt: float | None = None
    orientation: int = 1
    width: int | None = None
    height: int | None = None
    rating: int | None = None
    keywords: tuple[str, ...] = ()
    duration_s: float | None = None
    burst_uuid: str | None = None
    exposure_bias: float | None = None   # EXIF ExposureBiasValue, EV (bracketed frames differ)


@dataclass(frozen=True, slots=True)
class PerceptualData:
    """Perceptual fingerprints of the EXIF-oriented, sRGB picture (see analysis.perceptual).

    ``phash``/``dhash``: 32 bytes each, ``np.packbits`` of the row-major 16×16 boolean
    matrix of ``imagehash.phash/dhash(hash_size=16)``.  ``grey``: ``grey_size``² bytes,
    8-bit luminance of the whole picture squashed to grey_size×grey_size (row-major).
    ``aspect``: displayed width / height of the full picture.
    """

    phash: bytes
    dhash: bytes
    grey: bytes
    grey_size: int
    aspect: float


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Everything ingest learns about one file from one read.

    ``file_type`` is the registry name (``core.formats``) of what the content really is;
    ``format`` is what was actually decoded or parsed (Pillow's format name, e.g. ``MPO``,
    or ``JPEG`` for a RAW's embedded preview; the ftyp brand for MP4-family videos).
    ``thumbnails`` maps long-edge size in px to encoded JPEG bytes (empty for videos);
    treat it as read-only.  ``warnings`` are human-readable notes about recoverable
    problems (corrupt EXIF, extension that lies, …).
    """

    file_type: str
    kind: MediaKind
    format: str
    identity: FileIdentity
    metadata: PhotoMetadata
    perceptual: PerceptualData | None = None
    thumbnails: Mapping[int, bytes] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
