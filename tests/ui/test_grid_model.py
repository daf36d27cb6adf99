"""PhotoGridModel + ThumbnailLoader: model contract, paging, visible-first thumbnails, generations, refresh."""
from __future__ import annotations

import io
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from lumina_desktop.storage.thumbnails import thumbnail_relpath
from lumina_desktop.core.changes import KEY_ASPECTS
from lumina_desktop.core.library import PhotoFlag, PhotoSummary
from lumina_desktop.services.images import PhotoImages
from lumina_desktop.ui.models.photo_grid_model import HEAD_ROWS, PAGE_SIZE, PhotoGridModel
from lumina_desktop.ui.models.roles import PhotoRole
from lumina_desktop.ui.thumbnails import ThumbnailLoader, ThumbnailRequest

pytestmark = pytest.mark.ui
DISTINCT_THUMBS = 40


def fake_hash(photo_id: int) -> str:
    return f"{photo_id % DISTINCT_THUMBS:064x}"


def write_thumbnails(root: Path, count: int = DISTINCT_THUMBS, px: int = 256) -> None:
    """Small JPEGs at the scan job's paths, one colour per content hash."""
    for i in range(count):
        im = Image.new("RGB", (px, px * 3 // 4), ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=80)
        path = root / thumbnail_relpath(f"{i:064x}", px)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.getvalue())


class FakeSource:
    """A PhotoSource over synthetic ids (a real class, no mocks).  ``gate`` holds worker calls."""

    key_aspects = KEY_ASPECTS

    def __init__(self, ids: Sequence[int], *, gate: threading.Event | None = None) -> None:
        self.ids = list(ids)
        self.gate = gate
        self.page_calls: list[tuple[int, ...]] = []

    def load_ids(self, limit: int | None = None) -> tuple[int, ...]:
        if self.gate is not None:
            self.gate.wait(10)
        return tuple(self.ids)[:limit]

    def load_head(self, limit: int) -> tuple[tuple[int, ...], int]:
        return self.load_ids(limit), len(self.ids)

    def summary(self, pid: int) -> PhotoSummary:
        return PhotoSummary(
            id=pid, file_name=f"IMG_{pid:06d}.JPG", path=f"/photos/IMG_{pid:06d}.JPG", folder_id=1,
            kind="raw" if pid % 7 == 0 else "image", status="error" if pid % 11 == 0 else "ok",
            rating=pid % 6, content_hash=fake_hash(pid), thumb_sizes=(256, 1280), width=4000, height=3000,
            capture_time=datetime(2021, 1, 1) + timedelta(minutes=pid), size_bytes=1000 + pid)

    def load_page(self, ids: Sequence[int]) -> dict[int, PhotoSummary]:
        if self.gate is not None:
            self.gate.wait(10)
        self.page_calls.append(tuple(ids))
        return {pid: self.summary(pid) for pid in ids}


class ManualExecutor(Executor):
    """Runs submitted work only when the test says so (on the test's thread): deterministic ordering."""

    def __init__(self) -> None:
        self.queue: deque[tuple[Future[Any], Callable[[], Any]]] = deque()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        self.queue.append((fut, lambda: fn(*args, **kwargs)))
        return fut

    def run_one(self) -> None:
        fut, fn = self.queue.popleft()
        if fut.set_running_or_notify_cancel():
            try:
                fut.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 — handed to the future like a real executor
                fut.set_exception(exc)


@pytest.fixture
def io_pool() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-ui-io")
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def thumbs_dir(tmp_path: Path) -> Path:
    root = tmp_path / "thumbnails"
    write_thumbnails(root)
    return root


def make_model(qtbot, io_pool, thumbs_dir, source, **loader_kw):  # type: ignore[no-untyped-def]
    loader = ThumbnailLoader(io_pool, PhotoImages(thumbs_dir), **loader_kw)
    model = PhotoGridModel(io_pool, loader)
    if source is not None:
        with qtbot.waitSignal(model.ids_loaded, timeout=5000):
            model.set_source(source)
        qtbot.waitUntil(lambda: not model.is_loading, timeout=5000)   # a long list: its first rows came first
    return model, loader


def test_model_passes_qtmodeltester_with_data(qtbot, qtmodeltester, io_pool, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    model, loader = make_model(qtbot, io_pool, thumbs_dir, FakeSource(range(1, 1201)))
    assert model.rowCount() == 1200
    qtbot.waitUntil(lambda: model.data(model.index(0, 0), PhotoRole.Summary) is not None, timeout=5000)
    qtbot.waitUntil(lambda: model.data(model.index(0, 0), PhotoRole.Thumbnail) is not None, timeout=5000)
    qtmodeltester.check(model)
    idx = model.index(7 - 1, 0)  # photo 7: RAW, rating 1
    assert model.data(idx, PhotoRole.PhotoId) == 7
    assert PhotoFlag(model.data(idx, PhotoRole.Flags)) & PhotoFlag.RAW
    assert model.data(idx, PhotoRole.Rating) == 1 and model.data(idx, PhotoRole.Kind) == "raw"
    assert model.data(model.index(10, 0), PhotoRole.Status) == "error"
    assert model.data(idx, PhotoRole.QualityScore) is None and model.data(idx, PhotoRole.BurstId) is None
    assert int(PhotoRole.PhotoId) == 257  # Qt.UserRole + 1


def test_data_is_a_placeholder_until_its_page_arrives(qtbot, io_pool, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    source = FakeSource(range(1, 5001))
    model, _ = make_model(qtbot, io_pool, thumbs_dir, source)
    far = model.index(3456, 0)
    t0 = time.perf_counter()
    assert model.data(far, PhotoRole.Summary) is None and model.data(far) is None
    assert model.data(far, PhotoRole.PhotoId) == 3457  # ids are always there
    assert time.perf_counter() - t0 < 0.01
    qtbot.waitUntil(lambda: model.data(far, PhotoRole.Summary) is not None, timeout=5000)
    assert model.data(far) == "IMG_003457.JPG"
    # pages of PAGE_SIZE ids, read on demand: never the whole list
    assert all(len(p) <= PAGE_SIZE for p in source.page_calls) and len(source.page_calls) <= 4
    assert 3456 // PAGE_SIZE in model.loaded_pages


def test_thumbnails_load_visible_rows_then_one_screen_ahead(qtbot, io_pool, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    model, loader = make_model(qtbot, io_pool, thumbs_dir, FakeSource(range(1, 3001)))
    order: list[int] = []
    loader.thumbnails_ready.connect(lambda ids: order.extend(ids))
    qtbot.waitUntil(lambda: loader.is_idle and bool(order), timeout=5000)
    order.clear()
    model.set_visible_rows(2000, 2019)        # rows 2000–2019 on screen → ids 2001–2020
    qtbot.waitUntil(lambda: len(order) >= 40, timeout=5000)
    qtbot.waitUntil(lambda: loader.is_idle, timeout=5000)
    assert set(order) == set(range(2001, 2041))    # visible + one screen ahead, nothing else
    assert all(pid <= 2020 for pid in order[:12])  # the first batches are the visible rows
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, roles: changed.append((a.row(), b.row()))
                              if roles == [PhotoRole.Thumbnail] else None)
    model.set_visible_rows(2040, 2041)
    qtbot.waitUntil(lambda: {r for a, b in changed for r in range(a, b + 1)} >= {2040, 2041}, timeout=5000)
    qtbot.waitUntil(lambda: loader.is_idle, timeout=5000)
    rows = [r for a, b in changed for r in range(a, b + 1)]
    assert 2040 in rows and 2041 in rows and len(rows) == len(set(rows))   # those rows, each once…
    assert len(changed) < len(rows)               # …as runs of rows, not one signal a row


def test_scrolling_away_drops_queued_thumbnails(qtbot, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    pool = ManualExecutor()
    loader = ThumbnailLoader(pool, PhotoImages(thumbs_dir), batch_size=2, max_batches_in_flight=1)
    model = PhotoGridModel(pool, loader, page_size=500)   # rows 0–239 (the first window) are one page
    got: list[int] = []
    loader.thumbnails_ready.connect(lambda ids: got.extend(ids))
    model.set_source(FakeSource(range(1, 3001)))
    pool.run_one()                                # the first HEAD_ROWS ids and the count
    qtbot.waitUntil(lambda: model.rowCount() == 3000, timeout=5000)
    assert model.is_partial and model.photo_id_at(HEAD_ROWS - 1) == HEAD_ROWS and model.photo_id_at(HEAD_ROWS) is None
    pool.run_one()                                # the whole list
    qtbot.waitUntil(lambda: not model.is_partial, timeout=5000)
    assert model.photo_id_at(2999) == 3000
    model.set_visible_rows(0, 29)
    pool.run_one()                                # page 0
    qtbot.waitUntil(lambda: loader.in_flight_count == 2, timeout=5000)
    assert loader.pending_count == 58             # rows 0–59 wanted: 2 started, 58 queued
    pool.run_one()                                # the first thumbnail batch
    qtbot.waitUntil(lambda: got == [1, 2], timeout=5000)     # announced after the ~30 ms coalescing
    model.set_visible_rows(1500, 1509)            # the user scrolled on: rows 0–59 are no longer wanted
    assert loader.pending_count == 0 and loader.in_flight_count == 2   # rows 2–3 were already submitted
    while pool.queue or not loader.is_idle:    # run what was started, as it gets started
        if pool.queue:
            pool.run_one()
        qtbot.waitUntil(lambda: bool(pool.queue) or loader.is_idle, timeout=5000)
    # nothing else of the old screen was read: the batch of rows 2–3 ran after the scroll and
    # passed them by (a jump's page read does not wait for the old screen's decoding)
    assert set(got) == {1, 2} | set(range(1501, 1521))
    assert loader.loaded == 22


def test_stale_generation_results_are_dropped(qtbot, io_pool, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    gate = threading.Event()
    loader = ThumbnailLoader(io_pool, PhotoImages(thumbs_dir), batch_size=4, max_batches_in_flight=2)
    blocker = io_pool.submit(gate.wait, 10), io_pool.submit(gate.wait, 10)  # hold both workers
    loader.request([ThumbnailRequest(pid, 256, fake_hash(pid)) for pid in range(1, 9)])
    assert loader.in_flight_count == 8
    ready: list[int] = []
    loader.thumbnails_ready.connect(lambda ids: ready.extend(ids))
    assert loader.reset() == 1                   # a new query starts
    loader.request([ThumbnailRequest(100, 256, fake_hash(100))])
    gate.set()
    qtbot.waitUntil(lambda: ready == [100], timeout=5000)
    qtbot.waitUntil(lambda: loader.stale_dropped == 8, timeout=5000)
    assert ready == [100] and all(f.result() for f in blocker)
    assert loader.pixmap(1, 256, fake_hash(1)) is None and loader.pixmap(100, 256, fake_hash(100)) is not None


def test_new_query_bumps_generation_and_drops_old_pages(qtbot, io_pool, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    gate = threading.Event()
    slow = FakeSource(range(1, 2001))
    model, loader = make_model(qtbot, io_pool, thumbs_dir, slow)
    gen = model.generation
    slow.gate = gate                              # page reads of the old query now hang
    model.set_visible_rows(1200, 1230)
    with qtbot.waitSignal(model.modelReset, timeout=5000):
        model.set_source(FakeSource(range(5000, 5100)))
    assert model.generation == gen + 1 and loader.generation >= 1
    gate.set()
    qtbot.waitUntil(lambda: model.data(model.index(0, 0), PhotoRole.Summary) is not None, timeout=5000)
    qtbot.waitUntil(lambda: not model._pages_in_flight, timeout=5000)  # noqa: SLF001
    assert model.rowCount() == 100 and model.photo_id_at(0) == 5000
    assert all(p < 1 for p in model.loaded_pages)   # the old query's page 2 never landed


def test_refresh_appends_moves_and_never_resets(qtbot, io_pool, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    source = FakeSource(range(1, 101))
    model, _ = make_model(qtbot, io_pool, thumbs_dir, source)
    counts: list[int] = []
    model.count_changed.connect(counts.append)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    gen = model.generation
    source.ids += list(range(101, 151))           # a scan found more photos
    with qtbot.waitSignal(model.rowsInserted, timeout=5000) as blocker:
        model.refresh()
    assert blocker.args[1:] == [100, 149] and model.rowCount() == 150 and not resets and model.generation == gen
    with qtbot.waitSignal(model.ids_loaded, timeout=5000) as same:
        model.refresh()                          # nothing changed: rows kept
    assert same.args == [False] and not resets
    source.ids[10], source.ids[20] = source.ids[20], source.ids[10]   # two photos swapped places
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, roles: changed.append((a.row(), b.row()))
                              if PhotoRole.PhotoId in roles else None)
    with qtbot.waitSignal(model.ids_loaded, timeout=5000) as moved:
        model.refresh()
    assert moved.args == [False] and not resets and model.generation == gen
    assert model.photo_id_at(10) == 21 and model.row_of(11) == 20 and changed[0] == (10, 20)
    del source.ids[120:]                          # photos left the view: rows go at the end
    with qtbot.waitSignal(model.rowsRemoved, timeout=5000) as removed:
        model.refresh()
    assert removed.args[1:] == [120, 149] and model.rowCount() == 120 and not resets
    assert counts == [150, 120]
    with qtbot.waitSignal(model.modelReset, timeout=5000):
        model.set_source(FakeSource(range(7, 9)))  # a new query is the only reset
    assert model.generation == gen + 1 and model.rowCount() == 2
    with qtbot.waitSignal(model.count_changed, timeout=5000) as cleared:
        model.set_source(None)
    assert cleared.args == [0] and model.rowCount() == 0


def test_many_new_rows_at_once_make_the_rows_afresh_and_keep_the_cache(qtbot, io_pool, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    """More than MAX_ROW_SHIFT rows added (a big import while the grid is open): one reset of the
    rows (QStringListModel adds rows one by one: 20,000 took 1.4 s with a view) announced as
    such, the cached summaries kept; a few rows are still appended."""
    from lumina_desktop.ui.models.photo_grid_model import MAX_ROW_SHIFT

    source = FakeSource(range(1, 1001))
    model, _ = make_model(qtbot, io_pool, thumbs_dir, source)
    model.set_visible_rows(0, 29)
    qtbot.waitUntil(lambda: model.summary_at(0) is not None, timeout=5000)
    gen, reads = model.generation, len(source.page_calls)
    source.ids += list(range(1001, 1002 + MAX_ROW_SHIFT))
    with qtbot.waitSignal(model.ids_loaded, timeout=5000) as loaded:
        model.refresh()
    assert loaded.args == [True] and model.rowCount() == 1001 + MAX_ROW_SHIFT and model.generation == gen
    assert model.summary_at(0) is not None and model.photo_id_at(1000 + MAX_ROW_SHIFT) == 1001 + MAX_ROW_SHIFT
    assert len(source.page_calls) >= reads
    source.ids += [90_001, 90_002]
    with qtbot.waitSignal(model.rowsInserted, timeout=5000):
        model.refresh()


def test_refresh_rereads_visible_pages_and_their_changes(qtbot, io_pool, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    class ScanningSource(FakeSource):
        analysed = False

        def summary(self, pid: int) -> PhotoSummary:
            s = super().summary(pid)
            if self.analysed:
                return s
            return PhotoSummary(s.id, s.file_name, s.path, 1, None, "new", None, None, (), None, None, None, None)

    source = ScanningSource(range(1, 41))
    model, loader = make_model(qtbot, io_pool, thumbs_dir, source)
    qtbot.waitUntil(lambda: model.data(model.index(3, 0), PhotoRole.Status) == "new", timeout=5000)
    assert model.data(model.index(3, 0), PhotoRole.Thumbnail) is None
    source.analysed = True                        # the scan wrote thumbnails meanwhile
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, roles: changed.append((a.row(), b.row())))
    model.refresh()
    qtbot.waitUntil(lambda: model.data(model.index(3, 0), PhotoRole.Thumbnail) is not None, timeout=5000)
    assert model.data(model.index(3, 0), PhotoRole.Status) == "ok" and (0, 39) in changed


def test_pixmap_cache_is_bounded_in_bytes(qtbot, io_pool, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    one = 256 * 192 * 4
    loader = ThumbnailLoader(io_pool, PhotoImages(thumbs_dir), cache_bytes=one * 5)
    got: list[int] = []
    loader.thumbnails_ready.connect(lambda ids: got.extend(ids))
    loader.request([ThumbnailRequest(pid, 256, fake_hash(pid)) for pid in range(1, 13)])
    qtbot.waitUntil(lambda: len(got) == 12, timeout=5000)
    assert loader.cached_bytes == one * 5
    assert [pid for pid in range(1, 13) if loader.pixmap(pid, 256, fake_hash(pid)) is not None] == sorted(got[-5:])
    # a missing file is remembered as missing until told to forget
    loader.request([ThumbnailRequest(99, 256, "f" * 64)])
    qtbot.waitUntil(lambda: loader.in_flight_count == 0, timeout=5000)
    loader.request([ThumbnailRequest(99, 256, "f" * 64)])
    assert loader.in_flight_count == 0
    loader.forget_failures()
    loader.request([ThumbnailRequest(99, 256, "f" * 64)])
    assert loader.in_flight_count == 1
    qtbot.waitUntil(lambda: loader.in_flight_count == 0, timeout=5000)


def test_index_ids_finds_the_changed_span_and_every_row() -> None:
    import random

    import numpy as np

    from lumina_desktop.ui.models.photo_grid_model import EMPTY_IDS, index_ids

    rng = random.Random(5)
    base = tuple(rng.sample(range(1, 10_000), 3000))
    first = index_ids(base, EMPTY_IDS)
    assert first.ids.dtype == np.int64 and not first.ids.flags.writeable
    assert [first.index.row(pid) for pid in base] == list(range(len(base)))
    same = index_ids(base, first.ids, first.index)
    assert same.is_unchanged and same.index is first.index         # nothing moved: the index is reused
    cases = [base + (20_001, 20_002), base[:2000], base[:100] + base[101:1500] + (base[100],) + base[1500:],
             tuple(reversed(base)), base[:10] + (30_000,) + base[11:] + (30_001,), ()]
    for ids in cases:
        got = index_ids(ids, first.ids, first.index)
        assert [got.index.row(pid) for pid in ids] == list(range(len(ids)))
        assert got.index.row(50_000) == -1 and got.index.rows_of([50_000, *ids[:3]]).tolist() == [-1, 0, 1, 2][:1 + len(ids[:3])]
        changed = [r for r in range(min(len(ids), len(base))) if ids[r] != base[r]]
        assert (got.first, got.last) == ((changed[0], changed[-1]) if changed else (min(len(ids), len(base)),) * 2)
    assert [first.index.row(pid) for pid in base] == list(range(len(base)))   # the old index is never modified


def test_decoded_thumbnails_are_opaque_and_fitted(tmp_path: Path) -> None:
    from PySide6.QtGui import QColor

    from lumina_desktop.services.images import decode_fitted
    from lumina_desktop.ui.thumbnails import to_qimage

    Image.new("RGB", (256, 192), (200, 40, 40)).save(tmp_path / "t.jpg", quality=95)
    picture = decode_fitted(tmp_path / "t.jpg", 160)
    assert picture is not None and picture.mode == "BGRA"
    image = to_qimage(picture)
    assert (image.width(), image.height()) == (160, 120)
    pixel = QColor.fromRgba(image.pixel(80, 60))
    assert pixel.alpha() == 255 and abs(pixel.red() - 200) < 8   # RGB32 needs 0xff padding, or it blends away
    small = decode_fitted(tmp_path / "t.jpg", 1000, can_enlarge=False)
    assert small is not None and small.width == 256
    assert decode_fitted(tmp_path / "missing.jpg", 160) is None


class SlowSource(FakeSource):
    """Its id list takes ``delay_s`` to read (a large catalog)."""

    def __init__(self, ids: Sequence[int], delay_s: float) -> None:
        super().__init__(ids)
        self.delay_s = delay_s
        self.id_reads = 0

    def load_ids(self, limit: int | None = None) -> tuple[int, ...]:
        self.id_reads += 1
        time.sleep(self.delay_s)
        return super().load_ids(limit)


def test_a_costly_list_is_not_read_in_the_middle_of_a_short_scan(qtbot, io_pool, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    """After a quiet spell the first change is read at once when the list is cheap; when it took
    0.1 s, only after 10× that (a short scan into 1M photos ran 1.3× slower for a read in its
    middle); the scan's end reads it at once (flush_changes)."""
    from lumina_desktop.core.changes import Aspect, PhotoChanges

    source = SlowSource(range(1, 101), 0.1)
    model, _ = make_model(qtbot, io_pool, thumbs_dir, source)
    model.ids_min_interval_s = 0.1
    qtbot.wait(2300)                                      # a quiet spell
    reads = source.id_reads
    source.ids.append(101)
    model.apply_changes(PhotoChanges(1, frozenset({101}), frozenset({Aspect.ADDED}), True))
    qtbot.wait(400)
    assert source.id_reads == reads and model.rowCount() == 100      # held back: about 1 s
    qtbot.waitUntil(lambda: model.rowCount() == 101, timeout=3000)   # then read
    qtbot.wait(2300)
    source.ids.append(102)
    model.apply_changes(PhotoChanges(1, frozenset({102}), frozenset({Aspect.ADDED}), True))
    model.flush_changes()                                 # the job ended at once
    qtbot.waitUntil(lambda: model.rowCount() == 102, timeout=600)


def test_the_screen_is_announced_as_soon_as_its_last_thumbnail_is_ready(qtbot, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    pool = ManualExecutor()
    loader = ThumbnailLoader(pool, PhotoImages(thumbs_dir), batch_size=2, max_batches_in_flight=2, flush_ms=60_000,
                             screen_flush_ms=60_000)
    got: list[tuple[int, ...]] = []
    loader.thumbnails_ready.connect(got.append)
    loader.request([ThumbnailRequest(pid, 256, fake_hash(pid)) for pid in range(1, 7)], urgent=4)
    pool.run_one()                      # photos 1 and 2: more of the screen is coming, so they wait
    qtbot.wait(50)
    assert got == []
    pool.run_one()                      # photos 3 and 4 complete the screen: announced now, not in 60 s
    qtbot.waitUntil(lambda: got == [(1, 2, 3, 4)], timeout=2000)
    pool.run_one()                      # photos 5 and 6 (a screen ahead) are gathered as before
    qtbot.wait(50)
    assert got == [(1, 2, 3, 4)] and loader.is_coming(ThumbnailRequest(5, 256, fake_hash(5)).key) is False
    assert not loader.is_idle           # …waiting in the 60 s flush


def test_part_of_a_screen_waits_for_the_rest_and_what_is_ahead_for_the_screen_s_repaint(qtbot, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    pool = ManualExecutor()
    loader = ThumbnailLoader(pool, PhotoImages(thumbs_dir), batch_size=2, max_batches_in_flight=1, flush_ms=1,
                             screen_flush_ms=300, ahead_delay_ms=150)
    got: list[tuple[int, ...]] = []
    loader.thumbnails_ready.connect(got.append)
    loader.request([ThumbnailRequest(pid, 256, fake_hash(pid)) for pid in range(1, 9)], urgent=6)
    pool.run_one()                      # photos 1 and 2 of a screen of six: not repainted alone …
    qtbot.wait(60)                      # (… as they were after the 1 ms that gathers what is ahead)
    assert got == []
    pool.run_one()                      # 3 and 4: still part of the screen
    qtbot.waitUntil(lambda: got == [(1, 2, 3, 4)], timeout=2000)   # … but shown once it is late (300 ms)
    pool.run_one()                      # 5 and 6 complete the screen: announced at once
    qtbot.waitUntil(lambda: len(got) == 2, timeout=2000)
    assert got[1] == (5, 6)
    assert not pool.queue               # what is ahead (7, 8) waits while the screen is repainted …
    qtbot.waitUntil(lambda: bool(pool.queue), timeout=2000)        # … then starts
    pool.run_one()
    qtbot.waitUntil(lambda: len(got) == 3, timeout=2000)
    assert got[2] == (7, 8)


def test_painting_cells_whose_thumbnails_are_coming_does_not_requeue_the_screen(qtbot, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    pool = ManualExecutor()
    loader = ThumbnailLoader(pool, PhotoImages(thumbs_dir), batch_size=2, max_batches_in_flight=1)
    model = PhotoGridModel(pool, loader, page_size=500)
    model.set_source(FakeSource(range(1, 301)))
    pool.run_one()                                # the ids
    qtbot.waitUntil(lambda: model.rowCount() == 300 and not model.is_loading, timeout=5000)
    model.set_visible_rows(0, 29)
    pool.run_one()                                # page 0
    qtbot.waitUntil(lambda: loader.in_flight_count == 2, timeout=5000)
    pumps = model.pumps
    for _ in range(3):                            # the view paints the screen again and again
        for row in range(30):
            assert model.cell_pixmap(row) is None and model.data(model.index(row, 0), PhotoRole.Thumbnail) is None
        qtbot.wait(5)
    assert model.pumps == pumps                   # every one is queued or being read: nothing to work out
    loader.clear_cache()                          # a pixmap that went (evicted) is asked for again
    pool.run_one()
    qtbot.waitUntil(lambda: model.cell_pixmap(0) is not None, timeout=5000)
    loader.clear_cache()
    assert model.cell_pixmap(0) is None
    qtbot.waitUntil(lambda: model.pumps > pumps, timeout=2000)


def test_the_libjpeg_path_and_pillows_agree(tmp_path: Path) -> None:
    """JPEGs from the store are decoded by libjpeg-turbo; other files, and JPEGs it does not take
    (CMYK), by Pillow — the same pixels either way, in the layout the screen uses."""
    import numpy as np

    from lumina_desktop.services import images
    from lumina_desktop.services.images import decode_fitted

    ramp = np.zeros((1500, 2000, 3), dtype=np.uint8)
    ramp[..., 0] = np.linspace(0, 255, 2000, dtype=np.uint8)[None, :]
    ramp[..., 1] = np.linspace(0, 255, 1500, dtype=np.uint8)[:, None]
    ramp[..., 2] = 90
    Image.fromarray(ramp).save(tmp_path / "big.jpg", quality=92)
    Image.fromarray(ramp).save(tmp_path / "big.png")
    fast = decode_fitted(tmp_path / "big.jpg", 300)                 # DCT-scaled decode, then fitted
    slow = decode_fitted(tmp_path / "big.png", 300)                 # Pillow
    assert fast is not None and slow is not None and (fast.width, fast.height) == (slow.width, slow.height) == (300, 225)
    a = np.frombuffer(fast.data, np.uint8).reshape(225, 300, 4).astype(int)
    b = np.frombuffer(slow.data, np.uint8).reshape(225, 300, 4).astype(int)
    assert (a[..., 3] == 255).all() and np.abs(a - b)[..., :3].mean() < 3     # BGRA, opaque, same picture
    assert abs(a[112, 150, 2] - 127) < 8 and abs(a[112, 150, 0] - 90) < 8    # red (byte 2) across, blue (byte 0) flat
    Image.fromarray(ramp[..., 1]).save(tmp_path / "grey.jpg")
    grey = decode_fitted(tmp_path / "grey.jpg", 200, layout="RGB")
    assert grey is not None and grey.mode == "RGB" and grey.data[0] == grey.data[1] == grey.data[2]
    Image.fromarray(ramp).convert("CMYK").save(tmp_path / "cmyk.jpg")
    assert images._decode_fitted_jpeg((tmp_path / "cmyk.jpg").read_bytes(), 200, True, "BGRA") is None
    cmyk = decode_fitted(tmp_path / "cmyk.jpg", 200)                # Pillow's path
    assert cmyk is not None and (cmyk.width, cmyk.height) == (200, 150)
    Image.new("RGB", (3, 2000), (10, 200, 10)).save(tmp_path / "thin.jpg")
    thin = decode_fitted(tmp_path / "thin.jpg", 96, can_enlarge=False)      # never taller than the box
    assert thin is not None and thin.height == 96
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "big.jpg").read_bytes()[:5000])
    assert images._decode_fitted_jpeg((tmp_path / "cut.jpg").read_bytes(), 200, True, "BGRA") is None  # libjpeg warns


def test_the_screen_is_read_before_anything_ahead_starts(qtbot, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    pool = ManualExecutor()
    loader = ThumbnailLoader(pool, PhotoImages(thumbs_dir), batch_size=2, max_batches_in_flight=2)
    loader.request([ThumbnailRequest(pid, 256, fake_hash(pid)) for pid in range(1, 8)], urgent=3)
    assert loader.in_flight_count == 3 and loader.pending_count == 4   # 1–2, then 3 alone: 4 is a screen ahead
    pool.run_one()
    qtbot.waitUntil(lambda: loader.in_flight_count == 1, timeout=2000)
    assert loader.pending_count == 4                            # photo 3 of the screen is still being read
    pool.run_one()
    qtbot.waitUntil(lambda: loader.in_flight_count == 4, timeout=2000)   # the screen is read: 4–7 start
    assert loader.pending_count == 0


def test_a_screen_batch_that_fails_does_not_hold_up_what_is_ahead(qtbot, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    class Failing(PhotoImages):
        def thumbnail(self, content_hash: str, source_px: int, px: int):  # type: ignore[no-untyped-def]
            if content_hash == fake_hash(3):
                raise OSError("disk gone")
            return super().thumbnail(content_hash, source_px, px)

    pool = ManualExecutor()
    loader = ThumbnailLoader(pool, Failing(thumbs_dir), batch_size=2, max_batches_in_flight=2, flush_ms=60_000)
    got: list[tuple[int, ...]] = []
    loader.thumbnails_ready.connect(got.append)
    loader.request([ThumbnailRequest(pid, 256, fake_hash(pid)) for pid in range(1, 8)], urgent=3)
    pool.run_one()                        # photos 1 and 2
    pool.run_one()                        # photo 3: its read fails
    qtbot.waitUntil(lambda: loader.in_flight_count == 4, timeout=2000)   # what is ahead starts all the same
    qtbot.waitUntil(lambda: got == [(1, 2)], timeout=2000)               # and the screen is shown now
    assert loader.is_coming(ThumbnailRequest(3, 256, fake_hash(3)).key)  # (remembered as failed)


def test_a_batch_passes_by_what_the_user_scrolled_away_from_and_takes_back_what_is_wanted_again(qtbot, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    class Counting(PhotoImages):
        def __init__(self, root: Path) -> None:
            super().__init__(root)
            self.read: list[str] = []

        def thumbnail(self, content_hash: str, source_px: int, px: int):  # type: ignore[no-untyped-def]
            self.read.append(content_hash)
            return super().thumbnail(content_hash, source_px, px)

    pool = ManualExecutor()
    images = Counting(thumbs_dir)
    loader = ThumbnailLoader(pool, images, batch_size=3, max_batches_in_flight=1, flush_ms=1)
    got: list[int] = []
    loader.thumbnails_ready.connect(lambda ids: got.extend(ids))
    req = {pid: ThumbnailRequest(pid, 256, fake_hash(pid)) for pid in range(1, 13)}
    loader.request([req[p] for p in (1, 2, 3)], urgent=3)        # submitted, not yet started
    loader.request([req[p] for p in (10, 11, 2)], urgent=3)      # a jump that still shows photo 2
    pool.run_one()                                               # the batch of 1–3 starts only now
    assert images.read == [fake_hash(2)]                         # 1 and 3 are passed by, unread
    qtbot.waitUntil(lambda: len(pool.queue) == 1, timeout=2000)  # then 10–11 start
    assert not loader.is_coming(req[1].key) and not loader.is_coming(req[3].key)   # not failed: askable again
    loader.request([req[p] for p in (10, 11, 1)], urgent=3)      # photo 1 again, while 10–11 are read
    pool.run_one()
    qtbot.waitUntil(lambda: loader.is_idle or bool(pool.queue), timeout=2000)
    while pool.queue:
        pool.run_one()
        qtbot.waitUntil(lambda: loader.is_idle or bool(pool.queue), timeout=2000)
    qtbot.waitUntil(lambda: set(got) == {2, 10, 11, 1}, timeout=2000)
    assert images.read.count(fake_hash(1)) == 1 and fake_hash(3) not in images.read
    assert loader.pixmap(1, 256, fake_hash(1)) is not None and loader.pixmap(3, 256, fake_hash(3)) is None


def test_a_request_passed_by_and_asked_for_again_before_its_batch_returns_is_read(qtbot, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    pool = ManualExecutor()
    loader = ThumbnailLoader(pool, PhotoImages(thumbs_dir), batch_size=2, max_batches_in_flight=1, flush_ms=1)
    got: list[int] = []
    loader.thumbnails_ready.connect(lambda ids: got.extend(ids))
    a, b, c = (ThumbnailRequest(pid, 256, fake_hash(pid)) for pid in (1, 2, 3))
    loader.request([a, b], urgent=2)
    loader.request([c], urgent=1)            # scrolled away: the batch of 1–2 will pass both by
    fut, fn = pool.queue.popleft()
    result = fn()                            # the worker runs now, while only 3 is wanted ...
    loader.request([a, b, c], urgent=3)      # ... and the user comes back before its result arrives
    fut.set_result(result)
    while pool.queue or not loader.is_idle:
        if pool.queue:
            pool.run_one()
        qtbot.waitUntil(lambda: bool(pool.queue) or loader.is_idle, timeout=2000)
    assert set(got) == {1, 2, 3}             # 1 and 2 were taken back into the queue and read


def test_a_thumbnail_read_just_before_the_user_scrolled_on_is_not_composed(qtbot, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    composed: list[int] = []

    def compose(image, spec, out=None):  # type: ignore[no-untyped-def]
        composed.append(spec)
        return image

    pool = ManualExecutor()
    loader = ThumbnailLoader(pool, PhotoImages(thumbs_dir), batch_size=2, max_batches_in_flight=1, flush_ms=1,
                             compose=compose)
    a, b, c = (ThumbnailRequest(pid, 256, fake_hash(pid), spec=pid) for pid in (1, 2, 3))
    loader.request([a, b], urgent=2)
    fut, fn = pool.queue.popleft()
    result = fn()                            # 1 and 2 are read ...
    loader.request([c, b], urgent=2)         # ... and the user scrolls on before they arrive: 2 stays
    fut.set_result(result)
    qtbot.waitUntil(lambda: bool(pool.queue), timeout=2000)   # then 3 starts
    assert composed == [2] and loader.passed_by == 1
    assert loader.pixmap(1, 256, fake_hash(1), 1) is None and not loader.is_coming(a.key)   # askable again
    pool.run_one()
    qtbot.waitUntil(lambda: composed == [2, 3], timeout=2000)


def test_a_request_passed_by_and_asked_for_again_as_one_ahead_waits_behind_the_screen(qtbot, thumbs_dir) -> None:  # type: ignore[no-untyped-def]
    pool = ManualExecutor()
    loader = ThumbnailLoader(pool, PhotoImages(thumbs_dir), batch_size=2, max_batches_in_flight=1, flush_ms=1)
    got: list[int] = []
    loader.thumbnails_ready.connect(lambda ids: got.extend(ids))
    a, b, c, d = (ThumbnailRequest(pid, 256, fake_hash(pid)) for pid in (1, 2, 3, 4))
    loader.request([a, b], urgent=2)
    loader.request([c], urgent=1)            # scrolled down: the batch of 1–2 will pass both by ...
    fut, fn = pool.queue.popleft()
    result = fn()
    loader.request([c, d, a], urgent=2)      # ... and back before it returns: 3–4 on screen, 1 ahead
    fut.set_result(result)                   # 1 goes back in the queue, behind the screen
    qtbot.waitUntil(lambda: bool(pool.queue), timeout=2000)   # and the queue goes on (it stalled once)
    while pool.queue or not loader.is_idle:
        if pool.queue:
            pool.run_one()
        qtbot.waitUntil(lambda: bool(pool.queue) or loader.is_idle, timeout=2000)
    assert got[:2] == [3, 4] and set(got) == {1, 3, 4}        # the screen first, then what is ahead
