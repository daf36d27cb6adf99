"""The wheel carries what the installed app needs: migrations, resources, entry points."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contents(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    (wheel,) = tmp_path.glob("lumina_desktop-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = sorted(p.name for p in (ROOT / "lumina_desktop" / "db" / "migrations").glob("*.sql"))
    assert migrations and all(f"lumina_desktop/db/migrations/{m}" in names for m in migrations)
    for p in (ROOT / "resources").rglob("*"):
        if p.is_file():
            assert f"lumina_desktop/resources/{p.relative_to(ROOT / 'resources').as_posix()}" in names, p
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry).decode()
    assert "lumina-desktop = lumina_desktop.__main__:main" in text
    assert "lumina-desktop-gui = lumina_desktop.__main__:gui_main" in text
    assert not any(n.startswith("tests/") for n in names)
