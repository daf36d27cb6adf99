"""PhotoBrowserWidget on a real catalog: photos and thumbnails show, details, filters, refresh, actions."""
from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication

from lumina_desktop.services.images import PhotoImages
from lumina_desktop.services.photos import PhotoQuery
from lumina_desktop.storage.thumbnails import thumbnail_relpath
from lumina_desktop.config import Settings, load_settings
from lumina_desktop.core.library import SmartView, PhotoFlag, SortKey, SortOrder
from lumina_desktop.ui.models.roles import PhotoRole
from lumina_desktop.ui.widgets.photo_browser import PhotoBrowserWidget
from tests.db.test_library import add_photo

pytestmark = [pytest.mark.ui, pytest.mark.db]
COLOURS = [(200, 40, 40), (40, 160, 60), (40, 60, 200), (220, 180, 30), (120, 40, 160), (30, 170, 170)]


def chash(i: int) -> str:
    return f"{i % len(COLOURS) + 1:02x}" * 32


def write_thumbs(root: Path) -> None:
    """256 and 1280 px thumbnails, one flat colour per content hash."""
    for i, colour in enumerate(COLOURS):
        for px in (256, 1280):
            buf = io.BytesIO()
            Image.new("RGB", (px, px * 3 // 4), colour).save(buf, "JPEG", quality=90)
            path = root / thumbnail_relpath(chash(i), px)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(buf.getvalue())


def real_jpeg(path: Path, seed: int, size: tuple[int, int] = (320, 240), orientation: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    im = Image.fromarray(rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)).resize(size)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, "JPEG", quality=85, exif=exif)
    return path


@dataclass
class Library:
    catalog_id: int
    folders: tuple[int, int]
    ids: dict[str, int] = field(default_factory=dict)


@dataclass
class Ctx:
    """What PhotoBrowserWidget needs of the app context."""

    settings: Settings
    db: Any
    io: ThreadPoolExecutor


@pytest.fixture
def ctx(db, tmp_path: Path) -> Iterator[Ctx]:  # type: ignore[no-untyped-def]
    settings = load_settings({"data_dir": str(tmp_path / "data")}, environ={}, config_dir=tmp_path)
    write_thumbs(settings.thumbnails_dir)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-browser-io")
    yield Ctx(settings, db, pool)
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def library(ctx: Ctx, tmp_path: Path) -> Library:
    """24 photos in two folders: real JPEG files (the viewer decodes them), a RAW, an error, a missing file."""
    root = tmp_path / "photos"
    with ctx.db.connection() as conn:
        cat = conn.execute("INSERT INTO catalogs (name) VALUES ('Browse') RETURNING id").fetchone()[0]
        fa, fb = (conn.execute("INSERT INTO catalog_folders (catalog_id, path) VALUES (%s, %s) RETURNING id",
                               (cat, str(root / sub))).fetchone()[0] for sub in ("a", "b"))
        lib = Library(cat, (fa, fb))
        t0 = datetime(2022, 7, 1, 9, 0)
        for i in range(22):
            name = f"IMG_{i:04d}.jpg"
            folder, sub = (fa, "a") if i < 14 else (fb, "b")
            path = real_jpeg(root / sub / name, i, orientation=6 if i == 3 else 1)
            lib.ids[name] = add_photo(conn, cat, folder, name, path=str(path), size_bytes=path.stat().st_size,
                                      content_hash=chash(i), capture_time=t0 + timedelta(minutes=i),
                                      width=240 if i == 3 else 320, height=320 if i == 3 else 240,
                                      file_type="JPEG", format="JPEG", camera_make="Canon",
                                      camera_model="Canon EOS R5" if i % 2 else "Canon EOS 90D",
                                      lens="RF 24-70mm F2.8", iso=400, aperture=2.8, shutter_s=1 / 250,
                                      focal_length_mm=35, gps_lat=48.8584, gps_lon=2.2945,
                                      date_source="exif", date_confidence="high", rating=i % 6)
        lib.ids["RAW_0001.NEF"] = add_photo(conn, cat, fb, "RAW_0001.NEF", path=str(root / "b" / "RAW_0001.NEF"),
                                            kind="raw", file_type="NEF", content_hash=chash(4),
                                            capture_time=t0 + timedelta(hours=2), size_bytes=25_000_000)
        lib.ids["broken.jpg"] = add_photo(conn, cat, fb, "broken.jpg", path=str(root / "b" / "broken.jpg"),
                                          status="error", kind=None, thumb_sizes=[], error_reason="truncated",
                                          error="truncated: image file is truncated", capture_time=None)
        conn.commit()
    return lib


def browser_on(ctx: Ctx) -> PhotoBrowserWidget:
    """The browser on the real services over ``ctx.db``."""
    return PhotoBrowserWidget(ctx.io, PhotoQuery(ctx.db), PhotoImages(ctx.settings.thumbnails_dir))


def make_browser(qtbot, ctx: Ctx, lib: Library) -> PhotoBrowserWidget:  # type: ignore[no-untyped-def]
    browser = browser_on(ctx)
    qtbot.addWidget(browser)
    browser.resize(1100, 700)
    browser.show()
    with qtbot.waitSignal(browser.count_changed, timeout=10000) as blocker:
        browser.set_catalog(lib.catalog_id)
    assert blocker.args == [24]
    return browser


def thumbs_shown(browser: PhotoBrowserWidget, rows: range) -> bool:
    m = browser.model
    return all(m.data(m.index(r, 0), PhotoRole.Thumbnail) is not None for r in rows)


def test_browser_shows_photos_with_thumbnails(qtbot, ctx, library) -> None:  # type: ignore[no-untyped-def]
    browser = make_browser(qtbot, ctx, library)
    assert browser.count_label.text() == "24 photos"
    first = library.ids["IMG_0000.jpg"]
    assert browser.model.photo_id_at(0) == first   # date taken, oldest first
    qtbot.waitUntil(lambda: thumbs_shown(browser, range(0, 6)), timeout=10000)
    # the painted grid shows the thumbnail's colour in the first cell
    image = browser.view.viewport().grab().toImage()
    rect = browser.view.visualRect(browser.model.index(0, 0))
    pixel = QColor(image.pixel(rect.center().x(), rect.top() + 6 + browser.view.thumb_px // 2))
    assert abs(pixel.red() - COLOURS[0][0]) < 30 and abs(pixel.green() - COLOURS[0][1]) < 30
    # the broken file has no thumbnail: its cell is a placeholder with the error badge
    row = browser.model.row_of(library.ids["broken.jpg"])
    browser.view.scrollTo(browser.model.index(row, 0))
    qtbot.waitUntil(lambda: thumbs_shown(browser, range(row, row + 1)), timeout=10000)
    assert browser.model.data(browser.model.index(row, 0), PhotoRole.Status) == "error"
    assert PhotoFlag(browser.model.data(browser.model.index(row, 0), PhotoRole.Flags)) & PhotoFlag.ERROR
    image = browser.view.viewport().grab().toImage()
    rect = browser.view.visualRect(browser.model.index(row, 0))
    badge = QColor(image.pixel(rect.center().x() + browser.view.thumb_px // 2 - 10, rect.top() + 6 + 22 + 10))
    assert badge.red() > 150 and badge.green() < 90   # the red "!" circle, top right of the frame


def test_selection_shows_details(qtbot, ctx, library) -> None:  # type: ignore[no-untyped-def]
    browser = make_browser(qtbot, ctx, library)
    pid = library.ids["IMG_0005.jpg"]
    with qtbot.waitSignal(browser.selection_changed, timeout=5000) as sel:
        browser.view.select_photo_ids((pid,))
    assert sel.args == [(pid,)] and browser.selected_photo_ids() == (pid,)
    panel = browser.details
    qtbot.waitUntil(lambda: panel.details is not None and panel.details.id == pid, timeout=10000)
    v = panel.values
    assert panel.title_label.text() == "IMG_0005.jpg"
    assert v["Camera"].text() == "Canon EOS R5" and v["Lens"].text() == "RF 24-70mm F2.8"
    assert v["Exposure"].text() == "1/250 s · f/2.8 · ISO 400 · 35 mm"
    assert v["Taken"].text().startswith("2022-07-01 09:05:00") and "EXIF, high confidence" in v["Taken"].text()
    assert "48.85840° N, 2.29450° E" in v["Location"].text() and v["Dimensions"].text() == "320 × 240 px"
    shown = {k: label.text().replace("\u200b", "") for k, label in v.items()}  # wrap points are invisible
    assert shown["Path"].endswith("a/IMG_0005.jpg") and shown["Content hash"] == chash(5)
    assert panel.preview_label.pixmap() is not None and not panel.preview_label.pixmap().isNull()
    assert not panel.problems_label.isVisible()
    # a refresh (once a second during a scan) re-reads the row but keeps the decoded preview
    preview = panel._preview  # noqa: SLF001
    with qtbot.waitSignal(panel.details_shown, timeout=5000) as shown:
        panel.refresh()
    assert shown.args == [pid] and panel._preview is preview  # noqa: SLF001
    # an error shows its reason
    with qtbot.waitSignal(browser.selection_changed, timeout=5000):
        browser.view.select_photo_ids((library.ids["broken.jpg"],))
    qtbot.waitUntil(lambda: panel.details is not None and panel.details.status == "error", timeout=10000)
    assert "truncated" in panel.problems_label.text() and panel.problems_label.isVisible()
    # several selected: the panel says so, selection leaves as ids in grid order
    a, b = library.ids["IMG_0001.jpg"], library.ids["IMG_0002.jpg"]
    with qtbot.waitSignal(browser.selection_changed, timeout=5000) as many:
        browser.view.select_photo_ids((b, a), current=b)
    assert many.args == [(a, b)]
    qtbot.waitUntil(lambda: "(2 selected)" in panel.title_label.text(), timeout=5000)


def test_filters_sort_and_smart_views(qtbot, ctx, library) -> None:  # type: ignore[no-untyped-def]
    browser = make_browser(qtbot, ctx, library)
    with qtbot.waitSignal(browser.count_changed, timeout=5000) as errors:
        browser.set_smart_view("errors")
    assert errors.args == [1] and browser.filter_bar.view_combo.currentData() == "errors"
    with qtbot.waitSignal(browser.count_changed, timeout=5000) as everything:
        browser.set_smart_view("all")
    assert everything.args == [24]
    with qtbot.waitSignal(browser.count_changed, timeout=5000) as folder_b:
        browser.set_folder(library.folders[1])
    assert folder_b.args == [10]
    # typing in the search box filters after the debounce, within the chosen folder
    with qtbot.waitSignal(browser.count_changed, timeout=5000) as searched:
        browser.filter_bar.search_edit.setText("img_001")
    assert searched.args == [6]   # IMG_0014 … IMG_0019 are in folder b
    with qtbot.waitSignal(browser.model.ids_loaded, timeout=5000):
        browser.set_sort(SortOrder(SortKey.FILE_NAME, True))
    qtbot.waitUntil(lambda: all(browser.model.summary_at(r) is not None for r in range(6)), timeout=5000)
    names = [browser.model.summary_at(r).file_name for r in range(6)]  # type: ignore[union-attr]
    assert names == [f"IMG_00{n}.jpg" for n in range(19, 13, -1)]
    # the type filter of the bar
    browser.filter_bar.search_edit.setText("")
    with qtbot.waitSignal(browser.count_changed, timeout=5000) as raw:
        browser.filter_bar.kind_combo.setCurrentIndex(browser.filter_bar.kind_combo.findData("raw"))
    assert raw.args == [1]


def test_refresh_keeps_selection_and_fills_in_new_photos(qtbot, ctx, library) -> None:  # type: ignore[no-untyped-def]
    browser = make_browser(qtbot, ctx, library)
    browser.zoom_slider.setValue(150)     # every photo on one screen: a scroll position that moves is a bug
    keep = library.ids["IMG_0007.jpg"]
    browser.view.select_photo_ids((keep,))
    with ctx.db.connection() as conn:   # a running scan found new files: no date yet, so they sort last
        new_id = add_photo(conn, library.catalog_id, library.folders[0], "NEW_0001.jpg", status="new",
                           thumb_sizes=[], capture_time=None)
        conn.commit()
    inserted: list[int] = []
    browser.model.rowsInserted.connect(lambda parent, a, b: inserted.append(b - a + 1))
    with qtbot.waitSignal(browser.count_changed, timeout=5000) as grown:
        browser.refresh()
    assert grown.args == [25] and inserted == [1] and browser.selected_photo_ids() == (keep,)
    # the scan reaches it: date and thumbnail appear, so it moves to the top — no reset, the
    # rows whose photo changed are announced, the selection follows the photo
    with ctx.db.connection() as conn:
        conn.execute("UPDATE photos SET status = 'ok', capture_time = '2022-07-01 08:00', thumb_sizes = '{256,1280}', "
                     "content_hash = %s WHERE id = %s", (chash(2), new_id))
        conn.commit()
    resets: list[bool] = []
    browser.model.modelReset.connect(lambda: resets.append(True))
    scroll = browser.view.verticalScrollBar().value()
    with qtbot.waitSignal(browser.model.ids_loaded, timeout=5000):
        browser.refresh()
    assert browser.model.photo_id_at(0) == new_id and browser.selected_photo_ids() == (keep,) and not resets
    assert browser.view.current_photo_id() == keep and browser.view.verticalScrollBar().value() == scroll
    qtbot.waitUntil(lambda: browser.model.data(browser.model.index(0, 0), PhotoRole.Thumbnail) is not None,
                    timeout=5000)


def test_context_menu_actions(qtbot, ctx, library) -> None:  # type: ignore[no-untyped-def]
    browser = make_browser(qtbot, ctx, library)
    a, b = library.ids["IMG_0003.jpg"], library.ids["IMG_0020.jpg"]
    browser.view.select_photo_ids((a, b), current=a)
    browser._on_view_context_menu_requested(QPoint(10, 10))  # noqa: SLF001 (what a right-click does)
    menu = browser.context_menu
    assert [x.text() for x in menu.actions() if x.text()] == ["Open", "Show in folder", "Copy 2 paths", "Rescan"]
    with qtbot.waitSignal(browser.rescan_requested, timeout=5000) as rescan:
        next(x for x in menu.actions() if x.text() == "Rescan").trigger()
    assert rescan.args == [library.folders]
    menu.close()
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("")
    browser.copy_paths((a, b))
    qtbot.waitUntil(lambda: clipboard.text().count("\n") == 1, timeout=5000)
    assert clipboard.text().splitlines()[0].endswith("a/IMG_0003.jpg")
    assert clipboard.text().splitlines()[1].endswith("b/IMG_0020.jpg")


def test_browser_of_an_empty_catalog_stays_empty(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.fakes import FakePhotos, FakePictures

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        browser = PhotoBrowserWidget(pool, FakePhotos(0), FakePictures())
        qtbot.addWidget(browser)
        with qtbot.waitSignal(browser.count_changed, timeout=5000) as blocker:
            browser.set_catalog(1)
        assert blocker.args == [0] and browser.selected_photo_ids() == ()
        browser.refresh()
        from lumina_desktop.core.errors import LuminaError

        with pytest.raises(LuminaError, match="starred"):
            browser.set_smart_view("starred")
        with pytest.raises(LuminaError):
            browser.set_smart_view(SmartView.DUPLICATES)     # comes with the review grid
        view = browser.view     # a grid placed by arithmetic: the cells fill the width, one size for all
        assert view.columns == max(1, view.viewport().width() // view.delegate.cell_size().width())
        assert view.gridSize().width() * view.columns <= view.viewport().width()
        assert browser.view.selectionMode().name == "ExtendedSelection"
        assert browser.view.selectionMode() is not Qt.ItemFlag.NoItemFlags
    finally:
        pool.shutdown(wait=True)


def test_previews_on_demand_are_made_when_a_photo_is_selected(qtbot, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A real scan with previews=on_demand, then the details panel shows a preview made on the spot."""
    import os

    from lumina_desktop.db import catalogs
    from lumina_desktop.jobs import wiring
    from lumina_desktop.jobs.engine.executor import shutdown_executor

    settings = load_settings({"data_dir": str(tmp_path / "data"), "previews": "on_demand",
                              "background_workers": 2}, environ={}, config_dir=tmp_path)
    root = tmp_path / "photos"
    for i in range(3):
        real_jpeg(root / f"IMG_{i}.jpg", i, size=(3000, 2000))
    with db.connection() as conn:
        cat = catalogs.create_catalog(conn, "Lazy")
        folder = catalogs.add_folder(conn, cat.id, str(root))
    co = wiring.coordinator(db, settings)
    try:
        job = co.wait(co.submit("scan", {"folder_ids": [folder.id]}, catalog_id=cat.id), 60)
    finally:
        co.shutdown()
        shutdown_executor()
    assert job.result and job.result["new"] == 3
    previews = sorted(settings.thumbnails_dir.rglob("*_1280.jpg"))
    assert previews == [] and len(list(settings.thumbnails_dir.rglob("*_256.jpg"))) == 3

    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-browser-io")
    try:
        browser = browser_on(Ctx(settings, db, pool))
        qtbot.addWidget(browser)
        browser.resize(1100, 700)
        browser.show()
        with qtbot.waitSignal(browser.count_changed, timeout=10000):
            browser.set_catalog(cat.id)
        pid = browser.model.data(browser.model.index(0, 0), PhotoRole.PhotoId)
        browser.view.select_photo_ids((pid,))
        panel = browser.details
        qtbot.waitUntil(lambda: panel.details is not None and panel.details.id == pid
                        and panel.preview_label.pixmap() is not None
                        and not panel.preview_label.pixmap().isNull(), timeout=10000)
        made = sorted(settings.thumbnails_dir.rglob("*_1280.jpg"))
        assert [p.name for p in made] == [f"{panel.details.content_hash}_1280.jpg"]
        with Image.open(made[0]) as im:
            assert im.size == (1500, 1000)
        if os.environ.get("LUMINA_SCREENSHOTS"):
            out = Path(os.environ["LUMINA_SCREENSHOTS"])
            out.mkdir(parents=True, exist_ok=True)
            browser.grab().save(str(out / "browser_preview_on_demand.png"))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
