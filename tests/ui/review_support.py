"""What the review-view tests share (burst review, duplicate review): screenshots on request, a
trash of their own, and the app's default dark look.  Import the fixtures into a test module to
use them (both are autouse there)."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest
from PySide6.QtGui import QGuiApplication, QPalette

from lumina_desktop.ui.app import create_application
from lumina_desktop.ui.theme import apply_theme

SHOTS = os.environ.get("LUMINA_SCREENSHOTS")  # a folder: save screenshots there


def shot(widget: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


@pytest.fixture(autouse=True)
def own_trash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The home trash of these tests ($XDG_DATA_HOME/Trash), on the files' file system."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "Trash"


@contextmanager
def kept_look(app: Any) -> Iterator[None]:
    """Whatever the block does to the app's style, palette, sheet and theme is put back after it:
    the QApplication is shared by the whole run."""
    style, palette, sheet = app.style().name(), QPalette(app.palette()), app.styleSheet()
    try:
        yield
    finally:
        app.setStyle(style)
        app.setPalette(palette)
        app.setStyleSheet(sheet)
        app.setProperty("lumina_theme", None)
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "unsetColorScheme"):
            hints.unsetColorScheme()


@pytest.fixture(autouse=True)
def dark_theme() -> Iterator[None]:
    """The app's default look (dark), put back afterwards."""
    app = create_application()
    with kept_look(app):
        apply_theme(app, "dark")
        yield
