"""Ingest analysis of one file: identity, metadata, perceptual data, thumbnails.

Runs on any thread (worker); the ingest job calls :func:`analyse_file` once per file
from its worker pool.  No database, no Qt, no global state (apart from the lock-guarded
decoder registration in ``decode`` and the ICC transform cache in ``colour``).

One read, one decode: the file is read into memory once; both hashes come from those
bytes; the picture is decoded once from the same bytes (at reduced size: JPEG draft
scaling by libjpeg-turbo, HEIF embedded thumbnails, RAW embedded previews); thumbnails, perceptual
hashes and the grey image are all derived from that single decode.  Videos are not
read into memory: they are hashed in 1 MiB chunks and only their header boxes parsed; nor
are pictures over :data:`STREAM_FILE_BYTES`, which are hashed in chunks and decoded from the
file.  With a ``gate`` (``memory.MemoryGate``) the read and decode wait for room in the
process's memory budget, their cost read from the file's headers first.

Every failure is a :class:`~lumina_desktop.core.media.MediaError` with a ``reason``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import errno
import io
import os
import stat
from typing import BinaryIO

from PIL import Image, ImageFile

from lumina_desktop.analysis import decode, exif, hashing, perceptual, raw_preview, thumbnails
from lumina_desktop.analysis.dates import DateGuess, infer_date
from lumina_desktop.analysis.memory import MemoryGate
from lumina_desktop.analysis.video import VideoInfo, probe_mp4
from lumina_desktop.analysis.xmp import find_packet, iptc_keywords
from lumina_desktop.core import formats
from lumina_desktop.core.formats import FileType
from lumina_desktop.core.media import (
    FailureReason,
    FileIdentity,
    IngestResult,
    MediaError,
    MediaKind,
    PhotoMetadata,
)

PathArg = str | bytes | os.PathLike[str] | os.PathLike[bytes]
MAX_FILE_BYTES = 1 << 30
"""Pictures larger than this (1 GiB) are refused (``too_large``) instead of read."""
MIN_PREVIEW_PX = 256


def _open_error(exc: OSError, name: str) -> MediaError:
    if isinstance(exc, FileNotFoundError):
        return MediaError(FailureReason.VANISHED, f"{name!r} no longer exists")
    if isinstance(exc, PermissionError):
        return MediaError(FailureReason.UNREADABLE, f"no permission to read {name!r}")
    if isinstance(exc, IsADirectoryError):
        return MediaError(FailureReason.UNREADABLE, f"{name!r} is a folder, not a file")
    if exc.errno == errno.ELOOP:
        return MediaError(FailureReason.UNREADABLE, f"{name!r} is a symbolic link where a file was found; "
                          "not followed")
    if exc.errno == errno.ENAMETOOLONG:
        return MediaError(FailureReason.UNREADABLE, f"path too long for this system: {name!r}")
    return MediaError(FailureReason.UNREADABLE, f"cannot read {name!r}: {exc.strerror or exc}")


def open_regular(path: PathArg, name: str, *, follow_links: bool = True) -> BinaryIO:
    """Open a regular file for reading without ever blocking (a FIFO named .jpg would
    block a plain ``open()`` forever); anything but a regular file is ``unreadable``.
    ``follow_links`` False: a symbolic link is refused (ELOOP), never read through."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise MediaError(FailureReason.UNREADABLE, f"{name!r} is not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


STREAM_FILE_BYTES = 64 << 20
"""A picture file bigger than this (not a RAW) is never held in memory: it is hashed in 1 MiB
chunks and decoded from the file (its pixel-data hash is then not computed)."""
RAW_DECODE_BYTES = 64 << 20
"""What decoding a RAW's embedded preview may cost besides the file's bytes (a reduced decode)."""
UNKNOWN_DECODE_BYTES = 16 << 20
_READ_WHOLE = frozenset({"HEIF", "AVIF", "JXL"})
"""Formats whose decoders read the whole file into memory even when given the file."""


def analyse_file(path: PathArg, *, thumb_sizes: tuple[int, ...] = thumbnails.DEFAULT_SIZES,
                 max_pixels: int = decode.DEFAULT_MAX_PIXELS,
                 gate: MemoryGate | None = None, follow_links: bool = True) -> IngestResult:
    """Analyse one photo, RAW or video file.  Raises MediaError for files we cannot ingest.

    ``path`` may be str, bytes or PathLike (undecodable names work as bytes or as str
    with surrogate escapes).  ``thumb_sizes`` are long edges in px; ``max_pixels`` is the
    declared-size limit checked before decoding.  ``gate``: the decode (and the file's bytes
    held for it) is admitted against this memory budget first, its cost read from the headers.
    ``follow_links`` False: a symbolic link at ``path`` is not read (``unreadable``).
    """
    name = os.fsdecode(path)
    with contextlib.ExitStack() as stack:
        try:
            fh = stack.enter_context(open_regular(path, name, follow_links=follow_links))
            st = os.fstat(fh.fileno())
            head = fh.read(formats.SNIFF_BYTES)
            ftype, warning = formats.resolve(name, head)
            warnings = [warning] if warning else []
            if ftype.kind is MediaKind.VIDEO:
                return _probe_video_handle(fh, st.st_size, st.st_mtime, ftype, name, warnings)
            if st.st_size > MAX_FILE_BYTES:
                raise MediaError(FailureReason.TOO_LARGE,
                                 f"{st.st_size / 2**20:.0f} MiB is over the "
                                 f"{MAX_FILE_BYTES / 2**20:.0f} MiB limit for pictures")
            streamed = ftype.kind is not MediaKind.RAW and st.st_size > STREAM_FILE_BYTES
            if gate is not None:
                stack.enter_context(gate.admit(_cost(fh, ftype, st.st_size, streamed, thumb_sizes)))
            fh.seek(0)
            if streamed:
                read, digest = hashing.hash_stream(fh)
                fh.seek(0)
            else:
                data = fh.read()
                read = len(data)
        except OSError as exc:
            raise _open_error(exc, name) from exc
        if read != st.st_size:
            warnings.append(f"file changed while being read ({st.st_size} → {read} bytes)")
        if streamed:
            warnings.append(f"{read / 2**20:.0f} MiB file: read in pieces, its pixel-data hash "
                            "not computed (byte-identical copies are still found)")
            return _analyse_image(fh, None, ftype, FileIdentity(size=read, content_hash=digest), name=name,
                                  mtime_s=st.st_mtime, thumb_sizes=thumb_sizes, max_pixels=max_pixels,
                                  warnings=warnings)
        return _analyse_picture_bytes(data, ftype, name=name, mtime_s=st.st_mtime,
                                      thumb_sizes=thumb_sizes, max_pixels=max_pixels,
                                      warnings=warnings)
    raise AssertionError("unreachable")  # pragma: no cover - ExitStack does not swallow


def _cost(fh: BinaryIO, ftype: FileType, size: int, streamed: bool, thumb_sizes: tuple[int, ...]) -> int:
    """Peak bytes analysing this file will hold: its bytes (unless streamed) and its decode."""
    held = 0 if streamed and ftype.name not in _READ_WHOLE else size
    if ftype.kind is MediaKind.RAW:
        return held + RAW_DECODE_BYTES
    pil = decode.PIL_FORMATS.get(ftype.name)
    cost = decode.header_cost(fh, pil, thumbnails.decode_band(thumb_sizes)) if pil else None
    return held + (cost if cost is not None else UNKNOWN_DECODE_BYTES)


def analyse_bytes(data: bytes, *, name: str, mtime_s: float | None = None,
                  thumb_sizes: tuple[int, ...] = thumbnails.DEFAULT_SIZES,
                  max_pixels: int = decode.DEFAULT_MAX_PIXELS,
                  gate: MemoryGate | None = None) -> IngestResult:
    """Like :func:`analyse_file` for a picture already in memory (``name`` for type and dates)."""
    ftype, warning = formats.resolve(name, data[:formats.SNIFF_BYTES])
    if ftype.kind is MediaKind.VIDEO:
        raise MediaError(FailureReason.UNSUPPORTED, "videos are probed from files: use probe_video")
    admit = (gate.admit(_cost(io.BytesIO(data), ftype, 0, False, thumb_sizes)) if gate is not None
             else contextlib.nullcontext())
    with admit:   # the bytes are held already: only the decode is admitted
        return _analyse_picture_bytes(data, ftype, name=name, mtime_s=mtime_s, thumb_sizes=thumb_sizes,
                                      max_pixels=max_pixels, warnings=[warning] if warning else [])


def _analyse_picture_bytes(data: bytes, ftype: FileType, *, name: str, mtime_s: float | None,
                           thumb_sizes: tuple[int, ...], max_pixels: int, warnings: list[str]
                           ) -> IngestResult:
    if not thumb_sizes or min(thumb_sizes) <= 0:
        raise ValueError(f"thumb_sizes must be positive long edges, got {thumb_sizes!r}")
    identity = hashing.identify(data, ftype.name)
    if ftype.kind is MediaKind.RAW:
        return _analyse_raw(data, ftype, identity, name=name, mtime_s=mtime_s,
                            thumb_sizes=thumb_sizes, max_pixels=max_pixels, warnings=warnings)
    return _analyse_image(data, data, ftype, identity, name=name, mtime_s=mtime_s,
                          thumb_sizes=thumb_sizes, max_pixels=max_pixels, warnings=warnings)


def _analyse_image(source: bytes | BinaryIO, data: bytes | None, ftype: FileType, identity: FileIdentity, *,
                   name: str, mtime_s: float | None, thumb_sizes: tuple[int, ...], max_pixels: int,
                   warnings: list[str]) -> IngestResult:
    """A picture opened from its bytes (``data``) or, too big to hold, from its file (``data`` None)."""
    what = f"{ftype.name} image"
    im = decode.open_image(source, decode.PIL_FORMATS[ftype.name], max_pixels=max_pixels, what=what)
    with im:
        dirs = exif.read_exif(im, warnings)
        xmp = exif.xmp_from_image(im, data if data is not None else b"")
        iptc = exif.iptc_from_image(im, warnings)
        file_orientation = _orientation(dirs, warnings)
        if im.format == "HEIF":  # pillow-heif applies irot/imir and resets the tag to 1
            file_orientation = _valid(im.info.get("original_orientation")) or file_orientation
        full_size = im.size
        pil_format = im.format or ftype.name
        icc = im.info.get("icc_profile")
        decoded = decode.load_reduced(im, thumbnails.decode_band(thumb_sizes), what, data)
        # Some decoders (Pillow's TIFF, pillow-heif) orient while loading and drop the
        # tag; what is left in the image's EXIF is what we still have to apply.
        remaining = _remaining_orientation(im) if file_orientation != 1 else 1
        meta = exif.build_metadata(dirs, path=name, mtime_s=mtime_s, size=full_size,
                                   xmp_packet=xmp, iptc_words=iptc_keywords(iptc),
                                   orientation=remaining, warnings=warnings)
        meta = dataclasses.replace(meta, orientation=file_orientation)
        return _finish(decoded, icc, ftype, pil_format, identity, meta, remaining,
                       thumb_sizes, what, warnings)


def _remaining_orientation(im: Image.Image) -> int:
    try:
        return _valid(im.getexif().get(exif.ORIENTATION)) or 1
    except Exception:  # corrupt EXIF was already reported by read_exif
        return 1


def _analyse_raw(data: bytes, ftype: FileType, identity: FileIdentity, *, name: str,
                 mtime_s: float | None, thumb_sizes: tuple[int, ...], max_pixels: int,
                 warnings: list[str]) -> IngestResult:
    preview = raw_preview.extract_preview(data, ftype.name)
    if data[:2] in (b"II", b"MM"):
        raw_dirs = exif.tiff_exif(data, warnings)
    elif ftype.name == "CR3":
        raw_dirs = exif.cr3_exif(raw_preview.cr3_tiff_blocks(data), warnings)
    else:
        raw_dirs = exif.ExifDirs()
    what = f"{ftype.name} embedded preview"
    if preview.encoded is not None:
        ptype = formats.sniff(preview.encoded[:formats.SNIFF_BYTES])
        pil_name = decode.PIL_FORMATS.get(ptype.name) if ptype is not None else None
        if pil_name is None:
            raise MediaError(FailureReason.UNSUPPORTED, f"{what} is in an unknown format")
        im: Image.Image = decode.open_image(preview.encoded, pil_name, max_pixels=max_pixels,
                                            what=what)
        dirs = raw_dirs.merged_with(exif.read_exif(im, warnings))
    else:
        assert preview.bitmap is not None
        im = Image.fromarray(preview.bitmap)
        dirs = raw_dirs
    with im:
        orientation = _valid(raw_dirs.base.get(exif.ORIENTATION)) or preview.orientation
        if orientation is None:
            orientation = _orientation(dirs, warnings)
        if max(im.size) < MIN_PREVIEW_PX:
            warnings.append(f"embedded preview is only {im.size[0]}×{im.size[1]} px")
        pil_format = im.format or "RAW"
        icc = im.info.get("icc_profile")
        full_size = preview.raw_size or im.size
        if isinstance(im, ImageFile.ImageFile):
            decoded = decode.load_reduced(im, thumbnails.decode_band(thumb_sizes), what,
                                          preview.encoded)
        else:
            decoded = im
        meta = exif.build_metadata(
            dirs, path=name, mtime_s=mtime_s, size=full_size,
            xmp_packet=find_packet(data), orientation=orientation, warnings=warnings)
        return _finish(decoded, icc, ftype, pil_format, identity, meta, orientation,
                       thumb_sizes, what, warnings)


def _finish(decoded: Image.Image, icc: object, ftype: FileType, pil_format: str,
            identity: FileIdentity, meta: PhotoMetadata, applied: int,
            thumb_sizes: tuple[int, ...], what: str, warnings: list[str]) -> IngestResult:
    """Derive thumbnails and perceptual data from the one decoded image."""
    aspect = (meta.width / meta.height) if meta.width and meta.height else None
    try:
        images = thumbnails.render_sizes(decoded, orientation=applied,
                                         icc=icc if isinstance(icc, bytes) else None,
                                         sizes=thumb_sizes, warnings=warnings, aspect=aspect)
        thumbs = thumbnails.encode_thumbnails(images, thumb_sizes)
    except MediaError:
        raise
    except Exception as exc:  # a decoder may fail lazily during conversion
        raise decode.decode_error(exc, what) from exc
    return IngestResult(
        file_type=ftype.name,
        kind=ftype.kind,
        format=pil_format,
        identity=identity,
        metadata=meta,
        perceptual=perceptual.perceptual_data(images[perceptual.BASE_PX], aspect),
        thumbnails=thumbs,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _valid(value: object) -> int | None:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 8 else None


def _orientation(dirs: exif.ExifDirs, warnings: list[str]) -> int:
    value = dirs.base.get(exif.ORIENTATION)
    valid = _valid(value)
    if value is not None and valid is None:
        warnings.append(f"invalid EXIF orientation {value!r}; treated as 1")
    return valid or 1


def probe_video(path: PathArg) -> IngestResult:
    """Catalogue a video without decoding it: streamed content hash + header metadata."""
    name = os.fsdecode(path)
    try:
        with open_regular(path, name) as fh:
            st = os.fstat(fh.fileno())
            head = fh.read(formats.SNIFF_BYTES)
            ftype, warning = formats.resolve(name, head)
            if ftype.kind is not MediaKind.VIDEO:
                raise MediaError(FailureReason.NOT_A_VIDEO,
                                 f"content is {ftype.name}, not a video: use analyse_file")
            return _probe_video_handle(fh, st.st_size, st.st_mtime, ftype, name,
                                       [warning] if warning else [])
    except OSError as exc:
        raise _open_error(exc, name) from exc


def _probe_video_handle(fh: BinaryIO, size: int, mtime_s: float, ftype: FileType, name: str,
                        warnings: list[str]) -> IngestResult:
    fh.seek(0)
    read, digest = hashing.hash_stream(fh)
    if read != size:
        warnings.append(f"file changed while being read ({size} → {read} bytes)")
    info = VideoInfo()
    if ftype.name in ("MP4", "MOV", "3GP"):
        try:
            info = probe_mp4(fh, read)
        except (OSError, ValueError, IndexError) as exc:
            warnings.append(f"video header unreadable: {type(exc).__name__}: {exc}")
    guess = _video_date(info, name, mtime_s)
    lat, lon, alt = info.gps if info.gps else (None, None, None)
    meta = PhotoMetadata(
        capture_time=guess.when if guess else None,
        utc_offset_minutes=guess.utc_offset_minutes if guess else None,
        date_source=guess.source if guess else None,
        date_confidence=guess.confidence if guess else None,
        make=info.make, model=info.model, gps_lat=lat, gps_lon=lon, gps_alt=alt,
        width=info.width, height=info.height, duration_s=info.duration_s)
    return IngestResult(file_type=ftype.name, kind=ftype.kind, format=info.brand or ftype.name,
                        identity=FileIdentity(size=read, content_hash=digest),
                        metadata=meta, perceptual=None, thumbnails={},
                        warnings=tuple(warnings))


def _video_date(info: VideoInfo, name: str, mtime_s: float) -> DateGuess | None:
    """Apple's local creation date, else the (UTC) mvhd time shown locally, else inference."""
    if info.local_time is not None:
        return DateGuess(info.local_time, "container", "high", info.utc_offset_minutes)
    if info.created_utc is not None:
        aware = info.created_utc.astimezone()
        delta = aware.utcoffset()
        minutes = int(delta.total_seconds() // 60) if delta is not None else None
        return DateGuess(aware.replace(tzinfo=None), "container", "medium", minutes)
    return infer_date(name, mtime_s)


__all__ = ["MAX_FILE_BYTES", "analyse_bytes", "analyse_file", "open_regular", "probe_video"]
