"""The change feed in the window, against fake services (no PostgreSQL): the bridge turns payloads
into signals without queries, the grid re-reads only what a change affects, the details panel
only its own photo, and the library controller drives the sidebar."""
from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from lumina_desktop.core.changes import Aspect, CatalogChange, ChangeCursor, PhotoChanges
from lumina_desktop.core.jobs import JobProgress, JobState
from lumina_desktop.core.library import SortKey, SortOrder
from lumina_desktop.ui.bridge import JobBridge
from lumina_desktop.ui.library_controller import LibraryController
from lumina_desktop.ui.models.roles import PhotoRole
from lumina_desktop.ui.widgets.catalog_sidebar import CatalogSidebarWidget
from lumina_desktop.ui.widgets.photo_browser import PhotoBrowserWidget
from tests.ui.fakes import FakeJobs, FakeLibrary, FakePhotos, FakePictures

ANALYSED = frozenset({Aspect.ANALYSED, Aspect.THUMBNAIL})


@pytest.fixture
def io() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-ui-io")
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


def change(ids: set[int], aspects: frozenset[Aspect], catalog_id: int = 1, *, itemised: bool = True) -> PhotoChanges:
    return PhotoChanges(catalog_id, frozenset(ids), aspects, itemised)


def show_browser(qtbot, io, photos: FakePhotos) -> PhotoBrowserWidget:  # type: ignore[no-untyped-def]
    """A browser on catalog 1, shown, its count known (nothing else waited for)."""
    browser = PhotoBrowserWidget(io, photos, FakePictures())
    qtbot.addWidget(browser)
    browser.resize(1000, 700)
    browser.show()
    with qtbot.waitSignal(browser.count_changed, timeout=5000):
        browser.set_catalog(1)
    return browser


def open_browser(qtbot, io, photos: FakePhotos) -> PhotoBrowserWidget:  # type: ignore[no-untyped-def]
    browser = show_browser(qtbot, io, photos)
    qtbot.waitUntil(lambda: browser.model.summary_at(0) is not None, timeout=5000)
    qtbot.waitUntil(lambda: browser.loader.is_idle, timeout=5000)
    qtbot.waitUntil(lambda: photos.calls.get("filter_options", 0) >= 1, timeout=5000)   # (once the grid is still)
    return browser


def settle(qtbot, browser: PhotoBrowserWidget, ms: int = 1300) -> None:  # type: ignore[no-untyped-def]
    qtbot.wait(ms)
    qtbot.waitUntil(lambda: browser.loader.is_idle, timeout=5000)


# -- the grid ---------------------------------------------------------------------------------
def test_an_analysed_photo_on_screen_rereads_its_page_only(qtbot, io) -> None:  # type: ignore[no-untyped-def]
    photos = FakePhotos(3000)
    browser = open_browser(qtbot, io, photos)
    model = browser.model
    photos.calls.clear()
    photos.put(2, file_name="renamed-by-a-scan.jpg")
    changed: list[int] = []
    model.dataChanged.connect(lambda a, b, roles: changed.extend(range(a.row(), b.row() + 1)))
    model.ids_min_interval_s = 0.0
    # sort by capture time depends on analysis: the id list is read again, once
    browser.apply_changes(change({2}, ANALYSED))
    qtbot.waitUntil(lambda: model.data(model.index(1, 0)) == "renamed-by-a-scan.jpg", timeout=5000)
    settle(qtbot, browser)
    assert photos.calls.get("ids") == 1 and photos.calls.get("page") == 1, photos.calls
    assert 1 in changed and max(changed) < 500            # only rows of the page on screen changed


def test_a_change_off_screen_reads_nothing_and_a_name_sort_ignores_analysis(qtbot, io) -> None:  # type: ignore[no-untyped-def]
    photos = FakePhotos(3000)
    browser = open_browser(qtbot, io, photos)
    browser.set_sort(SortOrder(SortKey.FILE_NAME))
    qtbot.waitUntil(lambda: browser.model.summary_at(0) is not None, timeout=5000)
    settle(qtbot, browser, 300)
    photos.calls.clear()
    browser.model.ids_min_interval_s = 0.0
    browser.apply_changes(change({2999, 3000}, ANALYSED))   # far below the visible rows
    settle(qtbot, browser)
    assert photos.calls == {}, photos.calls   # no id list (the name sort cannot move), no page


def test_additions_reread_the_ids_coalesced_and_rate_limited(qtbot, io) -> None:  # type: ignore[no-untyped-def]
    photos = FakePhotos(1000)
    browser = open_browser(qtbot, io, photos)
    model = browser.model
    model.ids_min_interval_s = 1.0
    photos.calls.clear()
    t0 = time.monotonic()
    for pid in range(1001, 1021):          # a scan adding a photo every 50 ms
        photos.put(pid)
        browser.apply_changes(change({pid}, frozenset({Aspect.ADDED})))
        qtbot.wait(50)
    qtbot.waitUntil(lambda: model.rowCount() == 1020, timeout=5000)
    took = time.monotonic() - t0
    settle(qtbot, browser, 300)
    # the first change at once, then at most one read per second: not 20 reads
    assert 1 <= photos.calls["ids"] <= 2 + int(took), (photos.calls, took)
    assert model.rowCount() == 1020


def test_a_job_ending_reads_its_last_changes_at_once(qtbot, io) -> None:  # type: ignore[no-untyped-def]
    """The rate limit holds a re-read back while changes keep coming; when the job that made them
    ends (the window calls flush_changes), its last photos show at once, not seconds later."""
    photos = FakePhotos(1000)
    browser = open_browser(qtbot, io, photos)
    model = browser.model
    model.ids_min_interval_s = 30.0         # as after long id reads of a large catalog (just opened)
    photos.calls.clear()
    photos.put(1001)
    browser.apply_changes(change({1001}, frozenset({Aspect.ADDED})))   # held back by the rate limit
    qtbot.wait(300)
    assert model.rowCount() == 1000 and "ids" not in photos.calls
    t0 = time.monotonic()
    model.flush_changes()                   # the scan ended
    qtbot.waitUntil(lambda: model.rowCount() == 1001, timeout=5000)
    assert time.monotonic() - t0 < 2.0 and photos.calls["ids"] == 1
    model.flush_changes()                   # nothing owed: nothing read
    qtbot.wait(200)
    assert photos.calls["ids"] == 1


def test_a_change_naming_no_photos_rereads_the_pages_on_screen(qtbot, io) -> None:  # type: ignore[no-untyped-def]
    photos = FakePhotos(600)
    browser = open_browser(qtbot, io, photos)
    photos.calls.clear()
    photos.put(1, status="missing")
    browser.apply_changes(change(set(), frozenset({Aspect.DUPLICATES}), itemised=False))
    qtbot.waitUntil(lambda: browser.model.data(browser.model.index(0, 0), PhotoRole.Status) == "missing",
                    timeout=5000)
    assert "ids" not in photos.calls      # duplicates cannot change membership or order


def test_the_details_panel_rereads_only_when_its_photo_changed(qtbot, io) -> None:  # type: ignore[no-untyped-def]
    photos = FakePhotos(100)
    browser = open_browser(qtbot, io, photos)
    browser.view.select_photo_ids((5,), 5)
    qtbot.waitUntil(lambda: browser.details.details is not None and browser.details.details.id == 5, timeout=5000)
    photos.calls.clear()
    browser.apply_changes(change({7, 8}, ANALYSED))
    settle(qtbot, browser)
    assert "details" not in photos.calls
    photos.put(5, file_name="new-name.jpg")
    browser.apply_changes(change({5}, ANALYSED))
    qtbot.waitUntil(lambda: browser.details.details is not None
                    and browser.details.details.file_name == "new-name.jpg", timeout=5000)
    assert photos.calls["details"] == 1


def test_a_failed_load_reaches_the_error_reporter(qtbot, io) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.ui.tasks import set_error_reporter

    reported: list[str] = []
    set_error_reporter(reported.append)
    try:
        photos = FakePhotos(10)
        photos.fail = "the database server is not running"
        browser = PhotoBrowserWidget(io, photos, FakePictures())
        qtbot.addWidget(browser)
        browser.set_catalog(1)
        qtbot.waitUntil(lambda: len(reported) >= 2, timeout=5000)   # the photo list and the filter choices
    finally:
        set_error_reporter(None)
    assert any(m.startswith("Could not load the photos") and "not running" in m for m in reported), reported
    assert any(m.startswith("Could not read the filter choices") for m in reported), reported
    assert browser.count_label.text() == "Not loaded"


# -- the bridge -------------------------------------------------------------------------------
@pytest.fixture
def bridge(qtbot, io) -> Iterator[tuple[JobBridge, FakeJobs]]:  # type: ignore[no-untyped-def]
    jobs = FakeJobs()
    b = JobBridge(jobs, io, coalesce_ms=20, changes_coalesce_ms=100, refresh_s=60)
    b.start()
    qtbot.waitUntil(lambda: jobs.reads.get("recent", 0) >= 1, timeout=5000)
    yield b, jobs
    b.stop()


def test_the_bridge_coalesces_payload_changes_without_a_query(qtbot, bridge) -> None:  # type: ignore[no-untyped-def]
    b, jobs = bridge
    got: list[PhotoChanges] = []
    b.photos_changed.connect(got.append)
    for i in range(10):
        jobs.record(1, {Aspect.ANALYSED}, [i + 1])
    jobs.record(2, {Aspect.ADDED}, [99])
    qtbot.waitUntil(lambda: len(got) >= 2, timeout=5000)
    qtbot.wait(200)
    by_catalog = {c.catalog_id: c for c in got}
    assert len(got) == 2 and by_catalog[1].photo_ids == frozenset(range(1, 11))
    assert by_catalog[2].aspects == frozenset({Aspect.ADDED}) and by_catalog[2].changes_membership
    assert "changes_since" not in jobs.reads      # the payloads carried the rows


def test_the_bridge_reads_rows_too_big_for_a_payload(qtbot, bridge) -> None:  # type: ignore[no-untyped-def]
    b, jobs = bridge
    got: list[PhotoChanges] = []
    b.photos_changed.connect(got.append)
    jobs.record(1, {Aspect.ANALYSED}, range(1, 2001), in_payload=False)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert len(got[0].photo_ids) == 2000 and jobs.reads["changes_since"] == 1


def test_progress_payloads_move_a_job_without_reading_it(qtbot, bridge) -> None:  # type: ignore[no-untyped-def]
    b, jobs = bridge
    snaps: list[object] = []
    b.jobs_updated.connect(lambda s: snaps.extend(s))
    jobs.add_job(5)
    jobs.listener.notify(job=5)                        # created: read once
    qtbot.waitUntil(lambda: any(getattr(s, "id", 0) == 5 for s in snaps), timeout=5000)
    reads = jobs.reads.get("jobs", 0)
    for done in (10, 20, 30):
        jobs.listener.notify(progress=JobProgress(5, "process", done, 100, done / 100, "Analysing", 5.0, 10.0,
                                                  datetime.now(timezone.utc)))
        qtbot.wait(60)
    qtbot.waitUntil(lambda: snaps[-1].progress is not None and snaps[-1].progress.done == 30, timeout=5000)  # type: ignore[attr-defined]
    assert jobs.reads.get("jobs", 0) == reads and snaps[-1].state == JobState.RUNNING  # type: ignore[attr-defined]


def test_the_change_cursor_waits_for_rows_committed_out_of_order() -> None:
    def row(seq: int) -> CatalogChange:
        return CatalogChange(seq, 1, None, frozenset({Aspect.ANALYSED}), (seq,))

    cursor = ChangeCursor(10, gap_timeout_s=5)
    assert [r.seq for r in cursor.accept([row(12)], now=0.0)] == [12]
    assert cursor.floor == 10 and cursor.gap_age(1.0) == 1.0      # 11 is not committed yet
    assert [r.seq for r in cursor.accept([row(11), row(12)], now=2.0)] == [11]   # 12 is not delivered twice
    assert cursor.floor == 12 and cursor.gap_age(3.0) == 0.0
    cursor.accept([row(14)], now=3.0)                               # 13 rolled back: never comes
    cursor.accept([], now=9.0)
    assert cursor.floor == 14


# -- the sidebar through the library controller ------------------------------------------------
def test_the_sidebar_follows_the_library_service(qtbot, io) -> None:  # type: ignore[no-untyped-def]
    lib = FakeLibrary(("Photos", "Archive"))
    controller = LibraryController(lib, io)
    sidebar = CatalogSidebarWidget()
    qtbot.addWidget(sidebar)
    controller.state_loaded.connect(sidebar.set_state)
    failures: list[str] = []
    started: list[object] = []
    controller.failed.connect(failures.append)
    controller.scan_started.connect(started.append)
    with qtbot.waitSignal(controller.state_loaded, timeout=5000):
        controller.load(None)
    assert sidebar.catalog_combo.currentText() == "Archive"          # sorted by name, the first
    with qtbot.waitSignal(controller.state_loaded, timeout=5000):
        controller.add_folders(["/photos/2024"])
    assert started and lib.scans == [(2, (1,))]                       # one use case: added and scanning
    assert sidebar.folder_path(1) == "/photos/2024"
    with qtbot.waitSignal(controller.failed, timeout=5000):
        controller.add_folders(["relative/path"])
    assert failures == ["relative/path is not a folder"]


def test_a_queued_job_that_starts_reporting_progress_is_read_as_running(qtbot, bridge) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    b, jobs = bridge
    snaps: list[object] = []
    b.jobs_updated.connect(lambda s: snaps.extend(s))
    jobs.add_job(7, kind="duplicates", state=JobState.PENDING)     # a follow-on, queued
    jobs.listener.notify(job=7)
    qtbot.waitUntil(lambda: any(getattr(s, "id", 0) == 7 for s in snaps), timeout=5000)
    # another process starts it; its first sign is a progress NOTIFY
    jobs.snapshots[7] = dataclasses.replace(jobs.snapshots[7], state=JobState.RUNNING)
    jobs.listener.notify(progress=JobProgress(7, "process", 3, 10, 0.4, "Comparing", None, None,
                                              datetime.now(timezone.utc)))
    qtbot.waitUntil(lambda: getattr(snaps[-1], "state", None) == JobState.RUNNING, timeout=5000)


# -- filter choices -----------------------------------------------------------------------------
def test_filter_choices_are_kept_for_the_next_opening_until_the_catalog_changes(qtbot, io) -> None:  # type: ignore[no-untyped-def]
    photos = FakePhotos(300)
    browser = open_browser(qtbot, io, photos)
    qtbot.waitUntil(lambda: browser.filter_bar._options.total == 300, timeout=5000)   # noqa: SLF001
    assert photos.calls["filter_options"] == 1

    def reopen() -> None:
        browser.set_catalog(None)
        with qtbot.waitSignal(browser.count_changed, timeout=5000):
            browser.set_catalog(1)
        qtbot.waitUntil(lambda: not browser.model.is_loading, timeout=5000)
        qtbot.wait(100)

    reopen()                                          # opened again: the choices are there at once, not read
    assert photos.calls["filter_options"] == 1 and browser.filter_bar._options.total == 300   # noqa: SLF001
    browser.note_change(change({7}, frozenset({Aspect.FLAGS})))   # a flag: the choices do not depend on it
    reopen()
    assert photos.calls["filter_options"] == 1
    browser.set_catalog(None)
    photos.put(301)
    browser.note_change(change({301}, frozenset({Aspect.ADDED})))   # added while another catalog was shown
    browser.note_change(change({1}, frozenset({Aspect.ADDED}), catalog_id=2))   # (another catalog's change)
    reopen()
    qtbot.waitUntil(lambda: browser.filter_bar._options.total == 301, timeout=5000)   # noqa: SLF001
    assert photos.calls["filter_options"] == 2
    browser.refresh()                                 # F5 reads everything again
    qtbot.waitUntil(lambda: photos.calls["filter_options"] == 3, timeout=5000)


def test_an_opening_while_its_choices_are_read_waits_for_that_read(qtbot, io) -> None:  # type: ignore[no-untyped-def]
    import threading

    gate = threading.Event()

    class GatedPhotos(FakePhotos):
        def filter_options(self, catalog_id: int):  # type: ignore[no-untyped-def]
            gate.wait(10)
            return super().filter_options(catalog_id)

    photos = GatedPhotos(300)
    browser = PhotoBrowserWidget(io, photos, FakePictures())
    qtbot.addWidget(browser)
    for _ in range(3):                                # opened, left and opened again while the read waits
        with qtbot.waitSignal(browser.count_changed, timeout=5000):
            browser.set_catalog(1)
        qtbot.waitUntil(lambda: not browser.model.is_loading, timeout=5000)
        browser.set_catalog(None)
    browser.set_catalog(1)
    gate.set()
    qtbot.waitUntil(lambda: browser.filter_bar._options.total == 300, timeout=5000)   # noqa: SLF001
    qtbot.wait(100)
    assert photos.calls["filter_options"] == 1


def test_the_choices_are_read_once_the_grid_is_still_not_while_it_scrolls(qtbot, io) -> None:  # type: ignore[no-untyped-def]
    import time

    from lumina_desktop.ui.widgets.photo_browser import OPTIONS_QUIET_S

    photos = FakePhotos(3000)
    browser = show_browser(qtbot, io, photos)
    qtbot.waitUntil(lambda: not browser.model.is_loading, timeout=5000)
    bar = browser.view.verticalScrollBar()
    end = time.monotonic() + 3 * OPTIONS_QUIET_S
    step = 0
    while time.monotonic() < end:                 # the user scrolls on from the moment it opens
        step += 1
        bar.setValue(bar.maximum() * (step % 20) // 20)
        stopped = time.monotonic()                # (the last move: stillness counts from here)
        qtbot.wait(100)
        assert photos.calls.get("filter_options", 0) == 0
    qtbot.waitUntil(lambda: photos.calls.get("filter_options", 0) == 1, timeout=5000)
    assert time.monotonic() - stopped >= OPTIONS_QUIET_S * 0.9   # read once the grid was still
    qtbot.waitUntil(lambda: browser.filter_bar._options.total == 3000, timeout=5000)   # noqa: SLF001
