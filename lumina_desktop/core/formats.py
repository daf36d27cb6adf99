"""The one registry of file types Lumina catalogues.

Runs on any thread (worker): pure Python, no I/O, no Pillow.  Everything that asks
"is this a photo/video we handle?" — the directory walker (:func:`is_candidate`), the
ingest analysis (:func:`resolve`), the UI's file filters — reads :data:`FILE_TYPES`.
Whether a decoder for a type is installed (HEIF, JPEG XL, RAW) is decided at decode
time in ``analysis``; this registry only lists.

Detection order: the content's magic bytes (:func:`sniff`) win over the extension
(:func:`type_for_path`), except where the magic cannot tell formats apart (most RAW
formats are TIFF inside; MP4/MOV/3GP share ISO-BMFF), where the extension refines it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from lumina_desktop.core.media import FailureReason, MediaError, MediaKind

SNIFF_BYTES = 64
"""How many leading bytes :func:`sniff` needs."""


@dataclass(frozen=True, slots=True)
class FileType:
    """A supported file type: ``extensions`` are lower-case, without the dot."""

    name: str
    kind: MediaKind
    extensions: tuple[str, ...]
    mime: str


def _img(name: str, mime: str, *exts: str) -> FileType:
    return FileType(name, MediaKind.IMAGE, exts, mime)


def _raw(name: str, *exts: str) -> FileType:
    return FileType(name, MediaKind.RAW, exts, f"image/x-{exts[0]}")


def _vid(name: str, mime: str, *exts: str) -> FileType:
    return FileType(name, MediaKind.VIDEO, exts, mime)


FILE_TYPES: tuple[FileType, ...] = (
    _img("JPEG", "image/jpeg", "jpg", "jpeg", "jpe", "jfif"),
    _img("PNG", "image/png", "png"),
    _img("TIFF", "image/tiff", "tif", "tiff"),
    _img("WEBP", "image/webp", "webp"),
    _img("GIF", "image/gif", "gif"),
    _img("BMP", "image/bmp", "bmp", "dib"),
    _img("HEIF", "image/heif", "heic", "heif", "hif"),
    _img("AVIF", "image/avif", "avif", "avifs"),
    _img("JXL", "image/jxl", "jxl"),
    _raw("CR2", "cr2"),
    _raw("CR3", "cr3"),
    _raw("CRW", "crw"),
    _raw("NEF", "nef"),
    _raw("NRW", "nrw"),
    _raw("ARW", "arw", "srf", "sr2"),
    _raw("DNG", "dng"),
    _raw("RAF", "raf"),
    _raw("ORF", "orf"),
    _raw("RW2", "rw2", "rwl"),
    _raw("RAW", "raw"),
    _raw("PEF", "pef"),
    _raw("SRW", "srw"),
    _raw("ERF", "erf"),
    _raw("KDC", "kdc", "dcr"),
    _raw("MRW", "mrw"),
    _raw("3FR", "3fr", "fff"),
    _raw("IIQ", "iiq"),
    _raw("MOS", "mos"),
    _raw("MEF", "mef"),
    _raw("X3F", "x3f"),
    _vid("MP4", "video/mp4", "mp4", "m4v"),
    _vid("MOV", "video/quicktime", "mov", "qt"),
    _vid("3GP", "video/3gpp", "3gp", "3g2"),
    _vid("AVI", "video/x-msvideo", "avi"),
    _vid("MKV", "video/x-matroska", "mkv"),
    _vid("WEBM", "video/webm", "webm"),
    _vid("MTS", "video/mp2t", "mts", "m2ts", "m2t"),  # not .ts: TypeScript sources
    _vid("MPEG", "video/mpeg", "mpg", "mpeg", "vob"),
    _vid("WMV", "video/x-ms-wmv", "wmv", "asf"),
    _vid("FLV", "video/x-flv", "flv"),
)

_BY_NAME: dict[str, FileType] = {t.name: t for t in FILE_TYPES}
_BY_EXT: dict[str, FileType] = {e: t for t in FILE_TYPES for e in t.extensions}

EXTENSIONS: frozenset[str] = frozenset(_BY_EXT)
"""Every supported extension, lower-case, without the dot."""

# RAW formats whose container is plain TIFF: content says "TIFF", the extension says which.
_TIFF_RAWS = frozenset(
    {"CR2", "NEF", "NRW", "ARW", "DNG", "PEF", "SRW", "ERF", "KDC", "3FR", "IIQ", "MOS", "MEF",
     "RAW", "ORF", "RW2"}
)
_BMFF_VIDEOS = frozenset({"MP4", "MOV", "3GP"})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_MIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2"})


def file_type(name: str) -> FileType:
    """The registry entry called ``name`` (e.g. ``"JPEG"``); KeyError if unknown."""
    return _BY_NAME[name]


def extension_of(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> str:
    """Lower-case extension without the dot; bytes-safe (undecodable names via surrogateescape)."""
    base = os.path.basename(os.fsdecode(path))
    stem, dot, ext = base.rpartition(".")
    return ext.lower() if dot and stem else ""


def type_for_path(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> FileType | None:
    """The type a file name claims by its extension, or None."""
    return _BY_EXT.get(extension_of(path))


def is_candidate(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> bool:
    """True if the directory walker should hand this file to ingest (by name only).

    Hidden files (leading dot, e.g. macOS ``._IMG_0001.JPG`` resource forks) are skipped.
    """
    base = os.path.basename(os.fsdecode(path))
    return not base.startswith(".") and extension_of(base) in _BY_EXT


def _sniff_bmff(head: bytes) -> FileType | None:
    """ISO base media (ftyp box): HEIF, AVIF, CR3, MP4, MOV, 3GP."""
    size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    end = min(len(head), size if size >= 16 else len(head))
    brands = {major} | {head[i:i + 4] for i in range(16, end - 3, 4)}
    if major == b"crx ":
        return _BY_NAME["CR3"]
    if major in _AVIF_BRANDS or (major in _MIF_BRANDS and brands & _AVIF_BRANDS
                                 and not brands & _HEIF_BRANDS):
        return _BY_NAME["AVIF"]
    if major in _HEIF_BRANDS or major in _MIF_BRANDS:
        return _BY_NAME["HEIF"]
    if major == b"qt  ":
        return _BY_NAME["MOV"]
    if major.startswith((b"3gp", b"3g2")):
        return _BY_NAME["3GP"]
    if major == b"jxl ":
        return _BY_NAME["JXL"]
    return _BY_NAME["MP4"]


def sniff(head: bytes) -> FileType | None:
    """The type the content's magic bytes say, from the first :data:`SNIFF_BYTES` bytes.

    Plain TIFF magic yields TIFF even for TIFF-based RAW files (see :func:`resolve`).
    """
    if head.startswith(b"\xff\xd8\xff"):
        return _BY_NAME["JPEG"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _BY_NAME["PNG"]
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _BY_NAME["GIF"]
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _BY_NAME["WEBP"]
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return _BY_NAME["AVI"]
    if head.startswith(b"II*\x00\x10\x00\x00\x00CR"):
        return _BY_NAME["CR2"]
    if head.startswith((b"IIRO", b"IIRS", b"MMOR")):
        return _BY_NAME["ORF"]
    if head.startswith(b"IIU\x00"):
        return _BY_NAME["RW2"]
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return _BY_NAME["TIFF"]
    if head.startswith(b"BM") and len(head) >= 18 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        return _BY_NAME["BMP"]
    if head[4:8] == b"ftyp":
        return _sniff_bmff(head)
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return _BY_NAME["JXL"]
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return _BY_NAME["RAF"]
    if head.startswith(b"FOVb"):
        return _BY_NAME["X3F"]
    if head.startswith(b"\x00MRM"):
        return _BY_NAME["MRW"]
    if head.startswith(b"II\x1a\x00\x00\x00HEAPCCDR"):
        return _BY_NAME["CRW"]
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _BY_NAME["WEBM" if b"webm" in head else "MKV"]
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return _BY_NAME["MOV"]  # old QuickTime without an ftyp box
    if head.startswith(b"\x00\x00\x01\xba") or head.startswith(b"\x00\x00\x01\xb3"):
        return _BY_NAME["MPEG"]
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return _BY_NAME["WMV"]
    if head.startswith(b"FLV\x01"):
        return _BY_NAME["FLV"]
    return None  # MPEG-TS has only a weak sync byte: resolve() trusts the extension


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character may be cut at the end of the sample.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(c.isprintable() or c in "\r\n\t\f" for c in text)


def describe_content(head: bytes) -> str:
    """A short human description of unrecognised content, for error messages."""
    if not head.strip(b"\x00"):
        return "only zero bytes"
    if _looks_like_text(head):
        return "text, not a picture"
    return "unknown binary data"


def resolve(path: str | bytes | os.PathLike[str] | os.PathLike[bytes], head: bytes
            ) -> tuple[FileType, str | None]:
    """Decide the type of a file from its name and its first bytes.

    Returns ``(type, warning)``: ``warning`` is a human note when the extension lies.
    Raises :class:`MediaError` (``empty_file``, ``not_an_image``, ``not_a_video``,
    ``unsupported``) when the content is nothing we handle.
    """
    if not head:
        raise MediaError(FailureReason.EMPTY_FILE, "the file is empty (0 bytes)")
    claimed = type_for_path(path)
    found = sniff(head)
    ext = extension_of(path) or "(no extension)"
    if found is None:
        if claimed is not None and claimed.kind is MediaKind.RAW:
            return claimed, None  # many RAW formats have no distinctive magic; decoder decides
        if (claimed is not None and claimed.name == "MTS"
                and (head[:1] == b"\x47" or head[4:5] == b"\x47")):
            return claimed, None
        what = describe_content(head[:SNIFF_BYTES])
        if claimed is not None and claimed.kind is MediaKind.VIDEO:
            raise MediaError(FailureReason.NOT_A_VIDEO,
                             f"named .{ext} but the content is {what}")
        if claimed is not None:
            raise MediaError(FailureReason.NOT_AN_IMAGE,
                             f"named .{ext} but the content is {what}")
        raise MediaError(FailureReason.UNSUPPORTED, f"unsupported file type .{ext} ({what})")
    if claimed is None or claimed == found:
        return found, None
    if found.name == "TIFF" and claimed.name in _TIFF_RAWS:
        return claimed, None
    if found.name in _BMFF_VIDEOS and claimed.name in _BMFF_VIDEOS:
        return claimed, None
    if found.name == "MKV" and claimed.name == "WEBM":
        return claimed, None
    if found.kind is MediaKind.RAW and claimed.kind is MediaKind.RAW:
        return found, None  # e.g. Panasonic .raw / Leica .rwl are RW2 inside
    return found, f"named .{ext} but the content is {found.name}; handled as {found.name}"
