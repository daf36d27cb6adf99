"""Deterministic test inputs: pictures, ICC profiles, DNG and MP4 files built in memory.

Qt-free; Pillow + seeded numpy + struct only.
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from lumina_desktop.analysis.thumbnails import TRANSPOSE

# Orientation → the transpose that undoes it (to store an upright picture "rotated").
INVERSE = {1: None, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}


def upright(width: int = 96, height: int = 64, seed: int = 0) -> Image.Image:
    """An asymmetric RGB picture: every flip/rotation of it looks different."""
    rng = np.random.default_rng(seed)
    arr = np.zeros((height, width, 3), np.uint8)
    arr[..., 0] = np.linspace(0, 200, width, dtype=np.uint8)[None, :]
    arr[..., 1] = np.linspace(30, 220, height, dtype=np.uint8)[:, None]
    arr[: height // 2, : width // 3] = (250, 20, 20)
    arr[height * 3 // 4:, width // 2:] = (20, 20, 250)
    arr[:, -width // 8:] = (240, 240, 0)
    arr = np.clip(arr.astype(int) + rng.integers(-6, 7, arr.shape), 0, 255).astype(np.uint8)
    return Image.fromarray(arr)


def stored_for(picture: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera would store so that ``orientation`` displays ``picture``."""
    inverse = INVERSE[orientation]
    return picture if inverse is None else picture.transpose(TRANSPOSE[inverse])


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **params)
    return buf.getvalue()


def exif_with_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


# ---------------------------------------------------------------- ICC profiles


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return (b"desc\0\0\0\0" + struct.pack(">I", len(ascii_)) + ascii_
            + b"\0" * 8 + b"\0\0\0" + b"\0" * 67)


def rgb_profile(description: str, red: tuple[float, float, float],
                green: tuple[float, float, float], blue: tuple[float, float, float],
                gamma: float = 2.2) -> bytes:
    """A minimal ICC v2 RGB matrix/TRC display profile (D50-adapted colorants)."""
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    tags = [
        (b"desc", _desc(description)),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(*red)), (b"gXYZ", _xyz(*green)), (b"bXYZ", _xyz(*blue)),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
        (b"cprt", b"text\0\0\0\0public domain test profile\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, blobs = b"", b""
    for sig, blob in tags:
        while len(blob) % 4:
            blob += b"\0"
        table += sig + struct.pack(">II", offset + len(blobs), len(blob))
        blobs += blob
    body = struct.pack(">I", len(tags)) + table + blobs
    size = 128 + len(body)
    header = (struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24
              + struct.pack(">I", 0) + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)
    assert len(header) == 128
    return header + body


def display_p3_like() -> bytes:
    """Display P3 primaries (D50-adapted) with a 2.2 gamma: a wide-gamut test profile."""
    return rgb_profile("Wide gamut test (P3 primaries)", (0.5151, 0.2412, -0.0011),
                       (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))


def srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# ---------------------------------------------------------------- a minimal DNG


def dng_with_preview(preview_jpeg: bytes, *, orientation: int = 1, make: str = "TestCam",
                     model: str = "T-1", date: str = "2022:03:04 05:06:07") -> bytes:
    """A TIFF/DNG whose IFD0 is a JPEG preview (as real DNGs store it), with Exif IFD."""
    im = Image.open(io.BytesIO(preview_jpeg))
    w, h = im.size
    base = 8

    def ascii_(text: str) -> tuple[int, bytes]:
        raw = text.encode() + b"\0"
        return len(raw), raw
    mk_n, mk = ascii_(make)
    md_n, md = ascii_(model)
    dt_n, dt = ascii_(date)
    n_ifd0 = 14
    ifd0_size = 2 + 12 * n_ifd0 + 4
    exif_ifd_at = base + ifd0_size
    exif_size = 2 + 12 * 1 + 4
    data_at = exif_ifd_at + exif_size
    blobs = b""

    def short(v: int) -> bytes:
        return struct.pack("<HH", v, 0)

    def long_(v: int) -> bytes:
        return struct.pack("<I", v)

    def place(raw: bytes) -> int:
        nonlocal blobs
        at = data_at + len(blobs)
        blobs += raw + (b"\0" if len(raw) % 2 else b"")
        return at

    def ascii_value(raw: bytes) -> bytes:  # TIFF stores ≤ 4 bytes inline
        return raw.ljust(4, b"\0") if len(raw) <= 4 else long_(place(raw))

    make_value, model_value = ascii_value(mk), ascii_value(md)
    date_at = place(dt)
    jpeg_at = place(preview_jpeg)

    entries = [
        (254, 4, 1, long_(1)),  # NewSubFileType: reduced-resolution preview
        (256, 4, 1, long_(w)), (257, 4, 1, long_(h)),
        (258, 3, 1, short(8)),
        (259, 3, 1, short(7)),  # JPEG
        (262, 3, 1, short(6)),  # YCbCr
        (271, 2, mk_n, make_value), (272, 2, md_n, model_value),
        (273, 4, 1, long_(jpeg_at)),
        (274, 3, 1, short(orientation)),
        (277, 3, 1, short(3)),
        (279, 4, 1, long_(len(preview_jpeg))),
        (0x8769, 4, 1, long_(exif_ifd_at)),
        (50706, 1, 4, bytes([1, 4, 0, 0])),  # DNGVersion
    ]
    assert len(entries) == n_ifd0
    ifd0 = struct.pack("<H", n_ifd0) + b"".join(
        struct.pack("<HHI", t, ty, c) + v for t, ty, c, v in entries) + long_(0)
    exif_ifd = (struct.pack("<H", 1) + struct.pack("<HHI", 0x9003, 2, dt_n)
                + long_(date_at) + long_(0))
    return b"II*\0" + long_(base) + ifd0 + exif_ifd + blobs


# ---------------------------------------------------------------- tiny PNGs and MP4s


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header declaring width×height with a token IDAT (for bomb checks)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(*, brand: bytes = b"isom", duration_s: float = 5.0, width: int = 1920,
        height: int = 1080, rotate_90: bool = False, created_utc_s: int | None = None,
        iso6709: str | None = None, apple_date: str | None = None,
        moov_last: bool = False) -> bytes:
    """A structurally valid (unplayable) MP4/MOV with the header boxes ingest reads."""
    timescale = 1000
    created = created_utc_s if created_utc_s is not None else 0
    mvhd = box(b"mvhd", b"\0\0\0\0" + struct.pack(">IIII", created, created, timescale,
                                                   round(duration_s * timescale)) + b"\0" * 80)
    one, zero = 0x00010000, 0
    matrix = ((zero, one, zero, -one & 0xFFFFFFFF, zero, zero, zero, zero, 0x40000000)
              if rotate_90 else (one, zero, zero, zero, one, zero, zero, zero, 0x40000000))
    tkhd = box(b"tkhd", b"\0\0\0\x07" + struct.pack(">IIIII", 0, 0, 1, 0, 0) + b"\0" * 8
               + b"\0" * 8 + struct.pack(">9I", *matrix)
               + struct.pack(">II", width << 16, height << 16))
    audio_tkhd = box(b"tkhd", b"\0\0\0\x07" + b"\0" * 20 + b"\0" * 16 + b"\0" * 36 + b"\0" * 8)
    traks = box(b"trak", audio_tkhd) + box(b"trak", tkhd)
    udta = b""
    if iso6709:
        udta = box(b"udta", box(b"\xa9xyz", struct.pack(">HH", len(iso6709), 0x15c7)
                                + iso6709.encode()))
    meta = b""
    if apple_date:
        key = b"com.apple.quicktime.creationdate"
        keys = box(b"keys", b"\0\0\0\0" + struct.pack(">I", 1) + box(b"mdta", key))
        data = box(b"data", struct.pack(">II", 1, 0) + apple_date.encode())
        ilst = box(b"ilst", box(struct.pack(">I", 1), data))
        hdlr = box(b"hdlr", b"\0" * 8 + b"mdta" + b"\0" * 13)
        meta = box(b"meta", hdlr + keys + ilst)
    moov = box(b"moov", mvhd + traks + udta + meta)
    ftyp = box(b"ftyp", brand + b"\0\0\x02\0" + brand + b"mp41")
    mdat = box(b"mdat", bytes(range(256)) * 8)
    return ftyp + (mdat + moov if moov_last else moov + mdat)


def photo_like(width: int = 640, height: int = 480, seed: int = 0) -> Image.Image:
    """A smooth, textured RGB picture (sums of random low-frequency waves), photo-like
    enough for perceptual hashes to be stable under resampling."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = []
    for _ in range(3):
        acc = np.zeros((height, width), np.float32)
        for _ in range(6):
            fx, fy = rng.uniform(0.5, 4.0, 2) * 2 * np.pi
            phase = rng.uniform(0, 2 * np.pi)
            acc += rng.uniform(0.3, 1.0) * np.sin(fx * x / width + fy * y / height + phase)
        channels.append(acc)
    arr = np.stack(channels, axis=-1)
    arr = (arr - arr.min()) / (np.ptp(arr) or 1.0) * 235 + 10
    return Image.fromarray(arr.astype(np.uint8))
