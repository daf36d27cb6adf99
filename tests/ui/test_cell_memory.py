"""CellMemory: composed grid cells are painted into memory set aside (and touched) once, reused
when a cell is evicted, so a growing cache costs the GUI thread no page faults."""
from __future__ import annotations

import resource
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QPainter

from lumina_desktop.services.images import PhotoImages
from lumina_desktop.ui.delegates.thumbnail_delegate import CellSpec, CellStyle, cell_size, render_cell
from lumina_desktop.ui.thumbnails import CellMemory, ThumbnailLoader, ThumbnailRequest
from tests.ui.test_cell_render import as_array
from tests.ui.test_grid_model import ManualExecutor, fake_hash, write_thumbnails

pytestmark = pytest.mark.ui


def test_memory_is_set_aside_for_the_current_size_in_chunks_made_on_a_worker(qapp) -> None:  # type: ignore[no-untyped-def]
    lane = ManualExecutor()
    memory = CellMemory(lane, budget_bytes=10 * 100 * 120 * 4, after=3, chunk=4, low=2)
    memory.set_current(100, 120)
    assert memory.take(100, 120) is None and memory.take(100, 120) is None and memory.sizes == ()
    assert memory.take(100, 120) is None            # the third ask sets memory aside…
    assert memory.sizes == ((100, 120),) and len(lane.queue) == 1
    assert memory.take(100, 120) is None            # …but hands none out until its chunk is made
    lane.run_one()
    qapp.processEvents()
    assert memory.rows_of(100, 120) == (4, 4)
    image, slot = memory.take(100, 120)
    pool, chunk, row = slot
    assert (image.width(), image.height()) == (100, 120) and (pool.chunks[chunk][row] == 0).all()
    painter = QPainter(image)
    painter.fillRect(0, 0, 1, 1, QColor(255, 0, 0))
    painter.end()
    assert pool.chunks[chunk][row][0, :4].tolist() == [0, 0, 255, 255]   # painted in place (BGRA), not in a copy
    memory.give_back(slot)
    again, slot2 = memory.take(100, 120)
    assert slot2[1:] == (chunk, row) and as_array(again)[0, 0].tolist() == [0, 0, 0, 0]   # the row again, blank
    taken = [memory.take(100, 120) for _ in range(3)]
    assert all(t is not None for t in taken) and len(lane.queue) == 1   # fewer than 2 free: the next chunk
    assert memory.take(100, 120) is None                                # (all 4 in use meanwhile)
    for _ in range(100):                            # take every row there is, letting chunks be made
        if memory.take(100, 120) is None:
            if not lane.queue:
                break
            lane.run_one()
            qapp.processEvents()
    assert memory.rows_of(100, 120) == (26, 0)      # grown up to the budget (10 cells) and 16 stand-ins, no more


def test_a_new_size_keeps_the_old_memory_until_its_last_cell_goes(qapp) -> None:  # type: ignore[no-untyped-def]
    lane = ManualExecutor()
    memory = CellMemory(lane, budget_bytes=4 * 50 * 50 * 4, after=1, chunk=8, low=1)

    def ready(w: int, h: int) -> None:
        memory.set_current(w, h)
        memory.take(w, h)
        lane.run_one()
        qapp.processEvents()

    ready(50, 50)
    old = [memory.take(50, 50)[1] for _ in range(2)]
    ready(60, 60)                                    # zoomed: memory for the new size too
    assert set(memory.sizes) == {(50, 50), (60, 60)}
    new = memory.take(60, 60)
    assert new is not None
    late = memory.take(50, 50)                       # a late cell of the old zoom (read before the zoom)…
    assert late is not None
    memory.give_back(late[1])
    assert memory._current == (60, 60) and set(memory.sizes) == {(50, 50), (60, 60)}   # noqa: SLF001 …changes nothing
    memory.set_current(70, 70)
    memory.take(70, 70)                              # zoomed again: no third size while both are in use
    assert set(memory.sizes) == {(50, 50), (60, 60)} and not lane.queue
    memory.set_current(60, 60)                       # back
    for slot in old:
        memory.give_back(slot)                       # the old size's cells were evicted
    assert memory.sizes == ((60, 60),)


def test_the_grid_caches_cells_composed_in_set_aside_memory_without_page_faults(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_thumbnails(tmp_path)
    lane, memory_lane = ManualExecutor(), ManualExecutor()   # (the memory lane's faults are its own thread's)
    style = CellStyle.for_zoom(180)
    one_cell = style.cell_w * style.cell_h * 4
    loader = ThumbnailLoader(lane, PhotoImages(tmp_path), compose=render_cell, cell_size=cell_size,
                             memory_executor=memory_lane, cache_bytes=one_cell * 300, batch_size=50,
                             max_batches_in_flight=1)
    memory = loader.memory
    assert memory is not None
    faults = 0

    def request(ids: range) -> None:
        nonlocal faults
        loader.request([ThumbnailRequest(pid, 180, fake_hash(pid), 256, CellSpec(style, f"IMG_{pid}.JPG", 0, None))
                        for pid in ids])
        while lane.queue or memory_lane.queue:
            while memory_lane.queue:
                memory_lane.run_one()
                qtbot.wait(1)
            if lane.queue:
                before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
                lane.run_one()
                qtbot.wait(1)
                faults += resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before

    request(range(1, 101))                            # the first screens: fresh memory, then set aside
    assert memory.rows_of(style.cell_w, style.cell_h)[1] > 0
    faults = 0
    request(range(101, 301))                          # 200 more cells: the cache grows into the memory
    assert faults < 2000, f"{faults} page faults for 200 cells (fresh memory takes ~40 a cell)"
    cell = loader.pixmap(200, 180, fake_hash(200), CellSpec(style, "IMG_200.JPG", 0, None))
    assert isinstance(cell, QImage)
    reference = render_cell(_qimage(PhotoImages(tmp_path), fake_hash(200)), CellSpec(style, "IMG_200.JPG", 0, None))
    assert np.array_equal(as_array(cell), as_array(reference))   # the same pixels as a cell of its own
    pool = next(p for p in memory._pools.values())   # noqa: SLF001
    request(range(301, 501))                          # past the cache's bound: evicted rows are reused
    assert loader.cached_bytes <= one_cell * 300
    in_memory = sum(1 for _, _, slot in loader._cache.values() if slot is not None)   # noqa: SLF001
    assert pool.in_use == in_memory and in_memory > 150
    loader.clear_cache()
    assert pool.in_use == 0


def _qimage(images: PhotoImages, content_hash: str) -> QImage:
    from lumina_desktop.ui.thumbnails import to_qimage

    picture = images.thumbnail(content_hash, 256, 180)
    assert picture is not None
    return to_qimage(picture)


def test_memory_for_a_size_left_before_its_turn_is_not_made(qapp) -> None:  # type: ignore[no-untyped-def]
    lane = ManualExecutor()
    memory = CellMemory(lane, budget_bytes=4 * 50 * 50 * 4, after=1)
    memory.set_current(50, 50)
    memory.take(50, 50)                  # set aside, its chunk queued…
    pool = memory._pools[(50, 50)]       # noqa: SLF001
    memory.set_current(60, 60)           # …but the user zoomed on before it ran
    assert (50, 50) not in memory.sizes and pool.dropped
    lane.run_one()
    qapp.processEvents()
    assert pool.chunks == [] and pool.rows == 0   # nothing allocated or written: nobody will use it


@pytest.mark.skipif(not hasattr(__import__("mmap"), "MADV_NOHUGEPAGE"), reason="MADV_NOHUGEPAGE is Linux's")
def test_a_chunk_is_blank_ordinary_pages_written_once_so_cells_write_without_a_fault() -> None:
    import mmap

    from lumina_desktop.ui.thumbnails import _Slots

    rows = _Slots(180, 200, limit=64).make_chunk(16)
    assert rows is not None and rows.shape == (16, 200, 180 * 4) and rows.flags.writeable
    base = rows
    while isinstance(base, (np.ndarray, memoryview)):
        base = base.base if isinstance(base, np.ndarray) else base.obj
    assert isinstance(base, mmap.mmap)     # its own mapping, not numpy's huge-page-backed (compacted) memory
    assert not rows.any()                  # blank: transparent cells
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    rows.fill(255)                         # what composing cells into it does: no page to fault in
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 16
    assert rows.all()


def test_making_a_chunk_lets_the_other_threads_run() -> None:
    """The GUI thread must not wait for the memory lane: a chunk is mapped and written with the
    GIL let go (``mmap(MAP_POPULATE)`` kept it for the whole 10 ms a 20 MB chunk took)."""
    import threading
    import time

    from lumina_desktop.ui.thumbnails import _Slots

    made: list[float] = []

    def make() -> None:
        t = time.perf_counter()
        _Slots(480, 520, limit=1000).make_chunk(256)      # 255 MB: a long call
        made.append(time.perf_counter() - t)

    worker = threading.Thread(target=make)
    longest, last = 0.0, time.perf_counter()
    worker.start()
    while worker.is_alive():                              # this thread runs Python all along
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    worker.join()
    assert made and longest < made[0] / 2, (longest, made)


def test_the_memory_lane_runs_calls_in_order_on_one_daemon_thread() -> None:
    import threading

    from lumina_desktop.ui.thumbnails import memory_lane

    lane = memory_lane()
    assert memory_lane() is lane
    futures = [lane.submit(lambda i=i: (i, threading.current_thread().name, threading.current_thread().daemon))
               for i in range(5)]
    results = [f.result(timeout=5) for f in futures]
    assert [r[0] for r in results] == list(range(5)) and {r[1:] for r in results} == {("lumina-ui-memory", True)}
    failing = lane.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=5)


def test_memory_stops_being_set_aside_once_the_grid_is_gone(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QCoreApplication, QEvent, QObject

    lane = ManualExecutor()
    owner = QObject()
    loader = ThumbnailLoader(ManualExecutor(), PhotoImages(tmp_path), compose=render_cell, cell_size=cell_size,
                             memory_executor=lane, cache_bytes=64 * 200 * 250 * 4, parent=owner)
    memory = loader.memory
    assert memory is not None
    memory.set_current(200, 250)
    for _ in range(40):
        memory.take(200, 250)
    assert memory.sizes == ((200, 250),) and len(lane.queue) == 1    # the first chunk is on its way …
    owner.deleteLater()                                              # … when the window closes
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert memory.sizes == ()
    chunk_made, _ = lane.queue[0]
    lane.run_one()                                                   # the chunk's turn: nothing is made
    qtbot.wait(10)
    assert chunk_made.result() is None and not lane.queue            # and no next one is asked for
