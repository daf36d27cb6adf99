"""Resource locator (GUI thread): the only code that knows where assets live."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon


def resources_dir() -> Path:
    """``resources/`` in a source tree, ``lumina_desktop/resources`` in a wheel, or the frozen bundle."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    here = Path(__file__).resolve().parent.parent
    installed = here / "resources"
    if installed.is_dir():
        return installed
    return here.parent / "resources"


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 32, 48, 64, 128, 256, 512):
        p = resource_path("app-icon", f"lumina-{size}.png")
        if p.exists():
            icon.addFile(str(p))
    svg = resource_path("app-icon", "lumina.svg")
    if icon.isNull() and svg.exists():
        icon.addFile(str(svg))
    return icon


def icon(name: str) -> QIcon:
    p = resource_path("icons", f"{name}.svg")
    return QIcon(str(p)) if p.exists() else QIcon()
