"""Apple's BurstUUID, read from the maker note of a real-shaped JPEG, reaches the metadata."""
from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image

from lumina_desktop.analysis.exif import apple_burst_uuid
from lumina_desktop.analysis.ingest import analyse_file

UUID = "9A1D0C2E-7F3B-4E51-B6A8-0123456789AB"


def apple_note(uuid: str | None, order: str = "MM") -> bytes:
    """An Apple iOS maker note: header, version, byte order, one IFD (offsets from the note's start)."""
    bo = ">" if order == "MM" else "<"
    entries = [(0x0001, 9, 1, 14)]                    # MakerNoteVersion, SLONG, inline
    payload = b""
    if uuid is not None:
        text = uuid.encode() + b"\0"
        entries.append((0x000B, 2, len(text), 0))     # BurstUUID, ASCII, offset filled below
        payload = text
    head = b"Apple iOS\0" + b"\x00\x01" + order.encode()
    ifd_len = 2 + 12 * len(entries) + 4
    data_at = len(head) + ifd_len
    out = head + struct.pack(bo + "H", len(entries))
    for tag, typ, n, value in entries:
        out += struct.pack(bo + "HHII", tag, typ, n, data_at if tag == 0x000B else value)
    return out + b"\0\0\0\0" + payload


def test_burst_uuid_from_an_apple_maker_note_in_both_byte_orders() -> None:
    assert apple_burst_uuid(apple_note(UUID)) == UUID
    assert apple_burst_uuid(apple_note(UUID, "II")) == UUID
    assert apple_burst_uuid(apple_note(None)) is None
    assert apple_burst_uuid(b"Nikon\0\x02\x10\0\0MM") is None          # another maker's note
    assert apple_burst_uuid(b"Apple iOS\0\0\x01MM\xff\xff") is None     # truncated: no crash


def test_a_scanned_iphone_frame_carries_its_burst_uuid(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 12 Pro Max"
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = "2020:11:24 19:02:37"
    ifd[0x927C] = apple_note(UUID)
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), "teal").save(buf, "JPEG", exif=exif)
    path = tmp_path / "IMG_0001.JPG"
    path.write_bytes(buf.getvalue())
    meta = analyse_file(str(path).encode(), thumb_sizes=(256,)).metadata
    assert meta.burst_uuid == UUID and meta.make == "Apple"
