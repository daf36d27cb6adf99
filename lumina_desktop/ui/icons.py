"""Resource locator and icon loading (GUI thread): the only code that knows where assets live.

Toolbar and menu icons are monochrome SVGs drawn with ``currentColor``; :func:`themed_icon`
paints them in the application palette's text colour at the moment they are drawn, so they
read on the dark and the light theme alike and follow a live theme switch without reloading.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize
from PySide6.QtGui import QGuiApplication, QIcon, QIconEngine, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

_PIXMAP_CACHE_MAX = 64   # per icon: sizes × modes × palettes in use, a handful in practice


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


@lru_cache(maxsize=None)
def _svg_text(name: str) -> str:
    p = resource_path("icons", f"{name}.svg")
    return p.read_text(encoding="utf-8") if p.exists() else ""


def _icon_colour(mode: QIcon.Mode) -> str:
    """The palette colour an icon takes in ``mode``, as ``#aarrggbb``."""
    pal = QGuiApplication.palette()
    if mode == QIcon.Mode.Disabled:
        colour = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
    elif mode == QIcon.Mode.Selected:
        colour = pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.HighlightedText)
    else:
        colour = pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)
    return colour.name(colour.NameFormat.HexArgb)


class ThemedIconEngine(QIconEngine):
    """Paints one ``currentColor`` SVG in the palette's text colour for the icon's mode."""

    def __init__(self, name: str, svg: str) -> None:
        super().__init__()
        self._name = name
        self._svg = svg
        self._renderers: dict[str, QSvgRenderer] = {}
        self._pixmaps: dict[tuple[int, int, int, str, float], QPixmap] = {}

    def _renderer(self, argb: str) -> QSvgRenderer:
        r = self._renderers.get(argb)
        if r is None:
            # SVG has no #aarrggbb: the colour goes in as #rrggbb, its alpha as the opacity
            rgb, alpha = "#" + argb[3:], int(argb[1:3], 16) / 255
            svg = self._svg.replace("currentColor", rgb).replace("<svg ", f'<svg opacity="{alpha:.3f}" ', 1)
            r = self._renderers[argb] = QSvgRenderer(QByteArray(svg.encode("utf-8")))
        return r

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        self._renderer(_icon_colour(mode)).render(painter, QRectF(rect))

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        argb = _icon_colour(mode)
        key = (size.width(), size.height(), int(mode.value), argb, scale)
        pm = self._pixmaps.get(key)
        if pm is None:
            w, h = max(1, round(size.width() * scale)), max(1, round(size.height() * scale))
            img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
            img.fill(0)
            p = QPainter(img)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            self._renderer(argb).render(p, QRectF(0, 0, w, h))
            p.end()
            pm = QPixmap.fromImage(img)
            pm.setDevicePixelRatio(scale)
            if len(self._pixmaps) >= _PIXMAP_CACHE_MAX:
                self._pixmaps.clear()
            self._pixmaps[key] = pm
        return pm

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:
        return size

    def clone(self) -> QIconEngine:
        return ThemedIconEngine(self._name, self._svg)

    def key(self) -> str:
        return "lumina-themed-svg"

    def iconName(self) -> str:
        return self._name


def themed_icon(name: str) -> QIcon:
    """``resources/icons/<name>.svg`` in the current palette's text colour (a null icon if absent)."""
    svg = _svg_text(name)
    return QIcon(ThemedIconEngine(name, svg)) if svg else QIcon()
