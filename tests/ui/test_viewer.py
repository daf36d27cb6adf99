"""The viewer: opens from the grid, decodes the original off-thread, zooms, pans, walks the grid order, closes."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent

from lumina_desktop.services.images import decode_original
from tests.ui.test_browser import ctx, library, make_browser, real_jpeg  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.ui, pytest.mark.db]


def _mouse(kind: QMouseEvent.Type, x: float, y: float, buttons: Qt.MouseButton) -> QMouseEvent:
    p = QPointF(x, y)
    return QMouseEvent(kind, p, p, p, Qt.MouseButton.LeftButton, buttons, Qt.KeyboardModifier.NoModifier)


def test_viewer_opens_navigates_and_closes(qtbot, ctx, library) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    browser = make_browser(qtbot, ctx, library)
    ids = library.ids
    browser.view.select_photo_ids((ids["IMG_0003.jpg"],))
    browser.view.setFocus()
    qtbot.keyClick(browser.view, Qt.Key.Key_Space)
    viewer = browser.viewer
    assert viewer is not None and viewer.isVisible() and viewer.photo_id == ids["IMG_0003.jpg"]
    qtbot.waitUntil(lambda: viewer.current is not None and viewer.current.is_original, timeout=10000)
    assert viewer.canvas.full_size == (240, 320)   # EXIF orientation 6 applied: shown upright
    assert viewer.canvas.is_fit and viewer.canvas.pixmap is not None

    # previous / next walk the grid order
    with qtbot.waitSignal(viewer.current_changed, timeout=2000) as moved:
        qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert moved.args == [ids["IMG_0004.jpg"]]
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    assert viewer.photo_id == ids["IMG_0002.jpg"]
    qtbot.waitUntil(lambda: viewer.current is not None and viewer.current.is_original
                    and viewer.current.photo_id == ids["IMG_0002.jpg"], timeout=10000)
    assert viewer.canvas.full_size == (320, 240)

    # 1 = actual size, F = fit; the wheel zooms about the cursor, dragging pans
    viewer.resize(200, 150)
    qtbot.keyClick(viewer, Qt.Key.Key_Z)
    assert viewer.canvas.scale == 1.0 and not viewer.canvas.is_fit
    before = QPointF(viewer.canvas.center)
    viewer.canvas.mousePressEvent(_mouse(QMouseEvent.Type.MouseButtonPress, 50, 50, Qt.MouseButton.LeftButton))
    viewer.canvas.mouseMoveEvent(_mouse(QMouseEvent.Type.MouseMove, 30, 40, Qt.MouseButton.LeftButton))
    viewer.canvas.mouseReleaseEvent(_mouse(QMouseEvent.Type.MouseButtonRelease, 30, 40, Qt.MouseButton.NoButton))
    assert viewer.canvas.center != before
    qtbot.keyClick(viewer, Qt.Key.Key_F)
    assert viewer.canvas.is_fit and viewer.canvas.scale < 1.0
    viewer.canvas.set_scale(2.0, QPointF(10, 10))
    assert viewer.canvas.scale == 2.0 and "200 %" in viewer.windowTitle()

    # RAW falls back to the stored preview; an unreadable file says so
    qtbot.keyClick(viewer, Qt.Key.Key_End)
    assert viewer.photo_id == ids["broken.jpg"]
    qtbot.waitUntil(lambda: viewer.current is not None and "error" in viewer.current.note, timeout=10000)
    assert viewer.canvas.pixmap is None
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    assert viewer.photo_id == ids["RAW_0001.NEF"]
    qtbot.waitUntil(lambda: viewer.current is not None and "RAW" in viewer.current.note, timeout=10000)
    assert viewer.canvas.pixmap is not None and not viewer.current.is_original

    # Esc closes; the grid selects the photo the viewer showed last
    with qtbot.waitSignal(viewer.closed, timeout=2000):
        qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.isVisible()
    assert browser.selected_photo_ids() == (ids["RAW_0001.NEF"],)


def test_double_click_opens_the_viewer(qtbot, ctx, library) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    browser = make_browser(qtbot, ctx, library)
    qtbot.waitUntil(lambda: browser.view.visualRect(browser.model.index(1, 0)).isValid(), timeout=5000)
    rect = browser.view.visualRect(browser.model.index(1, 0))
    qtbot.mouseClick(browser.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # Qt 6 QTest: the
    qtbot.mouseDClick(browser.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # press comes first
    assert browser.viewer is not None and browser.viewer.photo_id == browser.model.photo_id_at(1)
    browser.viewer.close()


def test_decode_original_is_upright_rgb(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = real_jpeg(tmp_path / "p.jpg", 1, size=(64, 48), orientation=8)
    picture = decode_original(str(path), "JPEG")
    assert (picture.width, picture.height) == (48, 64) and picture.mode == "RGB"
    assert len(picture.data) == 48 * 64 * 3
    with pytest.raises(OSError):
        decode_original(str(tmp_path / "nope.jpg"), "JPEG")


def test_details_and_viewer_say_when_the_database_is_gone(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    from lumina_desktop.ui.widgets.details_panel import DetailsPanel
    from lumina_desktop.ui.windows.viewer_window import ViewerWindow

    from tests.ui.fakes import FakePhotos, FakePictures

    gone = FakePhotos(10)
    gone.fail = "the database server is not running"     # the server stopped, the connection was lost
    with ThreadPoolExecutor(1) as pool:
        panel = DetailsPanel(pool, gone, FakePictures())
        qtbot.addWidget(panel)
        panel.show_photo(7)
        qtbot.waitUntil(lambda: "Could not load this photo" in panel.title_label.text(), timeout=5000)
        assert "not running" in panel.title_label.text() and panel.details is None
        viewer = ViewerWindow(pool, gone, FakePictures())
        qtbot.addWidget(viewer)
        viewer.show_photos((7, 8), 0)
        qtbot.waitUntil(lambda: "Could not load this photo" in (viewer.canvas.message or ""), timeout=5000)
        assert viewer.canvas.pixmap is None
