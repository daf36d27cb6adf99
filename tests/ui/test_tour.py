"""A tour of the window on real photographs, in the dark theme then the light one: the grid, burst
stacks, the burst filmstrip and its compare, the duplicate queue, a group and its compare, the
toolbar.  Each stop checks what a user would see there; with LUMINA_SCREENSHOTS set, each is
saved as a PNG (the screenshots described in the issue notes).

Uses ../shared/photos (wallpapers for duplicates, an iPhone burst); skipped where it is absent.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QRect, Qt

from lumina_desktop.core.jobs import JobState
from lumina_desktop.ui.windows.main_window import MainWindow
from tests.ui.test_main_window import window  # noqa: F401  (the real window on a real catalog)

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.slow]
PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "photos"
WALLPAPERS = PHOTOS / "debian-mate-backgrounds"
BURST = PHOTOS / "bursts" / "cs639_iphone_series" / "Joy"
SHOTS = os.environ.get("LUMINA_SCREENSHOTS")
BURST_A = (26, 43, 32, 21, 49, 15, 29, 31)     # 19:03:37.4 – 19:03:41.5
BURST_B = (34, 9, 39, 45, 10, 20)              # 19:04:26.4 – 19:04:28.5


def shot(widget: Any, name: str, rect: QRect | None = None) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        (widget.grab(rect) if rect is not None else widget.grab()).save(str(Path(SHOTS) / f"tour-{name}.png"))


def tour_library(root: Path) -> Path:
    """Five wallpapers; a backup folder with a byte copy, a half-size copy and a PNG of three of
    them; two bursts of an iPhone series (8 and 6 frames, each within a few seconds)."""
    trip, backup, burst = root / "Trip", root / "Backup", root / "Joy"
    for d in (trip, backup, burst):
        d.mkdir(parents=True)
    for name in ("Dune.jpg", "Elephants.jpg", "Garden.jpg", "Aqua.jpg", "FreshFlower.jpg"):
        shutil.copy2(WALLPAPERS / name, trip / name)
    shutil.copy2(trip / "Dune.jpg", backup / "Dune.jpg")
    with Image.open(trip / "Elephants.jpg") as im:
        im.resize((im.width // 2, im.height // 2), Image.LANCZOS).save(backup / "Elephants small.jpg", quality=85)
    with Image.open(trip / "Garden.jpg") as im:
        im.save(backup / "Garden.png")
    for i in (*BURST_A, *BURST_B):
        shutil.copy2(BURST / f"{i}.JPG", burst / f"IMG_{i:04d}.JPG")
    return root


def jobs_done(win: MainWindow, *kinds: str) -> bool:
    jobs = list(win.job_panel.jobs.values())
    return all(any(j.kind == k for j in jobs) for k in kinds) and \
        all(not j.state.is_active for j in jobs) and all(j.state == JobState.SUCCEEDED for j in jobs)


@pytest.mark.skipif(not (WALLPAPERS / "Dune.jpg").exists() or not (BURST / "49.JPG").exists(),
                    reason="../shared/photos is not here")
def test_a_tour_of_the_window_on_real_photos(window: MainWindow, qtbot, tmp_path: Path) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    win = window
    win.set_theme("dark")
    win.library.add_folders([str(tour_library(tmp_path / "Pictures"))])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: jobs_done(win, "scan", "duplicates", "quality", "tags", "bursts"), timeout=180000)
    browser = win.browser
    assert browser is not None
    qtbot.waitUntil(lambda: browser.model.rowCount() == 22, timeout=10000)
    model, view = browser.model, browser.view
    from lumina_desktop.ui.models.roles import PhotoRole

    def visible_thumbs() -> bool:   # every visible cell drawn as it is now (not an older look, kept meanwhile)
        first, last = view.visible_rows()
        summaries = [model.data(model.index(r, 0), PhotoRole.Summary) for r in range(first, last + 1)]
        return last >= 0 and all(s is not None and browser.loader.pixmap_for(model.thumbnail_request(s).key)
                                 is not None for s in summaries)

    view.select_photo_ids([model.photo_id_at(0)])
    qtbot.waitUntil(lambda: visible_thumbs() and browser.details.details is not None, timeout=20000)
    top = win.sidebar.tree.topLevelItem(0)
    counts = lambda: {top.child(i).text(0): top.child(i).text(1) for i in range(top.childCount())}  # noqa: E731
    qtbot.waitUntil(lambda: counts()["Bursts"] not in ("", "0"), timeout=5000)   # the counts follow the jobs at once
    qtbot.wait(200)
    # the notice offers what the last job found (the bursts, or the duplicates)
    assert win.notice.isVisible() and win.notice.key in ("bursts", "duplicates")
    shot(win, "01-grid-dark")
    shot(win, "02-toolbar", QRect(0, 0, win.width(), win.toolbar.geometry().bottom() + 1))

    # stacks: the burst collapses to its best frame with a count badge
    browser.filter_bar.stack_check.setChecked(True)
    found = win.ctx.services.bursts.bursts(win.state.current.id)  # type: ignore[union-attr]
    assert len(found) == 2 and sum(len(b.members) for b in found) >= 12
    qtbot.waitUntil(lambda: model.rowCount() == 22 - sum(len(b.members) for b in found) + 2, timeout=10000)
    qtbot.waitUntil(lambda: all(model.data(model.index(r, 0), PhotoRole.Summary) is not None
                                for r in range(model.rowCount())), timeout=10000)
    sizes = [model.data(model.index(r, 0), PhotoRole.Summary).burst_size for r in range(model.rowCount())]
    assert sorted(s or 0 for s in sizes)[-2:] == sorted(len(b.members) for b in found)   # a stack per burst
    qtbot.waitUntil(visible_thumbs, timeout=20000)
    shot(win, "03-stacks")
    browser.filter_bar.stack_check.setChecked(False)
    qtbot.waitUntil(lambda: model.rowCount() == 22, timeout=10000)

    # search by tag: "people" (faces found by the tags job) finds the iPhone frames, not the wallpapers
    browser.filter_bar.search_edit.setText("people")
    qtbot.waitUntil(lambda: model.rowCount() < 22, timeout=10000)
    assert 7 <= model.rowCount() <= 14, model.rowCount()
    view.select_photo_ids([model.photo_id_at(0)])
    qtbot.waitUntil(lambda: visible_thumbs() and browser.details.details is not None
                    and any(t.tag == "people" for t in browser.details.tags_editor.tags), timeout=20000)
    qtbot.wait(200)
    shot(win, "03b-search-people-and-tags")
    browser.filter_bar.search_edit.setText("")
    qtbot.waitUntil(lambda: model.rowCount() == 22, timeout=10000)

    # the burst review: a filmstrip with the best frame marked and a rank on every frame
    win.sidebar_select_view("bursts")
    bursts = win.bursts_view
    assert bursts is not None and win.stack.currentWidget() is bursts
    qtbot.waitUntil(lambda: bursts.model.rowCount() == 2, timeout=10000)
    strip = bursts.model.strip(0)
    assert strip is not None and len(strip.burst.members) in {len(b.members) for b in found}
    assert sum(m.is_best for m in strip.burst.members) == 1 and all(m.rank is not None for m in strip.burst.members)
    bursts.view.setFocus()
    qtbot.wait(500)
    shot(win, "04-burst-filmstrip")
    ranked = sorted(strip.burst.members, key=lambda m: m.rank)
    assert bursts.compare([m.photo_id for m in ranked[:3]])
    qtbot.waitUntil(lambda: bursts.compare_view.is_loaded, timeout=20000)
    shot(win, "05-burst-compare")
    bursts.close_compare()

    # the duplicate review: the queue by tier, a group side by side, the compare view
    win.show_review()
    review = win.duplicates_view
    assert review is not None and win.stack.currentWidget() is review
    qtbot.waitUntil(lambda: review.is_loaded and review.model.group_count == 3, timeout=20000)
    tiers = [review.model.group(r).tier.value for r in range(review.model.rowCount())  # type: ignore[union-attr]
             if review.model.group(r) is not None]
    assert tiers == ["identical", "near_copy", "near_copy"]
    sg = review.current_group
    assert sg is not None and review.progress_text == "Group 1 of 3"
    assert win.width() == 1280 and review.minimumSizeHint().width() < 1280 - 220   # fits beside the sidebar

    def pictures_shown() -> bool:
        g = review.current_group
        return g is not None and all(c.pixmap is not None for c in review.panel.cells.values())

    qtbot.waitUntil(pictures_shown, timeout=20000)
    shot(win, "06-duplicate-identical-group")
    review.next_group()
    qtbot.waitUntil(pictures_shown, timeout=20000)
    g = review.current_group
    assert g is not None and len(g.group.photo_ids) == 2
    shot(win, "07-duplicate-near-copy-group")
    review.compare()
    qtbot.waitUntil(lambda: review.compare_view.is_loaded, timeout=20000)
    shot(win, "08-duplicate-compare-fit")
    qtbot.keyClick(review.compare_view, Qt.Key.Key_Z)                 # 1:1 of the largest, linked
    qtbot.wait(300)
    shot(win, "09-duplicate-compare-1to1")
    review.close_compare()

    # the light theme: the same grid
    win.set_theme("light")
    win.sidebar_select_view("all")
    qtbot.waitUntil(lambda: win.stack.currentWidget() is browser and visible_thumbs(), timeout=20000)
    qtbot.wait(300)
    shot(win, "10-grid-light")
    win.show_review()
    qtbot.waitUntil(lambda: review.is_loaded and pictures_shown(), timeout=20000)
    shot(win, "11-duplicate-group-light")
