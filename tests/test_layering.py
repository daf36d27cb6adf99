"""House-style B1: Qt only under ui/, imports point one way (import-linter + fresh-process check)."""
from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import lumina_desktop

QT_FREE = ("lumina_desktop.core", "lumina_desktop.db", "lumina_desktop.analysis",
           "lumina_desktop.jobs", "lumina_desktop.services", "lumina_desktop.cli", "lumina_desktop.config", "lumina_desktop.log")


def _qt_free_modules() -> list[str]:
    names = ["lumina_desktop", "lumina_desktop.config", "lumina_desktop.log", "lumina_desktop.__main__"]
    for info in pkgutil.walk_packages(lumina_desktop.__path__, "lumina_desktop."):
        if info.name.startswith(QT_FREE) and not info.name.startswith("lumina_desktop.ui"):
            names.append(info.name)
    return sorted(set(names))


def test_qt_free_packages_do_not_import_qt() -> None:
    modules = _qt_free_modules()
    assert "lumina_desktop.db.cluster" in modules and "lumina_desktop.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(k for k in sys.modules if k.startswith(('PySide6', 'shiboken6')))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_package_import_is_light() -> None:
    code = ("import sys, lumina_desktop\n"
            "heavy = [m for m in ('PySide6', 'psycopg', 'PIL', 'numpy') if m in sys.modules]\n"
            "sys.exit(1 if heavy else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is a test dependency"
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run([exe, "--no-cache"], cwd=root, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "broken" in res.stdout.lower() and "0 broken" in res.stdout.lower()
