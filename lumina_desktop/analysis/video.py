"""Cheap video metadata: MP4/MOV/3GP box parsing, no decoding, no external tools.

Runs on any thread (worker).  Reads only the ``ftyp`` and ``moov`` boxes of an
ISO-BMFF/QuickTime file through a seekable binary handle:

* ``mvhd`` → duration and creation time (UTC since 1904);
* the first visual ``tkhd`` → width × height, swapped when its matrix rotates 90°;
* ``udta/©xyz`` and Apple ``meta`` keys (``com.apple.quicktime.creationdate``,
  ``…location.ISO6709``, ``…make``, ``…model``) → local capture time with offset,
  GPS, camera.
Other containers (AVI, MKV, MTS, …) are catalogued without these fields.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from lumina_desktop.analysis import dates

MAX_MOOV_BYTES = 64 << 20
_EPOCH_1904 = datetime(1904, 1, 1, tzinfo=UTC)
_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"udta", b"edts"})
_ISO6709 = re.compile(r"([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)?")


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What the container header says; every field may be missing."""

    brand: str | None = None
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    created_utc: datetime | None = None
    local_time: datetime | None = None
    utc_offset_minutes: int | None = None
    gps: tuple[float, float, float | None] | None = None
    make: str | None = None
    model: str | None = None


def _boxes(buf: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in buf[start:end]."""
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(buf[pos:pos + 4], "big")
        kind = buf[pos + 4:pos + 8]
        header = 8
        if size == 1 and pos + 16 <= end:
            size = int.from_bytes(buf[pos + 8:pos + 16], "big")
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            break
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def _top_level(fh: BinaryIO, file_size: int) -> dict[bytes, tuple[int, int]]:
    """Offsets of ftyp and moov payloads, walking top-level box headers with seeks."""
    found: dict[bytes, tuple[int, int]] = {}
    pos = 0
    while pos + 8 <= file_size and len(found) < 2:
        fh.seek(pos)
        head = fh.read(16)
        if len(head) < 8:
            break
        size = int.from_bytes(head[:4], "big")
        kind = head[4:8]
        header = 8
        if size == 1:
            size = int.from_bytes(head[8:16], "big")
            header = 16
        elif size == 0:
            size = file_size - pos
        if size < header:
            break
        if kind in (b"ftyp", b"moov"):
            found[kind] = (pos + header, pos + size)
        pos += size
    return found


def _text(raw: bytes) -> str | None:
    text = raw.decode("utf-8", "replace").strip("\x00 ").strip()
    return text or None


def _parse_iso6709(text: str | None) -> tuple[float, float, float | None] | None:
    m = _ISO6709.match(text or "")
    if not m:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return lat, lon, float(m.group(3)) if m.group(3) else None


def _apple_keys(buf: bytes, start: int, end: int) -> dict[str, bytes]:
    """QuickTime ``meta`` → {key name: raw value} from its ``keys`` and ``ilst`` boxes."""
    if buf[start + 8:start + 12] == b"hdlr":  # ISO 'meta' is a full box (version/flags)
        start += 4
    children = _boxes(buf, start, end)
    keys: list[str] = []
    values: dict[str, bytes] = {}
    for kind, s, e in children:
        if kind == b"keys":
            for _, ks, ke in _boxes(buf, s + 8, e):
                keys.append(buf[ks:ke].decode("utf-8", "replace"))
    for kind, s, e in children:
        if kind != b"ilst":
            continue
        for item, is_, ie in _boxes(buf, s, e):
            index = int.from_bytes(item, "big") - 1
            for dkind, ds, de in _boxes(buf, is_, ie):
                if dkind == b"data" and 0 <= index < len(keys):
                    values[keys[index]] = buf[ds + 8:de]
    return values


def _walk(buf: bytes, start: int, end: int, info: dict[str, object]) -> None:
    for kind, s, e in _boxes(buf, start, end):
        if kind in _CONTAINERS:
            _walk(buf, s, e, info)
        elif kind == b"mvhd" and e - s >= 20:
            v1 = buf[s] == 1
            created = int.from_bytes(buf[s + 4:s + (12 if v1 else 8)], "big")
            ts_at = s + (20 if v1 else 12)
            timescale = int.from_bytes(buf[ts_at:ts_at + 4], "big")
            duration = int.from_bytes(buf[ts_at + 4:ts_at + (12 if v1 else 8)], "big")
            if timescale:
                info["duration_s"] = duration / timescale
            if created:
                info["created_utc"] = _EPOCH_1904 + timedelta(seconds=created)
        elif kind == b"tkhd" and "width" not in info:
            v1 = buf[s] == 1
            matrix_at = s + (52 if v1 else 40)
            w = int.from_bytes(buf[matrix_at + 36:matrix_at + 40], "big") >> 16
            h = int.from_bytes(buf[matrix_at + 40:matrix_at + 44], "big") >> 16
            if w and h:
                a = int.from_bytes(buf[matrix_at:matrix_at + 4], "big", signed=True)
                b = int.from_bytes(buf[matrix_at + 4:matrix_at + 8], "big", signed=True)
                rotated = a == 0 and b != 0
                info["width"], info["height"] = (h, w) if rotated else (w, h)
        elif kind == b"\xa9xyz" and e - s > 4:
            gps = _parse_iso6709(_text(buf[s + 4:e]))
            if gps:
                info.setdefault("gps", gps)
        elif kind == b"meta":
            info.update({f"key:{k}": v for k, v in _apple_keys(buf, s, e).items()})


def probe_mp4(fh: BinaryIO, file_size: int) -> VideoInfo:
    """Parse an MP4/MOV/3GP's header boxes; fields it cannot find stay None."""
    top = _top_level(fh, file_size)
    brand = None
    if b"ftyp" in top:
        fs, fe = top[b"ftyp"]
        fh.seek(fs)
        brand = _text(fh.read(min(4, fe - fs)))
    if b"moov" not in top or top[b"moov"][1] - top[b"moov"][0] > MAX_MOOV_BYTES:
        return VideoInfo(brand=brand)
    ms, me = top[b"moov"]
    fh.seek(ms)
    buf = fh.read(me - ms)
    info: dict[str, object] = {}
    _walk(buf, 0, len(buf), info)
    local = offset = None
    created_key = info.get("key:com.apple.quicktime.creationdate")
    if isinstance(created_key, bytes):
        parsed = dates.parse_exif_datetime(_text(created_key))
        if parsed:
            local, offset = parsed
    gps_key = info.get("key:com.apple.quicktime.location.ISO6709")
    gps = _parse_iso6709(_text(gps_key)) if isinstance(gps_key, bytes) else None
    make, model = (info.get(f"key:com.apple.quicktime.{k}") for k in ("make", "model"))
    created = info.get("created_utc")
    return VideoInfo(
        brand=brand,
        width=info.get("width"),  # type: ignore[arg-type]
        height=info.get("height"),  # type: ignore[arg-type]
        duration_s=info.get("duration_s"),  # type: ignore[arg-type]
        created_utc=created if isinstance(created, datetime) and created.year >= 1971 else None,
        local_time=local,
        utc_offset_minutes=offset,
        gps=gps or info.get("gps"),  # type: ignore[arg-type]
        make=_text(make) if isinstance(make, bytes) else None,
        model=_text(model) if isinstance(model, bytes) else None,
    )
