"""analysis.hashing: content hash vs metadata-independent image-data hash."""
from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from lumina_desktop.analysis import hashing
from lumina_desktop.analysis.ingest import analyse_bytes

from .builders import encode, upright
from .test_exif import XMP, full_exif


def _insert_jpeg_segment(data: bytes, marker: int, payload: bytes) -> bytes:
    seg = bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload
    return data[:2] + seg + data[2:]


def test_content_hash_is_sha256_of_every_byte() -> None:
    data = b"hello world" * 1000
    assert hashing.content_hash(data) == hashlib.sha256(data).hexdigest()
    assert hashing.hash_stream(io.BytesIO(data)) == (len(data), hashing.content_hash(data))


def test_same_jpeg_with_other_exif_keeps_image_hash() -> None:
    picture = upright(200, 150)
    plain = encode(picture, "JPEG", quality=90)
    tagged = encode(picture, "JPEG", quality=90, exif=full_exif(), xmp=XMP)
    edited = _insert_jpeg_segment(plain, 0xFE, b"a comment added by an editor")
    edited = _insert_jpeg_segment(edited, 0xE1, b"Exif\0\0" + full_exif(3).tobytes())
    a, b, c = (analyse_bytes(d, name="x.jpg").identity for d in (plain, tagged, edited))
    assert len({a.content_hash, b.content_hash, c.content_hash}) == 3
    assert a.image_data_hash is not None
    assert a.image_data_hash == b.image_data_hash == c.image_data_hash


def test_different_pixels_or_quality_change_image_hash() -> None:
    picture = upright(200, 150)
    h1 = hashing.jpeg_image_data_hash(encode(picture, "JPEG", quality=90))
    h2 = hashing.jpeg_image_data_hash(encode(picture, "JPEG", quality=80))
    h3 = hashing.jpeg_image_data_hash(encode(upright(200, 150, seed=1), "JPEG", quality=90))
    assert len({h1, h2, h3}) == 3


def test_progressive_jpeg_and_trailing_data() -> None:
    data = encode(upright(300, 200), "JPEG", progressive=True, quality=85)
    h = hashing.jpeg_image_data_hash(data)
    assert h is not None
    assert hashing.jpeg_image_data_hash(data + b"trailing motion-photo video bytes") == h
    assert hashing.jpeg_image_data_hash(data[: len(data) // 2]) is None  # no EOI


def test_png_text_chunks_do_not_change_image_hash() -> None:
    picture = upright(64, 48)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "edited")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    plain, tagged = encode(picture, "PNG"), encode(picture, "PNG", pnginfo=info, exif=full_exif())
    assert plain != tagged
    assert hashing.png_image_data_hash(plain) == hashing.png_image_data_hash(tagged) is not None
    other = encode(upright(64, 48, seed=5), "PNG")
    assert hashing.png_image_data_hash(other) != hashing.png_image_data_hash(plain)


def test_webp_metadata_chunks_do_not_change_image_hash() -> None:
    picture = upright(64, 48)
    plain = encode(picture, "WEBP", quality=80)
    tagged = encode(picture, "WEBP", quality=80, exif=full_exif(), xmp=XMP)
    assert plain != tagged
    assert hashing.webp_image_data_hash(plain) == hashing.webp_image_data_hash(tagged) is not None


@pytest.mark.parametrize("blob", [b"", b"\xff\xd8", b"\xff\xd8\xff\xe0\xff\xff",
                                  b"\xff\xd8\x00\x00garbage", b"\xff\xd8\xff\xd9"])
def test_broken_jpeg_structures_give_none(blob: bytes) -> None:
    assert hashing.jpeg_image_data_hash(blob) is None


def test_broken_png_and_webp_give_none() -> None:
    png = encode(upright(), "PNG")
    assert hashing.png_image_data_hash(png[:40]) is None
    chunk = struct.pack(">I", 4) + b"tEXt" + b"abcd" + struct.pack(">I", zlib.crc32(b"tEXtabcd"))
    assert hashing.png_image_data_hash(b"\x89PNG\r\n\x1a\n" + chunk) is None  # no IDAT
    assert hashing.webp_image_data_hash(b"RIFF\0\0\0\0WEBPVP8 \xff\xff\xff\x00") is None


def test_formats_without_image_hash() -> None:
    data = encode(upright(), "GIF")
    identity = hashing.identify(data, "GIF")
    assert identity.image_data_hash is None and identity.size == len(data)
    assert Image.open(io.BytesIO(data)).format == "GIF"
