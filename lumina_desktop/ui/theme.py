"""Window colours (GUI thread): a neutral dark theme by default, a light one on request.

Photos are judged against neutral grey, as Lightroom, darktable and digiKam do: every grey
here has R = G = B (no colour cast) and the one accent — the selection — is a muted
steel blue.  :func:`apply_theme` sets the Fusion style, a full palette (every role, every
colour group) and a small style sheet for what the palette cannot reach (dock titles, the
toolbar).  Widgets take their colours from the palette (``palette(mid)`` in style sheets,
``QPalette.Text`` for the grid's names), so they follow a live switch; the window refreshes
what caches a colour (the grid's cells).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMenu

from lumina_desktop.config import THEME_CHOICES
from lumina_desktop.core.errors import ConfigError

DEFAULT_THEME = "dark"
THEME_TITLES = {"dark": "&Dark", "light": "&Light"}
_THEME_PROPERTY = "lumina_theme"

Role = QPalette.ColorRole
Group = QPalette.ColorGroup


@dataclass(frozen=True)
class ThemeColours:
    """One theme's colours as ``#rrggbb`` strings (greys are neutral: R = G = B)."""

    window: str
    window_text: str
    base: str
    alternate_base: str
    text: str
    button: str
    button_text: str
    light: str
    midlight: str
    mid: str
    dark: str
    shadow: str
    highlight: str
    highlighted_text: str
    placeholder: str
    link: str
    link_visited: str
    tooltip_base: str
    tooltip_text: str
    disabled_text: str
    disabled_base: str
    disabled_highlight: str
    dock_title: str          # dock title bars: a step away from the window colour
    separator: str           # splitters and toolbar separators


THEMES: dict[str, ThemeColours] = {
    "dark": ThemeColours(
        window="#2e2e2e", window_text="#dedede", base="#232323", alternate_base="#292929",
        text="#e2e2e2", button="#3a3a3a", button_text="#dedede",
        light="#505050", midlight="#444444", mid="#262626", dark="#1c1c1c", shadow="#0c0c0c",
        highlight="#4b6f91", highlighted_text="#ffffff", placeholder="#9a9a9a",
        link="#8ab4e0", link_visited="#b4a2dc", tooltip_base="#3c3c3c", tooltip_text="#eeeeee",
        disabled_text="#707070", disabled_base="#2a2a2a", disabled_highlight="#3f3f3f",
        dock_title="#262626", separator="#1c1c1c",
    ),
    "light": ThemeColours(
        window="#ececec", window_text="#1e1e1e", base="#fbfbfb", alternate_base="#f2f2f2",
        text="#1a1a1a", button="#e2e2e2", button_text="#1e1e1e",
        light="#ffffff", midlight="#f5f5f5", mid="#c6c6c6", dark="#9e9e9e", shadow="#5e5e5e",
        highlight="#4a6f94", highlighted_text="#ffffff", placeholder="#646464",
        link="#245fa8", link_visited="#6a4ba0", tooltip_base="#ffffff", tooltip_text="#1e1e1e",
        disabled_text="#9c9c9c", disabled_base="#f0f0f0", disabled_highlight="#b8b8b8",
        dock_title="#dedede", separator="#c6c6c6",
    ),
}


def build_palette(name: str) -> QPalette:
    """The full palette of theme ``name`` (every role in the active, inactive and disabled groups)."""
    c = _colours(name)
    pal = QPalette()
    roles = {
        Role.Window: c.window, Role.WindowText: c.window_text, Role.Base: c.base,
        Role.AlternateBase: c.alternate_base, Role.Text: c.text, Role.Button: c.button,
        Role.ButtonText: c.button_text, Role.BrightText: "#ffffff", Role.Light: c.light,
        Role.Midlight: c.midlight, Role.Mid: c.mid, Role.Dark: c.dark, Role.Shadow: c.shadow,
        Role.Highlight: c.highlight, Role.HighlightedText: c.highlighted_text,
        Role.PlaceholderText: c.placeholder, Role.Link: c.link, Role.LinkVisited: c.link_visited,
        Role.ToolTipBase: c.tooltip_base, Role.ToolTipText: c.tooltip_text,
        Role.Accent: c.highlight,
    }
    for group in (Group.Active, Group.Inactive, Group.Disabled):
        for role, value in roles.items():
            pal.setColor(group, role, QColor(value))
    for role in (Role.WindowText, Role.Text, Role.ButtonText, Role.PlaceholderText, Role.HighlightedText):
        pal.setColor(Group.Disabled, role, QColor(c.disabled_text))
    pal.setColor(Group.Disabled, Role.Base, QColor(c.disabled_base))
    pal.setColor(Group.Disabled, Role.Highlight, QColor(c.disabled_highlight))
    return pal


def style_sheet(name: str) -> str:
    """What the palette cannot say: dock title bars, a flat toolbar, thin splitters."""
    c = _colours(name)
    return f"""
QDockWidget::title {{
    background: {c.dock_title};
    padding: 4px 8px;
    text-align: left;
}}
QToolBar {{
    background: palette(window);
    border: none;
    border-bottom: 1px solid {c.separator};
    padding: 2px 6px;
    spacing: 2px;
}}
QToolBar::separator {{
    background: {c.separator};
    width: 1px;
    margin: 4px 6px;
}}
QToolBar QToolButton {{
    padding: 3px 6px;
    border: 1px solid transparent;
    border-radius: 4px;
}}
QToolBar QToolButton:hover {{
    background: palette(button);
    border-color: palette(midlight);
}}
QToolBar QToolButton:pressed, QToolBar QToolButton:checked {{
    background: palette(mid);
    border-color: palette(dark);
}}
QMainWindow::separator {{
    background: {c.separator};
    width: 1px;
    height: 1px;
}}
"""


def apply_theme(app: QApplication, name: str) -> None:
    """Fusion + the palette and style sheet of ``name`` ("dark" or "light"), applied at once
    to every widget; a ``ConfigError`` for another name."""
    _colours(name)
    if current_theme(app) is None:   # once: with a style sheet set, app.style() is Qt's sheet wrapper
        app.setStyle("Fusion")
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "setColorScheme"):   # Qt ≥ 6.8: native title bars and dialogs follow
        hints.setColorScheme(Qt.ColorScheme.Dark if name == "dark" else Qt.ColorScheme.Light)
    app.setPalette(build_palette(name))
    app.setStyleSheet(style_sheet(name))   # a new sheet re-polishes every widget: palette(…) rules follow
    app.setProperty(_THEME_PROPERTY, name)


def add_theme_menu(parent: QMenu, active: str, chosen: Callable[[str], None]) -> dict[str, QAction]:
    """A "Theme" submenu of ``parent``: one checkable action per theme (``active`` checked);
    choosing one calls ``chosen(name)``.  Returns the actions by theme name."""
    menu = parent.addMenu("&Theme")
    group = QActionGroup(menu)
    actions: dict[str, QAction] = {}
    for name, title in THEME_TITLES.items():
        a = actions[name] = menu.addAction(title)
        a.setCheckable(True)
        a.setChecked(name == active)
        group.addAction(a)
        a.triggered.connect(lambda _=False, n=name: chosen(n))
    return actions


def current_theme(app: QApplication) -> str | None:
    """The theme last applied by :func:`apply_theme` (None: none yet)."""
    value = app.property(_THEME_PROPERTY)
    return str(value) if value else None


def _colours(name: str) -> ThemeColours:
    try:
        return THEMES[name]
    except KeyError:
        raise ConfigError(f"unknown theme {name!r}; choose one of {', '.join(THEME_CHOICES)}") from None
