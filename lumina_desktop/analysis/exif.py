"""Photo metadata from EXIF (Pillow ``Image.Exif``), XMP and IPTC, normalised.

Runs on any thread (worker).  Pure functions: the caller hands in what the decoder
found (an ``Image.Exif``, the XMP packet bytes, IPTC records) plus the path and mtime
used for date inference.  Nothing here raises on bad metadata: every unreadable piece
becomes a warning string and the field stays None.
"""
from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from PIL import Image, IptcImagePlugin

from lumina_desktop.analysis import dates
from lumina_desktop.analysis.xmp import XmpFields, find_packet, parse_xmp
from lumina_desktop.core.media import PhotoMetadata

T = TypeVar("T")

IFD_EXIF = 0x8769
IFD_GPS = 0x8825
# IFD0
MAKE, MODEL, ORIENTATION, DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
WIN_RATING, WIN_KEYWORDS, DNG_SERIAL = 0x4746, 0x9C9E, 0xC62F
# Exif IFD
EXPOSURE_TIME, F_NUMBER, ISO, ISO_SPEED = 0x829A, 0x829D, 0x8827, 0x8833
DT_ORIGINAL, DT_DIGITIZED = 0x9003, 0x9004
OFFSET, OFFSET_ORIGINAL, OFFSET_DIGITIZED = 0x9010, 0x9011, 0x9012
SUBSEC, SUBSEC_ORIGINAL, SUBSEC_DIGITIZED = 0x9290, 0x9291, 0x9292
SHUTTER_APEX, APERTURE_APEX, FOCAL_LENGTH = 0x9201, 0x9202, 0x920A
BODY_SERIAL, LENS_MODEL = 0xA431, 0xA434
MAKER_NOTE = 0x927C
EXPOSURE_BIAS = 0x9204
APPLE_BURST_UUID = 0x000B      # in Apple's maker note ("Apple iOS" header, then a big-endian IFD)


def _finite_bias(value: float | None) -> float | None:
    """An exposure bias in EV, None when absent or absurd (a corrupt tag)."""
    return round(value, 2) if value is not None and math.isfinite(value) and abs(value) <= 20 else None


def apple_burst_uuid(note: object) -> str | None:
    """Apple's BurstUUID from an EXIF maker note, None when absent or unreadable.

    The note is ``b"Apple iOS\\0"``, a 2-byte version, a byte-order mark, then one IFD whose
    offsets count from the note's start.
    """
    if not isinstance(note, bytes) or not note.startswith(b"Apple iOS\0") or len(note) < 16:
        return None
    order = ">" if note[12:14] == b"MM" else "<"
    try:
        (count,) = struct.unpack_from(order + "H", note, 14)
        for i in range(min(count, 256)):
            tag, typ, n, value = struct.unpack_from(order + "HHII", note, 16 + 12 * i)
            if tag != APPLE_BURST_UUID or typ != 2:
                continue
            raw = note[value:value + n] if n > 4 else note[24 + 12 * i:24 + 12 * i + n]
            return _text(raw.split(b"\0", 1)[0].decode("ascii", "replace"))
    except struct.error:
        return None
    return None


def _text(value: object) -> str | None:
    """EXIF ASCII/UNDEFINED value → stripped str, or None when blank."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return None
    if isinstance(value, bytes):
        try:
            decoded = value.decode("utf-8")
        except UnicodeDecodeError:
            decoded = value.decode("latin-1")
    else:
        decoded = str(value)
    text = " ".join(decoded.replace("\x00", " ").split())
    return text or None


def _num(value: object) -> float | None:
    """Rational/int/first-of-tuple → finite float, or None."""
    if isinstance(value, (tuple, list)):
        value = value[0] if value else None
    if value is None or isinstance(value, (bytes, str)):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _positive(value: float | None) -> float | None:
    return value if value is not None and value > 0 else None


def _guard(warnings: list[str], what: str, fn: Callable[[], T], default: T) -> T:
    """Run ``fn``; on any error record a warning naming ``what`` and return ``default``."""
    try:
        return fn()
    except Exception as exc:  # corrupt metadata must never stop ingest
        warnings.append(f"unreadable {what}: {type(exc).__name__}: {exc}")
        return default


@dataclass(frozen=True, slots=True)
class ExifDirs:
    """The three EXIF directories ingest reads, as plain ``{tag: value}`` dicts."""

    base: dict[int, object] = field(default_factory=dict)
    exif: dict[int, object] = field(default_factory=dict)
    gps: dict[int, object] = field(default_factory=dict)

    def merged_with(self, fallback: ExifDirs) -> ExifDirs:
        """These tags, with tags missing here taken from ``fallback``."""
        return ExifDirs({**fallback.base, **self.base}, {**fallback.exif, **self.exif},
                        {**fallback.gps, **self.gps})


def read_exif(im: Image.Image, warnings: list[str]) -> ExifDirs:
    """The EXIF of an opened image; a corrupt block gives empty dirs and a warning."""
    exif = _guard(warnings, "EXIF block", im.getexif, None)
    raw = im.info.get("exif")
    if exif is not None and not len(exif) and isinstance(raw, bytes) and _declares_tags(raw):
        warnings.append("EXIF block present but no tags could be read (corrupt EXIF)")
    return exif_dirs(exif, warnings)


def _declares_tags(raw: bytes) -> bool:
    """True unless an EXIF payload is a valid TIFF header with an empty IFD0."""
    tiff = raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
    order = {b"II": "little", b"MM": "big"}.get(tiff[:2])
    if order is None:
        return True
    offset = int.from_bytes(tiff[4:8], order)  # type: ignore[arg-type]
    if offset + 2 > len(tiff):
        return True
    return int.from_bytes(tiff[offset:offset + 2], order) != 0  # type: ignore[arg-type]


def exif_dirs(exif: Image.Exif | None, warnings: list[str]) -> ExifDirs:
    """Split an ``Image.Exif`` into IFD0 / Exif IFD / GPS IFD dicts, tolerating damage."""
    if exif is None:
        return ExifDirs()
    base: dict[int, object] = _guard(warnings, "EXIF IFD0", lambda: dict(exif), {})
    ex = _ifd(exif, IFD_EXIF, warnings) if IFD_EXIF in base else {}
    gps = _ifd(exif, IFD_GPS, warnings) if IFD_GPS in base else {}
    return ExifDirs(base, ex, gps)


def _load_tiff(data: bytes, warnings: list[str], what: str) -> Image.Exif | None:
    if data[:2] in (b"II", b"MM") and data[2:4] not in (b"*\x00", b"\x00*"):
        # ORF ("IIRO"), RW2 ("IIU\0") use TIFF layout with their own magic.
        data = data[:2] + (b"*\x00" if data[:2] == b"II" else b"\x00*") + data[4:]

    def load() -> Image.Exif:
        exif = Image.Exif()
        exif.load(data)
        return exif

    return _guard(warnings, what, load, None)


def tiff_exif(data: bytes, warnings: list[str]) -> ExifDirs:
    """EXIF of a TIFF-layout file (TIFF-based RAW) read from its IFD0, without decoding."""
    return exif_dirs(_load_tiff(data, warnings, "RAW EXIF"), warnings)


def cr3_exif(blocks: dict[str, bytes], warnings: list[str]) -> ExifDirs:
    """EXIF of a Canon CR3 from its CMT1/CMT2/CMT4 boxes (see ``raw_preview``)."""
    plain: list[dict[int, object]] = []
    for key in ("CMT1", "CMT2", "CMT4"):
        loaded = _load_tiff(blocks[key], warnings, f"CR3 {key}") if key in blocks else None
        plain.append(exif_dirs(loaded, warnings).base)
    return ExifDirs(plain[0], plain[1], plain[2])


def _ifd(exif: Image.Exif, tag: int, warnings: list[str]) -> dict[int, object]:
    return _guard(warnings, f"EXIF IFD 0x{tag:04X}", lambda: dict(exif.get_ifd(tag)), {})


def _gps_coord(value: object, ref: object, negative: str) -> float | None:
    if isinstance(value, (tuple, list)):
        parts = [_num(v) for v in value[:3]]
        numbers = [p for p in parts if p is not None]
        if not numbers or len(numbers) != len(parts):
            return None
        deg = sum(p / float(60**i) for i, p in enumerate(numbers))
    else:
        deg_single = _num(value)
        if deg_single is None:
            return None
        deg = deg_single
    ref_text = (_text(ref) or "").upper()
    return -deg if ref_text.startswith(negative) else deg


def _gps(gps: dict[int, object], warnings: list[str]
         ) -> tuple[float | None, float | None, float | None]:
    lat = _gps_coord(gps.get(2), gps.get(1), "S") if 2 in gps else None
    lon = _gps_coord(gps.get(4), gps.get(3), "W") if 4 in gps else None
    if lat is not None and lon is not None:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            warnings.append(f"GPS position out of range ({lat}, {lon}); ignored")
            lat = lon = None
        elif lat == 0 and lon == 0:
            lat = lon = None  # "null island": a receiver without a fix
    else:
        lat = lon = None
    alt = _num(gps.get(6))
    if alt is not None:
        ref = gps.get(5)
        below = ref in (1, b"\x01") or (isinstance(ref, bytes) and ref[:1] == b"\x01")
        alt = -alt if below else alt
    return lat, lon, alt


def _xp_keywords(value: object) -> tuple[str, ...]:
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        value = bytes(value)
    if not isinstance(value, bytes):
        return ()
    text = value.decode("utf-16-le", "replace").rstrip("\x00")
    return tuple(w.strip() for w in text.split(";") if w.strip())


def _capture_date(base: dict[int, object], ex: dict[int, object], xmp: XmpFields
                  ) -> dates.DateGuess | None:
    candidates = (
        (DT_ORIGINAL, SUBSEC_ORIGINAL, OFFSET_ORIGINAL, "high"),
        (DT_DIGITIZED, SUBSEC_DIGITIZED, OFFSET_DIGITIZED, "high"),
    )
    for tag, sub, off, conf in candidates:
        parsed = dates.parse_exif_datetime(_text(ex.get(tag) or base.get(tag)), _text(ex.get(sub)))
        if parsed:
            offset = dates.parse_offset(_text(ex.get(off)))
            return dates.DateGuess(parsed[0], "exif", conf,  # type: ignore[arg-type]
                                   offset if offset is not None else parsed[1])
    parsed = dates.parse_exif_datetime(xmp.date)
    if parsed:
        return dates.DateGuess(parsed[0], "xmp", "high", parsed[1])
    parsed = dates.parse_exif_datetime(_text(base.get(DATETIME)), _text(ex.get(SUBSEC)))
    if parsed:
        offset = dates.parse_offset(_text(ex.get(OFFSET)))
        return dates.DateGuess(parsed[0], "exif", "medium",
                               offset if offset is not None else parsed[1])
    return None


def build_metadata(
    dirs: ExifDirs,
    *,
    path: str,
    mtime_s: float | None,
    size: tuple[int, int] | None,
    xmp_packet: bytes | None = None,
    iptc_words: tuple[str, ...] = (),
    orientation: int | None = None,
    warnings: list[str],
) -> PhotoMetadata:
    """Normalise everything into a :class:`PhotoMetadata`.

    ``size`` is the full-resolution stored (pre-orientation) size; it is swapped for
    orientations 5–8.  ``orientation`` overrides the EXIF tag (e.g. RAW flip).
    Warnings about unreadable metadata are appended to ``warnings``.
    """
    base, ex, gps = dirs.base, dirs.exif, dirs.gps
    xmp = XmpFields()
    if xmp_packet:
        xmp, xmp_warning = parse_xmp(xmp_packet)
        if xmp_warning:
            warnings.append(xmp_warning)

    if orientation is None:
        raw_orientation = _num(base.get(ORIENTATION))
        orientation = int(raw_orientation) if raw_orientation is not None else 1
        if not 1 <= orientation <= 8:
            warnings.append(f"invalid EXIF orientation {orientation}; treated as 1")
            orientation = 1
    width, height = size if size else (None, None)
    if orientation >= 5 and width is not None:
        width, height = height, width

    guess = _guard(warnings, "EXIF date", lambda: _capture_date(base, ex, xmp), None)
    if guess is None:
        guess = dates.infer_date(path, mtime_s)
    no_gps: tuple[float | None, float | None, float | None] = (None, None, None)
    lat, lon, alt = _guard(warnings, "GPS data", lambda: _gps(gps, warnings), no_gps)

    shutter = _positive(_num(ex.get(EXPOSURE_TIME)))
    if shutter is None and (apex := _num(ex.get(SHUTTER_APEX))) is not None and abs(apex) < 64:
        shutter = 2.0 ** -apex
    aperture = _positive(_num(ex.get(F_NUMBER)))
    if aperture is None and (apex := _num(ex.get(APERTURE_APEX))) is not None and 0 < apex < 64:
        aperture = round(math.sqrt(2) ** apex, 1)
    iso_value = _positive(_num(ex.get(ISO)) or _num(ex.get(ISO_SPEED)))

    rating = xmp.rating
    if rating is None and (win := _num(base.get(WIN_RATING))) is not None and -1 <= win <= 5:
        rating = int(win)
    keywords = tuple(dict.fromkeys(
        xmp.keywords + iptc_words + _guard(warnings, "XPKeywords",
                                           lambda: _xp_keywords(base.get(WIN_KEYWORDS)),
                                           tuple[str, ...]())))
    return PhotoMetadata(
        capture_time=guess.when if guess else None,
        utc_offset_minutes=guess.utc_offset_minutes if guess else None,
        date_source=guess.source if guess else None,
        date_confidence=guess.confidence if guess else None,
        make=_text(base.get(MAKE)),
        model=_text(base.get(MODEL)),
        body_serial=_text(ex.get(BODY_SERIAL)) or _text(base.get(DNG_SERIAL)) or xmp.serial,
        lens=_text(ex.get(LENS_MODEL)) or xmp.lens,
        iso=int(iso_value) if iso_value is not None else None,
        aperture=aperture,
        shutter_s=shutter,
        focal_length_mm=_positive(_num(ex.get(FOCAL_LENGTH))),
        gps_lat=lat,
        gps_lon=lon,
        gps_alt=alt,
        orientation=orientation,
        width=width,
        height=height,
        rating=rating,
        keywords=keywords,
        exposure_bias=_finite_bias(_num(ex.get(EXPOSURE_BIAS))),
        burst_uuid=_guard(warnings, "maker note", lambda: apple_burst_uuid(ex.get(MAKER_NOTE)), None),
    )


def iptc_from_image(im: Image.Image, warnings: list[str]) -> dict[tuple[int, int], object] | None:
    """IPTC IIM records of a JPEG/TIFF (Photoshop APP13 / tag 33723), or None."""
    if im.format not in ("JPEG", "MPO", "TIFF"):
        return None
    def read() -> dict[tuple[int, int], object] | None:
        info = IptcImagePlugin.getiptcinfo(im)  # type: ignore[arg-type]
        return dict(info) if info else None

    return _guard(warnings, "IPTC block", read, None)


def xmp_from_image(im: Image.Image, data: bytes) -> bytes | None:
    """The XMP packet the decoder found (``info['xmp']``, TIFF tag 700).

    Pillow exposes XMP for JPEG (APP1), PNG (iTXt), WebP, TIFF and pillow-heif; only
    for other formats (GIF application extension, …) are the bytes scanned.
    """
    packet = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if isinstance(packet, str):
        packet = packet.encode("utf-8")
    if isinstance(packet, bytes) and packet:
        return packet
    tag = getattr(im, "tag_v2", None)
    if tag is not None and 700 in tag:
        value = tag[700]
        return value if isinstance(value, bytes) else str(value).encode("utf-8")
    if im.format in ("JPEG", "MPO", "PNG", "WEBP", "TIFF", "HEIF"):
        return None
    return find_packet(data)


__all__ = ["ExifDirs", "build_metadata", "cr3_exif", "exif_dirs", "iptc_from_image",
           "read_exif", "tiff_exif", "xmp_from_image"]
