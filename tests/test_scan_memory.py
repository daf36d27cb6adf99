"""Bounded memory: a scan's peak RSS stays within ``memory_budget_mb`` for any input (issue 16).

Big pictures that Pillow cannot decode at reduced size (PNG, TIFF, …) are admitted one at a
time by ``analysis.memory.MemoryGate`` and flattened and shrunk strip by strip; files too big
to hold are hashed and decoded from the file.  The end-to-end test scans, in a subprocess, five
all-zero 14000×14000 PNGs (under the 200 MP bomb limit, < 1 MB each), one RGBA PNG of the same
size (2.5 GB decoded naïvely), a sparse 1000 MiB JPEG declaring 14000×14000 and a progressive
one (whose decoder holds 600 MB of coefficients at any scale), and checks the
process's peak RSS and that every file is catalogued with a thumbnail.
"""
from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import psycopg
import pytest
from PIL import Image

from lumina_desktop.analysis import colour, decode, memory

SIDE = 14_000
BUDGET_MB = 1536


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _idat(row: bytes, rows: int, level: int) -> bytes:
    """The zlib stream of ``rows`` identical filtered rows (filter byte 0), made without ever
    holding the picture."""
    co = zlib.compressobj(level)
    line = b"\0" + row
    parts = [co.compress(line) for _ in range(rows)]
    parts.append(co.flush())
    return b"".join(parts)


def _write_png(path: Path, width: int, height: int, colour_type: int, idat: bytes, note: str) -> None:
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n")
        fh.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)))
        fh.write(_chunk(b"tEXt", b"Comment\0" + note.encode()))   # five files, five contents
        for i in range(0, len(idat), 1 << 20):
            fh.write(_chunk(b"IDAT", idat[i:i + (1 << 20)]))
        fh.write(_chunk(b"IEND", b""))


def _write_sparse_jpeg(path: Path, size: int, *, progressive: bool = False) -> None:
    """A real JPEG header declaring SIDE×SIDE, its scan running into ``size`` bytes of holes
    (progressive: libjpeg then holds every coefficient, 600 MB, at any scale)."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 30, 200)).save(buf, "JPEG", progressive=progressive)
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc2" if progressive else b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, SIDE, SIDE)
    with open(path, "wb") as fh:
        fh.write(bytes(data[:-2]))   # no EOI
        fh.truncate(size)


@pytest.fixture(scope="module")
def big_pictures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big") / "photos"
    root.mkdir()
    zero = _idat(bytes(SIDE * 3), SIDE, 9)
    for i in range(5):
        _write_png(root / f"zero{i}.png", SIDE, SIDE, 2, zero, f"copy {i}")
    pattern = bytes((x * 7) & 0xFF for x in range(SIDE * 4))
    _write_png(root / "rgba.png", SIDE, SIDE, 6, _idat(pattern, SIDE, 6), "rgba")
    _write_sparse_jpeg(root / "sparse.jpg", 1000 << 20)
    _write_sparse_jpeg(root / "progressive.jpg", 8 << 20, progressive=True)
    return root


# -- the pieces -----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "I;16", "RGB", "L"])
def test_strip_reduction_equals_a_whole_image_flatten_and_reduce(mode: str) -> None:
    rng = np.random.default_rng(4)
    base = Image.fromarray(rng.integers(0, 255, (301, 257, 4), dtype=np.uint8), "RGBA")
    if mode == "I;16":
        im = Image.fromarray(rng.integers(0, 65535, (301, 257), dtype=np.uint16))
    elif mode == "P":
        im = base.convert("RGB").quantize(64)
        im.info["transparency"] = 3
    else:
        im = base.convert(mode)
    for factor in (2, 7):
        expected = colour.flatten(im).reduce(factor)
        got = decode.reduce_in_strips(im, factor)
        assert got.mode == expected.mode and got.size == expected.size
        assert np.array_equal(np.asarray(got), np.asarray(expected))


def test_big_decodes_take_turns_and_small_ones_pass_alongside() -> None:
    gate = memory.MemoryGate(1000)
    inside: list[int] = []
    most = [0]
    lock = threading.Lock()

    def work(cost: int) -> None:
        with gate.admit(cost):
            with lock:
                inside.append(cost)
                most[0] = max(most[0], sum(inside))
            time.sleep(0.02)
            with lock:
                inside.remove(cost)

    threads = [threading.Thread(target=work, args=(c,)) for c in (700, 700, 10, 700, 10, 2000, 10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    assert most[0] <= 2000          # the picture bigger than the whole budget ran, alone
    assert gate.peak_used <= 2000 and gate._used == 0 and gate._admitted == 0


def test_costs_follow_what_a_decode_holds() -> None:
    band = (256, 256)
    # a JPEG decodes at 1/8 at most: a few tens of MB even at the bomb limit
    assert decode.decode_cost((SIDE, SIDE), "RGB", "JPEG", band) < 100 << 20
    png = decode.decode_cost((SIDE, SIDE), "RGBA", "PNG", band)
    assert SIDE * SIDE * 4 <= png < SIDE * SIDE * 4 * 1.4
    assert decode.decode_cost((4000, 3000), "RGB", "PNG", band) < 200 << 20


def test_a_progressive_jpeg_costs_its_coefficients(big_pictures: Path) -> None:
    with open(big_pictures / "progressive.jpg", "rb") as fh:
        cost = decode.header_cost(fh, "JPEG", (256, 256))
        assert fh.tell() == 0
    with open(big_pictures / "sparse.jpg", "rb") as fh:
        baseline = decode.header_cost(fh, "JPEG", (256, 256))
    assert cost is not None and baseline is not None
    assert cost - baseline >= SIDE * SIDE * 3 - (1 << 20)     # 4:2:0, 2 bytes a coefficient


@pytest.mark.parametrize("mode,options", [("RGB", {}), ("RGB", {"progressive": True}), ("L", {"progressive": True}),
                                          ("CMYK", {}), ("RGB", {"subsampling": 0, "progressive": True})])
def test_the_quick_jpeg_frame_reader_agrees_with_pillow(mode: str, options: dict[str, object]) -> None:
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Maker" * 200     # a big APP1 before the frame header, to skip
    Image.new(mode, (333, 217)).save(buf, "JPEG", exif=exif.tobytes(), **options)
    buf.seek(0)
    frame = decode._jpeg_frame(buf)
    buf.seek(0)
    with Image.open(buf) as im:
        assert frame == (im.size, im.mode, decode._jpeg_coefficient_bytes(im))
    assert (frame[2] > 0) == bool(options.get("progressive"))


# -- the whole scan, in a process of its own ------------------------------------------------

_MEASURE = """
import atexit, json, resource, sys
def report():
    print("PEAK " + json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), file=sys.stderr)
atexit.register(report)
from lumina_desktop.__main__ import main
sys.argv = ["lumina-desktop", *sys.argv[1:]]
sys.exit(main())
"""


@pytest.mark.db
@pytest.mark.slow
def test_scan_of_huge_pictures_stays_within_the_memory_budget(test_db, big_pictures: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "LUMINA_DATA_DIR": str(tmp_path / "data"), "LUMINA_CONFIG_DIR": str(tmp_path / "cfg"),
           "LUMINA_MEMORY_BUDGET_MB": str(BUDGET_MB)}
    env.pop("LUMINA_THUMBNAIL_CACHE_DIR", None)
    started = time.monotonic()
    res = subprocess.run([sys.executable, "-c", _MEASURE, "--database-url", test_db.conninfo, "scan",
                          str(big_pictures), "--catalog", "Huge"],
                         capture_output=True, text=True, timeout=170, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    peak_mb = json.loads(res.stderr.rsplit("PEAK ", 1)[1].split()[0]) / 1024   # ru_maxrss: KiB on Linux
    print(f"peak RSS {peak_mb:.0f} MB in {time.monotonic() - started:.1f} s")
    assert peak_mb < BUDGET_MB, f"peak RSS {peak_mb:.0f} MB is over the {BUDGET_MB} MB budget"
    assert "8 files: " in res.stdout and "Traceback" not in res.stderr, res.stdout + res.stderr
    with psycopg.connect(test_db.conninfo) as conn:
        rows = conn.execute("SELECT file_name, status, width, height, thumb_sizes, content_hash, error "
                            "FROM photos ORDER BY file_name").fetchall()
    assert len(rows) == 8
    thumbs = tmp_path / "data" / "thumbnails"
    for name, status, width, height, sizes, content_hash, error in rows:
        if status == "error":     # undecodable is allowed, as a per-item error with its reason
            assert error, name
            continue
        assert status == "ok" and (width, height) == (SIDE, SIDE), (name, status, error)
        assert 256 in sizes, name
        path = thumbs / content_hash[:2] / content_hash[2:4] / f"{content_hash}_256.jpg"
        with Image.open(path) as im:
            assert max(im.size) == 256
    assert sum(1 for r in rows if r[1] == "ok") >= 6   # every PNG is ingested, none refused
