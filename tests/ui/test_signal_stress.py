"""Regression: PySide6 6.12.0 on Python 3.11 aborted after ~570 signal emissions (lessons.md)."""
from __future__ import annotations

import subprocess
import sys

CODE = r"""
import os, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class Emitter(QObject):
    fired = Signal(bool)
    progressed = Signal(int, str, object)
got = []
e = Emitter()
e.fired.connect(lambda flag: got.append(flag))
e.progressed.connect(lambda n, s, o: got.append(n))
for i in range(5000):
    e.fired.emit(i % 2 == 0)
    e.progressed.emit(i, "x", None)
assert len(got) == 10000, len(got)
print("ok", len(got))
"""


def test_many_signal_emissions_do_not_crash() -> None:
    res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"exit {res.returncode}: {res.stderr[-2000:]}"
    assert "ok 10000" in res.stdout


def test_installed_pyside6_is_not_the_broken_combination() -> None:
    import PySide6

    if sys.version_info < (3, 12):
        assert PySide6.__version__ != "6.12.0"
