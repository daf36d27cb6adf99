"""The trash round trip from the command line, on a folder with every kind of copy: `duplicates
resolve` for every tier, then `undo --all`, leaves the folder byte-identical, and no picture
ever loses its last copy on the way."""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.db


def picture(path: Path, seed: int, size: tuple[int, int] = (640, 480)) -> Path:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (size[1] // 20, size[0] // 20, 3), dtype=np.uint8)
    im = Image.fromarray(base).resize(size, Image.BICUBIC)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, "JPEG", quality=92)
    return path


def with_comment(src: Path, dst: Path, text: bytes) -> Path:
    """The same JPEG image data with a COM segment added: same picture, other metadata."""
    data = src.read_bytes()
    seg = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(data[:2] + seg + data[2:])
    return dst


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def cli(test_db, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "LUMINA_DATA_DIR": str(tmp_path / "data"), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    return subprocess.run([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo, *args],
                          capture_output=True, text=True, timeout=180, env=env)


def test_resolve_every_tier_then_undo_all_is_byte_identical(test_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    pictures = {}
    for i in range(4):
        src = picture(lib / "camera" / f"IMG_{i}.jpg", i)
        pictures[i] = src
        (lib / "backup").mkdir(exist_ok=True)
        shutil.copy2(src, lib / "backup" / f"IMG_{i}.jpg")                     # a byte copy
        with_comment(src, lib / "edited" / f"IMG_{i}_tagged.jpg", f"tagged {i}".encode())
        small = Image.open(src).resize((320, 240), Image.LANCZOS)
        buf = io.BytesIO()
        small.save(buf, "JPEG", quality=80)
        (lib / "small").mkdir(exist_ok=True)
        (lib / "small" / f"IMG_{i}_small.jpg").write_bytes(buf.getvalue())
    picture(lib / "camera" / "unique.jpg", 99)
    before = digest(lib)
    res = cli(test_db, tmp_path, "scan", str(lib), "--catalog", "RT", "--all")
    assert res.returncode == 0, res.stderr
    stats = cli(test_db, tmp_path, "duplicates", "stats", "--catalog", "RT").stdout
    assert "identical" in stats
    dry = cli(test_db, tmp_path, "duplicates", "resolve", "--catalog", "RT", "--tier", "identical", "--dry-run")
    assert dry.returncode == 0 and "would move" in dry.stdout and digest(lib) == before   # a dry run moves nothing

    def pictures_left() -> set[int]:
        """Which of the 4 pictures (and the unique one) still have a file in the folder."""
        left = {p for p in lib.rglob("*.jpg")}
        seen = set()
        for i in range(4):
            if any(p.name.startswith(f"IMG_{i}") for p in left):
                seen.add(i)
        if (lib / "camera" / "unique.jpg").exists():
            seen.add(99)
        return seen

    ops = []
    for tier in ("identical", "same_picture", "near_copy"):
        res = cli(test_db, tmp_path, "duplicates", "resolve", "--catalog", "RT", "--tier", tier)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "Traceback" not in res.stderr
        if "operation " in res.stdout:
            ops.append(res.stdout.split("operation ", 1)[1].split(":", 1)[0])
        assert pictures_left() == {0, 1, 2, 3, 99}, (tier, res.stdout)     # never the last copy
    assert len(ops) >= 2 and len(digest(lib)) < len(before)
    listed = cli(test_db, tmp_path, "operations", "list").stdout
    assert all(op in listed for op in ops)
    res = cli(test_db, tmp_path, "undo", "--all")
    assert res.returncode == 0, res.stdout + res.stderr
    assert digest(lib) == before
    again = cli(test_db, tmp_path, "undo", ops[0])
    assert again.returncode == 0 and "no files in the trash" in again.stdout
    bad = cli(test_db, tmp_path, "undo", "999999")
    assert bad.returncode != 0 and "there is no operation 999999" in bad.stderr and "Traceback" not in bad.stderr
