"""core.formats: the one registry, extension lookup, content sniffing, resolution."""
from __future__ import annotations

import os

import pytest

from lumina_desktop.core import formats
from lumina_desktop.core.formats import (
    FILE_TYPES,
    MediaKind,
    is_candidate,
    resolve,
    sniff,
    type_for_path,
)
from lumina_desktop.core.media import FailureReason, MediaError


def test_registry_names_and_extensions_are_unique() -> None:
    names = [t.name for t in FILE_TYPES]
    assert len(names) == len(set(names))
    exts = [e for t in FILE_TYPES for e in t.extensions]
    assert len(exts) == len(set(exts))
    assert all(e == e.lower() and not e.startswith(".") for e in exts)


@pytest.mark.parametrize("ext", [
    "jpg", "jpeg", "png", "tif", "tiff", "webp", "gif", "bmp", "heic", "heif", "avif", "jxl",
])
def test_image_formats_are_listed(ext: str) -> None:
    t = type_for_path(f"photo.{ext}")
    assert t is not None and t.kind is MediaKind.IMAGE


@pytest.mark.parametrize("ext", [
    "cr2", "cr3", "nef", "nrw", "arw", "sr2", "dng", "raf", "orf", "rw2", "pef", "srw",
    "erf", "kdc", "mrw", "3fr", "iiq", "x3f",
])
def test_raw_formats_are_listed(ext: str) -> None:
    t = type_for_path(f"DSC0001.{ext.upper()}")
    assert t is not None and t.kind is MediaKind.RAW


@pytest.mark.parametrize("ext", ["mp4", "mov", "m4v", "avi", "mkv", "mts", "m2ts", "3gp", "webm"])
def test_video_formats_are_listed(ext: str) -> None:
    t = type_for_path(f"clip.{ext}")
    assert t is not None and t.kind is MediaKind.VIDEO


def test_type_for_path_is_bytes_safe_and_case_insensitive() -> None:
    assert type_for_path(b"/x/caf\xe9.JPG") is formats.file_type("JPEG")
    assert type_for_path(os.fsdecode(b"/x/caf\xe9.Nef")) is formats.file_type("NEF")
    assert type_for_path("notes.txt") is None
    assert type_for_path("/dir.jpg/README") is None
    assert type_for_path(".jpg") is None


def test_is_candidate() -> None:
    assert is_candidate("/photos/IMG_0001.HEIC")
    assert is_candidate(b"/photos/\xff\xfe.cr3")
    assert not is_candidate("/photos/._IMG_0001.JPG")  # macOS resource fork
    assert not is_candidate("/photos/IMG_0001.xmp")
    assert not is_candidate("/photos/Thumbs.db")


@pytest.mark.parametrize(("head", "name"), [
    (b"\xff\xd8\xff\xe0\0\x10JFIF", "JPEG"),
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "PNG"),
    (b"GIF89a\x01\0", "GIF"),
    (b"RIFF\x10\0\0\0WEBPVP8 ", "WEBP"),
    (b"RIFF\x10\0\0\0AVI LIST", "AVI"),
    (b"II*\0\x08\0\0\0", "TIFF"),
    (b"MM\0*\0\0\0\x08", "TIFF"),
    (b"II*\0\x10\0\0\0CR\x02\0", "CR2"),
    (b"IIRO\x08\0\0\0", "ORF"),
    (b"IIU\0\x18\0\0\0", "RW2"),
    (b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0", "BMP"),
    (b"\0\0\0\x1cftypheic\0\0\0\0mif1heic", "HEIF"),
    (b"\0\0\0\x1cftypmif1\0\0\0\0mif1heic", "HEIF"),
    (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1", "AVIF"),
    (b"\0\0\0\x1cftypmif1\0\0\0\0mif1avif", "AVIF"),
    (b"\0\0\0\x18ftypcrx \0\0\0\x01crx isom", "CR3"),
    (b"\0\0\0\x14ftypqt  \0\0\x02\0qt  ", "MOV"),
    (b"\0\0\0\x18ftypisom\0\0\x02\0isommp41", "MP4"),
    (b"\0\0\0\x14ftyp3gp4\0\0\x02\0", "3GP"),
    (b"\xff\x0a\x08\x04", "JXL"),
    (b"\0\0\0\x0cJXL \r\n\x87\n", "JXL"),
    (b"FUJIFILMCCD-RAW 0201", "RAF"),
    (b"FOVb\x02\0", "X3F"),
    (b"\0MRM\0\0", "MRW"),
    (b"II\x1a\0\0\0HEAPCCDR", "CRW"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm", "WEBM"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01matroska", "MKV"),
])
def test_sniff_magic(head: bytes, name: str) -> None:
    found = sniff(head)
    assert found is not None and found.name == name


def test_sniff_rejects_text_and_garbage() -> None:
    assert sniff(b"hello, this is not a picture") is None
    assert sniff(b"") is None


def test_resolve_png_named_jpg_is_png_with_warning() -> None:
    ftype, warning = resolve("holiday.jpg", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    assert ftype.name == "PNG"
    assert warning is not None and ".jpg" in warning and "PNG" in warning


def test_resolve_text_named_jpg_is_rejected_clearly() -> None:
    with pytest.raises(MediaError) as info:
        resolve("holiday.jpg", b"Dear diary, today I took no photos.\n")
    assert info.value.reason is FailureReason.NOT_AN_IMAGE
    assert "text" in info.value.message and ".jpg" in info.value.message


def test_resolve_empty_and_unknown() -> None:
    with pytest.raises(MediaError) as info:
        resolve("a.jpg", b"")
    assert info.value.reason is FailureReason.EMPTY_FILE
    with pytest.raises(MediaError) as info:
        resolve("a.mp4", b"just some text")
    assert info.value.reason is FailureReason.NOT_A_VIDEO
    with pytest.raises(MediaError) as info:
        resolve("a.xyz", b"\x00\x01\x02\x03garbage")
    assert info.value.reason is FailureReason.UNSUPPORTED


def test_resolve_tiff_based_raw_keeps_raw_type() -> None:
    assert resolve("DSC_1.NEF", b"II*\0\x08\0\0\0")[0].name == "NEF"
    assert resolve("x.dng", b"MM\0*\0\0\0\x08") == (formats.file_type("DNG"), None)
    assert resolve("x.tif", b"II*\0\x08\0\0\0")[0].name == "TIFF"


def test_resolve_raw_without_magic_trusts_extension() -> None:
    assert resolve("x.kdc", b"\x00\x01unknown raw layout")[0].name == "KDC"


def test_resolve_iso_bmff_family_keeps_extension() -> None:
    head = b"\0\0\0\x18ftypisom\0\0\x02\0isommp41"
    assert resolve("clip.MOV", head) == (formats.file_type("MOV"), None)
    assert resolve("clip.m4v", head) == (formats.file_type("MP4"), None)
    assert resolve("clip.mts", b"\x47\x40\x00\x10" + b"\0" * 60)[0].name == "MTS"


def test_resolve_jpeg_named_heic() -> None:
    ftype, warning = resolve("IMG_1.HEIC", b"\xff\xd8\xff\xe1")
    assert ftype.name == "JPEG" and warning


def test_source_code_extensions_are_not_candidates() -> None:
    assert not is_candidate("/project/src/index.ts")
