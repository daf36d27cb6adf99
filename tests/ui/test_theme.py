"""The window's colours: a neutral dark theme by default, light on request, switched live from
View › Theme; the toolbar's icons follow; the grid's names stay readable in both."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication

from lumina_desktop.config import load_settings, write_settings_file
from lumina_desktop.core.errors import ConfigError
from lumina_desktop.ui.app import create_application
from lumina_desktop.ui.icons import themed_icon
from lumina_desktop.ui.theme import THEMES, apply_theme, build_palette, current_theme
from lumina_desktop.ui.windows.main_window import MainWindow
from tests.ui.review_support import kept_look
from tests.ui.test_main_window import library, shot, window  # noqa: F401  (the window fixture)

pytestmark = pytest.mark.ui
Role = QPalette.ColorRole


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two opaque colours."""

    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.fixture(autouse=True)
def app_colours() -> Iterator[QApplication]:
    """The QApplication is shared by the whole run: put its style, palette and sheet back."""
    app = create_application()
    with kept_look(app):
        yield app


# -- the setting
def test_theme_setting_from_file_and_env_with_a_clear_error(tmp_path: Path) -> None:
    assert load_settings(environ={}, config_dir=tmp_path).theme == "dark"
    write_settings_file(tmp_path / "settings.json", {"theme": "light"})
    s = load_settings(environ={}, config_dir=tmp_path)
    assert s.theme == "light" and ("theme", "light", "settings file") in s.describe()
    assert load_settings(environ={"LUMINA_THEME": "dark"}, config_dir=tmp_path).theme == "dark"
    with pytest.raises(ConfigError, match="theme from environment variable LUMINA_THEME must be one of dark, light; "
                                          "got 'blue'"):
        load_settings(environ={"LUMINA_THEME": "blue"}, config_dir=tmp_path)
    write_settings_file(tmp_path / "settings.json", {"theme": "solarized"})
    with pytest.raises(ConfigError, match="theme from settings file .* must be one of dark, light"):
        load_settings(environ={}, config_dir=tmp_path)


# -- the palettes
def test_the_default_setting_gives_the_dark_fusion_theme(app_colours: QApplication, tmp_path: Path) -> None:
    settings = load_settings(environ={}, config_dir=tmp_path)
    apply_theme(app_colours, settings.theme)   # what ui.app.run does before the first window
    assert current_theme(app_colours) == "dark"
    assert app_colours.palette().color(Role.Window).lightness() < 80
    assert app_colours.palette().color(Role.Base).lightness() < 80


def test_light_theme_and_an_unknown_name(app_colours: QApplication) -> None:
    apply_theme(app_colours, "light")
    assert current_theme(app_colours) == "light"
    assert app_colours.palette().color(Role.Window).lightness() > 200
    with pytest.raises(ConfigError, match="unknown theme 'sepia'; choose one of dark, light"):
        apply_theme(app_colours, "sepia")
    assert current_theme(app_colours) == "light"


@pytest.mark.parametrize("name", sorted(THEMES))
def test_text_is_readable_and_the_greys_are_neutral(name: str) -> None:
    pal = build_palette(name)
    c = pal.color
    for fg, bg in ((Role.Text, Role.Base), (Role.Text, Role.AlternateBase), (Role.WindowText, Role.Window),
                   (Role.ButtonText, Role.Button), (Role.HighlightedText, Role.Highlight),
                   (Role.PlaceholderText, Role.Window), (Role.PlaceholderText, Role.Base),
                   (Role.ToolTipText, Role.ToolTipBase), (Role.Link, Role.Window)):
        assert contrast(c(fg), c(bg)) >= 4.5, (name, fg, bg)
    disabled = pal.color(QPalette.ColorGroup.Disabled, Role.Text)
    assert contrast(disabled, c(Role.Base)) < contrast(c(Role.Text), c(Role.Base))   # visibly greyed
    for role in (Role.Window, Role.WindowText, Role.Base, Role.AlternateBase, Role.Text, Role.Button, Role.Mid,
                 Role.Light, Role.Dark, Role.PlaceholderText):
        col = c(role)
        assert col.red() == col.green() == col.blue(), (name, role)   # no colour cast
    hl = c(Role.Highlight)
    assert hl.hsvSaturation() < 140      # a muted accent


@pytest.mark.parametrize("name", sorted(THEMES))
def test_grid_names_are_readable(app_colours: QApplication, qtbot, name: str) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.ui.widgets.photo_grid_view import PhotoGridView

    apply_theme(app_colours, name)
    view = PhotoGridView()
    qtbot.addWidget(view)
    text = QColor.fromRgba(view.delegate.cell_style.text_rgba)
    assert contrast(text, view.palette().color(Role.Base)) >= 4.5


def test_icons_take_the_palette_text_colour(app_colours: QApplication) -> None:
    icon = themed_icon("review")
    assert not icon.isNull() and themed_icon("no-such-icon").isNull()

    def ink() -> QColor:   # the darkest / lightest opaque pixel, whichever differs from nothing
        img = icon.pixmap(QSize(48, 48)).toImage()
        px = [img.pixelColor(x, y) for x in range(48) for y in range(48)]
        return max((p for p in px if p.alpha() > 200), key=lambda p: p.alpha())

    apply_theme(app_colours, "dark")
    on_dark = ink()
    apply_theme(app_colours, "light")
    on_light = ink()
    assert on_dark.lightness() > 180 and on_light.lightness() < 80


# -- the window
@pytest.mark.db
@pytest.mark.slow
def test_toolbar_undo_and_live_theme_switch(window: MainWindow, qtbot, tmp_path: Path,  # noqa: F811
                                            app_colours: QApplication) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.ui.models.roles import PhotoRole

    window.set_theme("dark", save=False)
    buttons = [a for a in window.toolbar.actions() if not a.isSeparator()]
    assert [a.iconText() for a in buttons] == ["Add folder", "Rescan", "Find duplicates", "Review", "Jobs"]
    assert all(not a.icon().isNull() and a.isEnabled() for a in buttons)
    assert window.add_folder_action in buttons and window.rescan_action in buttons   # the menus' own actions
    assert any(a in buttons for a in window.job_actions)
    # Edit › Undo: a placeholder the review views fill in
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert window.undo_action in edit.actions()
    assert window.undo_action.shortcut() == QKeySequence("Ctrl+Z") and not window.undo_action.isEnabled()
    assert [a.text() for a in window.menuBar().actions()][:2] == ["&File", "&Edit"]
    # Jobs toggles the dock, and follows it
    window.jobs_dock.hide()
    assert not window.jobs_action.isChecked()
    window.jobs_action.trigger()
    assert window.jobs_dock.isVisible() and window.jobs_action.isChecked()

    window.library.add_folders([str(library(tmp_path, 24))])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.browser is not None and window.browser.model.rowCount() == 24, timeout=60000)
    browser = window.browser
    assert browser is not None
    model, view = browser.model, browser.view
    view.select_photo_ids([model.photo_id_at(0)])   # a selected cell and the details panel, in the shots

    def cells_composed() -> bool:   # every visible cell drawn in the current look (not an older one, kept meanwhile)
        first, last = view.visible_rows()
        summaries = [model.data(model.index(r, 0), PhotoRole.Summary) for r in range(first, last + 1)]
        return last >= 0 and all(s is not None and browser.loader.pixmap_for(model.thumbnail_request(s).key)
                                 is not None for s in summaries)

    qtbot.waitUntil(cells_composed, timeout=20000)
    # at least two rows of four at 1280 × 800 (checked below)
    cols = view.viewport().width() // view.gridSize().width()
    assert cols >= 4, (cols, view.viewport().width(), view.gridSize().width(), window.sidebar.width(), browser.details.width())
    dark_text = QColor.fromRgba(view.delegate.cell_style.text_rgba)
    assert contrast(dark_text, view.palette().color(Role.Base)) >= 4.5
    shot(window, "theme-dark")

    # View › Theme › Light: applied at once, saved for the next start
    view_menu = window.view_menu
    theme_menu = next(a.menu() for a in view_menu.actions() if a.menu() is not None and a.text() == "&Theme")
    light = next(a for a in theme_menu.actions() if a.text() == "&Light")
    light.trigger()
    assert current_theme(app_colours) == "light" and light.isChecked()
    assert app_colours.palette().color(Role.Window).lightness() > 200
    light_text = QColor.fromRgba(view.delegate.cell_style.text_rgba)
    assert light_text != dark_text and contrast(light_text, view.palette().color(Role.Base)) >= 4.5
    settings_file = window.ctx.settings.settings_path
    qtbot.waitUntil(lambda: settings_file.exists() and json.loads(settings_file.read_text()).get("theme") == "light",
                    timeout=5000)
    assert window.ctx.settings.theme == "light"
    assert load_settings(environ={}, config_dir=tmp_path).theme == "light"
    qtbot.waitUntil(cells_composed, timeout=20000)
    shot(window, "theme-light")
    _shoot_the_rest(window, qtbot, "light")
    window.set_theme("dark")
    qtbot.waitUntil(lambda: json.loads(settings_file.read_text()).get("theme") == "dark", timeout=5000)
    qtbot.waitUntil(cells_composed, timeout=20000)
    shot(window, "theme-dark-again")     # back from light: nothing left in the light colours
    _shoot_the_rest(window, qtbot, "dark")


def _shoot_the_rest(window: MainWindow, qtbot, name: str) -> None:  # type: ignore[no-untyped-def]
    """Settings dialog, viewer and empty state in one theme (saved only with LUMINA_SCREENSHOTS)."""
    from tests.ui.test_main_window import SHOTS

    if not SHOTS:
        return
    from lumina_desktop.ui.windows.preferences_dialog import PreferencesDialog

    dlg = PreferencesDialog(window.ctx.settings, window, stages=window.ctx.registry.stage_choices())
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.grab().save(str(Path(SHOTS) / f"theme-{name}-settings.png"))
    dlg.close()
    dlg.deleteLater()
    browser = window.browser
    assert browser is not None
    viewer = browser.open_viewer(browser.model.photo_id_at(0))
    qtbot.waitUntil(lambda: viewer.photo_id is not None, timeout=10000)
    viewer.resize(900, 600)
    viewer.grab().save(str(Path(SHOTS) / f"theme-{name}-viewer.png"))
    browser.close_viewer()
    window.stack.setCurrentWidget(window.empty)
    window.empty.show_message("Your catalog is empty", "Add a folder of photos to get started.", can_add=True)
    shot(window, f"theme-{name}-empty")
    window.stack.setCurrentWidget(browser)


def test_settings_dialog_offers_the_theme_and_saves_in_order(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    from lumina_desktop.ui.windows.preferences_dialog import PreferencesDialog, SettingsSaver

    settings = load_settings({"data_dir": str(tmp_path / "d")}, environ={}, config_dir=tmp_path)
    dlg = PreferencesDialog(settings)
    qtbot.addWidget(dlg)
    assert dlg.theme.currentData() == "dark" and dlg.changed_values() == {}
    dlg.theme.setCurrentIndex(dlg.theme.findData("light"))
    assert dlg.changed_values() == {"theme": "light"}
    # switched back and forth quickly: two writers, and the last choice is what stays
    with ThreadPoolExecutor(2) as io:
        saver = SettingsSaver(io)
        for name in ("light", "dark", "light", "dark", "light"):
            saver.save(settings.settings_path, {"theme": name})
    assert load_settings(environ={}, config_dir=tmp_path).theme == "light"
