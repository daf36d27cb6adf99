"""ThumbnailLoader: stored thumbnail files → QPixmaps for the grid, visible rows first.

GUI thread, except :func:`read_thumbnails`, which runs on the interactive lane (a worker of the
executor passed in): it reads each file and decodes and shrinks it *with Pillow*, which releases
the GIL while it works, then wraps the pixels in a deep-copied ``QImage`` (a value; QImage is
not a QObject).  Qt's own ``QImage.scaled``/``QPainter`` calls keep the GIL for their whole
duration, so doing them on workers starves the GUI thread (measured: 400 ms gaps); they run on
the GUI thread instead, once per cell, in ``compose``.

On the GUI thread the image becomes a ``QPixmap`` — with a ``compose`` function (the grid's
``render_cell``) the whole grid cell, so painting a cell is one blit — stored in an LRU bounded
in bytes and keyed by ``(photo_id, px, content_hash, spec)`` (``px`` the displayed size, ``spec``
what else the cell shows, ``None`` for a bare thumbnail), and announced with one
``thumbnails_ready`` signal per :data:`READY_FLUSH_MS` (a screenful arriving in several batches
is repainted a few times, not per batch).  After a zoom or rating change the photo's previous pixmap stands
in until the new one is ready.

Composed cells are painted into :class:`CellMemory`: rows of numpy arrays per cell size, made
and touched in chunks on a worker as the cache grows, reused when a cell is evicted, and cached as the ``QImage`` painted
there (no copy into a fresh ``QPixmap``).  A cell in fresh memory cost the GUI thread ~40 page
faults (161 KB at 180 px): while the cache filled (its first ~600 cells, the first ~15 screens
scrolled) that was ~1,400 faults and 5–25 ms a screen.  Until the memory for a size is ready (or
when it runs out) a cell is a ``QPixmap`` as before; the cache holds both.

Scheduling: :meth:`ThumbnailLoader.request` *replaces* the queue with the caller's ordered list
(visible rows, then one screen ahead); whatever was queued and not yet started is dropped.  At
most ``max_batches_in_flight`` (default two: both threads of the interactive lane; one at a time
made a jump to another part of a million photos wait for four batches in a row, 230 → 145 ms a
screen under load) small batches (four thumbnails: a page query waits for at most ~4 ms of
decoding; eight made a jump wait 15–20 ms for its page) run at a time.  The requests on screen
are read first — those a screen ahead start only once the screen's are read (a jump's screen was
then 4–7 ms sooner at 1M: its decoding no longer shared the two cores with the screen ahead), and
``ahead_delay_ms`` after the screen is announced, so that its repaint does not share them
either — and announced together as soon as the last of them is ready (those ready before wait
for it, at most ``screen_flush_ms``: a repaint of part of a screen cost the GUI thread 1–3.5 ms,
twice a jump), the others gathered for ``flush_ms``.  Interleaved step by step in one trace at a
million photos (two runs, 40–50 steps each way), the two together made the stepped scroll's mean
step 10–14 % shorter.  Every batch carries the loader's ``generation``; :meth:`reset` bumps it
and results of older generations are dropped unseen.  A batch also passes by, unread, each
thumbnail the last request no longer wants (the user scrolled on while it waited or ran), and a
result no longer wanted is not composed: after a jump the page read of the new screen waited for both threads to finish the
old screen's batches (3–6 ms at a million photos), and the GUI thread composed cells no one
would see.
"""
from __future__ import annotations

import logging
import mmap
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from lumina_desktop.services.images import PhotoPictures
from lumina_desktop.services.images import Picture as Decoded
from lumina_desktop.ui.tasks import run_query

log = logging.getLogger(__name__)

DEFAULT_CACHE_BYTES = 96 * 1024 * 1024   # about 13 screens of 180 px cells at 1400×900
READY_FLUSH_MS = 10   # pixmaps that arrive within this window are announced (and repainted) together
SCREEN_FLUSH_MS = 40  # …but those of a screen still coming wait this long for the rest of it
AHEAD_DELAY_MS = 1    # what is ahead starts this long after the screen is announced (its repaint first)
ThumbKey = tuple[int, int, str, Hashable]
Compose = Callable[..., QImage]   # compose(image | None, spec, out=None): the cell, painted into ``out`` if given
CellSize = Callable[[Any], tuple[int, int]]   # the composed cell's size for a spec
Picture = QPixmap | QImage
CELL_MEMORY_AFTER = 32   # cells composed at one size before memory is set aside for it (a screen: 25–50)
_NO_HUGE_PAGES = getattr(mmap, "MADV_NOHUGEPAGE", None)   # Linux only


@dataclass(frozen=True, slots=True)
class ThumbnailRequest:
    """Show photo ``photo_id`` at ``px``, from the stored thumbnail of ``source_px`` (0: none —
    compose a placeholder), with ``spec`` describing the rest of the cell (for ``compose``)."""

    photo_id: int
    px: int
    content_hash: str
    source_px: int = 256
    spec: Hashable | None = None
    key: ThumbKey = field(default=(0, 0, "", None), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:   # (the key is asked for on every paint of the cell: made once)
        object.__setattr__(self, "key", (self.photo_id, self.px, self.content_hash, self.spec))


def to_qimage(picture: Decoded) -> QImage:
    """Worker: decoded pixels as a deep-copied QImage (a value; "BGRA" pictures become RGB32, the
    format QPixmap uses as is)."""
    fmt, depth = {"BGRA": (QImage.Format.Format_RGB32, 4), "RGBA": (QImage.Format.Format_RGBA8888, 4),
                  "RGB": (QImage.Format.Format_RGB888, 3)}[picture.mode]
    return QImage(picture.data, picture.width, picture.height, picture.width * depth, fmt).copy()


READ, DEGRADED, PASSED = "read", "degraded", "passed"   # what became of a request in a batch
ReadResult = tuple[ThumbnailRequest, QImage | None, str]   # request, picture, READ / DEGRADED / PASSED


def read_thumbnails(images: PhotoPictures, requests: tuple[ThumbnailRequest, ...],
                    is_wanted: Callable[[ThumbKey], bool] | None = None) -> tuple[ReadResult, ...]:
    """Worker: each request's thumbnail decoded and fitted to ``px`` (None: none, missing or unreadable).

    DEGRADED marks a thumbnail that should exist but could not be read: the cell is shown as a
    placeholder and retried after a refresh.  A request no longer wanted when its turn comes
    (``is_wanted``, asked before each: the user has scrolled on) is PASSED, not read.
    """
    out: list[ReadResult] = []
    for req in requests:
        if is_wanted is not None and not is_wanted(req.key):
            out.append((req, None, PASSED))
            continue
        image = None
        if req.source_px and req.content_hash:
            picture = images.thumbnail(req.content_hash, req.source_px, req.px)
            image = to_qimage(picture) if picture is not None else None
        out.append((req, image, DEGRADED if req.source_px and image is None else READ))
    return tuple(out)


class _MemoryLane(Executor):
    """One daemon thread running what is submitted, in order.  Only for making cell memory: work
    that holds nothing (no file, no connection) and may simply stop when the program ends."""

    def __init__(self, name: str) -> None:
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((future, lambda: fn(*args, **kwargs)))
        return future

    def _run(self) -> None:
        while True:
            future, call = self._queue.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(call())
                except BaseException as exc:  # noqa: BLE001 — handed to the future, as an executor does
                    future.set_exception(exc)


_memory_lane: _MemoryLane | None = None


def memory_lane() -> Executor:
    """The process's one thread that makes cell memory ("lumina-ui-memory"): on the slow lane the
    chunks waited behind the filter choices (0.45 s at a million photos) while the user scrolled."""
    global _memory_lane
    if _memory_lane is None:
        _memory_lane = _MemoryLane("lumina-ui-memory")
    return _memory_lane


class _Slots:
    """The cells of one size ``w``×``h``: chunks of rows of premultiplied ARGB32, each chunk made and
    touched on a worker before its rows are handed out."""

    def __init__(self, w: int, h: int, limit: int) -> None:
        self.size = (w, h)
        self.limit = limit                       # rows at most: the cache's bound in cells, and a few
        self.chunks: list[np.ndarray] = []
        self.free: list[tuple[int, int]] = []    # (chunk, row), touched and unused
        self.in_use = 0
        self.growing = False                     # a chunk is being made
        self.dropped = False                     # no longer kept: make nothing more

    @property
    def rows(self) -> int:
        return sum(len(c) for c in self.chunks)

    def make_chunk(self, n: int) -> np.ndarray | None:
        """Worker: ``n`` blank rows whose every page is already mapped, or None if the size was
        left meanwhile.

        On Linux an anonymous ``mmap`` of ordinary pages (``MADV_NOHUGEPAGE``), written once by
        numpy, which lets go of the GIL: a 20 MB chunk (128 cells of 180 px) takes 12 ms of CPU.
        numpy's own ``empty`` asks for huge pages, and the kernel compacted memory to find them:
        40–80 ms of CPU a chunk, on one of the two cores the decoding and the GUI thread share
        while the first screens are scrolled (traced at a million photos: up to 44 ms of one
        step's CPU).  (``MAP_POPULATE`` maps the pages in one call, 9–11 ms, but Python's ``mmap``
        keeps the GIL for all of it: every thread stopped.)
        """
        if self.dropped:
            return None
        w, h = self.size
        shape = (n, h, w * 4)
        rows = None
        if _NO_HUGE_PAGES is not None:
            try:
                mapped = mmap.mmap(-1, n * h * w * 4, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
                mapped.madvise(_NO_HUGE_PAGES)
            except (OSError, ValueError):   # (a kernel or sandbox that refuses it: numpy's way below)
                pass
            else:
                rows = np.frombuffer(mapped, np.uint8).reshape(shape)   # (unmapped with the last view)
        if rows is None:
            rows = np.empty(shape, np.uint8)
        rows.fill(0)   # every page written once, here (numpy releases the GIL)
        return rows


Slot = tuple[_Slots, int, int]   # the size's slots, chunk, row


class CellMemory:
    """Memory for composed cells, set aside per cell size and touched on a worker (GUI thread API).

    :meth:`take` hands out a blank (transparent) ``QImage`` in a free row, or None: the size is
    not the current one's, has no memory yet, or its next chunk is still being made.  The current
    size (:meth:`set_current`: the zoom the grid asks for) gets memory once ``after`` cells of it
    were asked for — about a screen, so zooming through sizes sets little aside — in chunks of
    ``chunk`` rows, the next made when fewer than ``low`` are free, up to the cache's bound: memory
    grows with the cache.  (Made up to the bound at once, the first ~20 screens scrolled at a
    million photos were faster in a trace, but the bench's peak RSS rose from 516–607 to 659–663 MB:
    not kept.)  A size no longer current goes when its last cell is given
    back; at most two sizes hold memory.  Chunks are made on ``executor`` (:func:`memory_lane`).
    """

    def __init__(self, executor: Executor, budget_bytes: int, *, after: int = CELL_MEMORY_AFTER,
                 chunk: int = 128, low: int = 48) -> None:
        self._executor = executor
        self._budget = budget_bytes
        self._after = after
        self._chunk = chunk
        self._low = low
        self._pools: dict[tuple[int, int], _Slots] = {}
        self._asked = 0
        self._current: tuple[int, int] | None = None

    def set_current(self, w: int, h: int) -> None:
        """The size the grid now asks for (a zoom): sizes left with no cell in use are dropped."""
        if (w, h) != self._current:
            self._current = (w, h)
            self._asked = 0
            for size, pool in list(self._pools.items()):
                if pool.in_use == 0 and size != self._current:
                    self._drop(pool)

    def take(self, w: int, h: int) -> tuple[QImage, Slot] | None:
        size = (w, h)
        pool = self._pools.get(size)
        if pool is None:
            if size == self._current:
                self._asked += 1
                if self._asked >= self._after and len(self._pools) < 2:
                    pool = self._pools[size] = _Slots(w, h, max(1, self._budget // (w * h * 4)) + 16)
                    self._grow(pool)
            return None
        if len(pool.free) < self._low and size == self._current:
            self._grow(pool)
        if not pool.free:
            return None
        chunk, row = pool.free.pop()
        pool.in_use += 1
        image = QImage(pool.chunks[chunk][row].data, w, h, w * 4, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        return image, (pool, chunk, row)

    def give_back(self, slot: Slot) -> None:
        pool, chunk, row = slot
        pool.free.append((chunk, row))
        pool.in_use -= 1
        if pool.in_use == 0 and pool.size != self._current:
            self._drop(pool)

    @property
    def sizes(self) -> tuple[tuple[int, int], ...]:
        """The cell sizes holding memory (tests, stats)."""
        return tuple(self._pools)

    def release(self) -> None:
        """Set nothing more aside, for any size (the grid is gone: a chunk still being made is
        dropped when it is done).  Rows in use go with their cells."""
        self._current = None
        for pool in list(self._pools.values()):
            self._drop(pool)

    def rows_of(self, w: int, h: int) -> tuple[int, int]:
        """(rows made, rows free) for the size (tests, stats)."""
        pool = self._pools.get((w, h))
        return (pool.rows, len(pool.free)) if pool is not None else (0, 0)

    def _drop(self, pool: _Slots) -> None:
        if self._pools.get(pool.size) is pool:
            del self._pools[pool.size]
        pool.dropped = True

    def _grow(self, pool: _Slots) -> None:
        if pool.growing or pool.dropped or pool.rows >= pool.limit:
            return
        pool.growing = True
        n = min(self._chunk, pool.limit - pool.rows)

        def made(rows: np.ndarray | None) -> None:
            pool.growing = False
            if rows is not None and not pool.dropped:
                pool.chunks.append(rows)
                c = len(pool.chunks) - 1
                pool.free.extend((c, r) for r in range(len(rows) - 1, -1, -1))

        def failed(exc: BaseException) -> None:
            pool.growing = False
            pool.limit = pool.rows          # (out of memory, say: no more chunks; cells go on as pixmaps)
            log.warning("setting aside memory for grid cells failed: %s", exc)

        run_query(self._executor, lambda: pool.make_chunk(n), made, failed)


class ThumbnailLoader(QObject):
    """Reads thumbnails on the interactive lane and keeps the pixmaps in a byte-bounded LRU."""

    thumbnails_ready = Signal(object)   # tuple[int, ...]: photo ids whose pixmap is now cached

    def __init__(self, executor: Executor, images: PhotoPictures, *, cache_bytes: int = DEFAULT_CACHE_BYTES,
                 batch_size: int = 4, max_batches_in_flight: int = 2, compose: Compose | None = None,
                 cell_size: CellSize | None = None, memory_executor: Executor | None = None,
                 flush_ms: int = READY_FLUSH_MS, screen_flush_ms: int = SCREEN_FLUSH_MS,
                 ahead_delay_ms: int = AHEAD_DELAY_MS, parent: QObject | None = None) -> None:
        """``compose(image, spec, out=None)`` makes a request's whole cell; with ``cell_size``
        (its size for a spec) cells are painted into :class:`CellMemory`, made on
        ``memory_executor`` (default: :func:`memory_lane`)."""
        super().__init__(parent)
        self._executor = executor
        self._compose = compose
        self._cell_size = cell_size
        self.memory = CellMemory(memory_executor or memory_lane(), cache_bytes) \
            if compose is not None and cell_size is not None else None
        if self.memory is not None:
            self.destroyed.connect(self.memory.release)   # (the memory lane may still be making a chunk)
        self._images = images
        self.cache_bytes = cache_bytes
        self._batch_size = batch_size
        self._max_batches = max_batches_in_flight
        self._cache: OrderedDict[ThumbKey, tuple[Picture, int, Slot | None]] = OrderedDict()
        self._keys_of: dict[int, set[ThumbKey]] = {}     # photo id -> its cached keys (any size)
        self._cached_bytes = 0
        self._pending: list[ThumbnailRequest] = []
        self._pending_keys: set[ThumbKey] = set()
        self._urgent: set[ThumbKey] = set()      # on screen: announced as soon as the last of them is ready
        self._wanted: frozenset[ThumbKey] = frozenset()   # every key of the last request (read by workers)
        self._order: dict[ThumbKey, int] = {}             # each key's place in the last request
        self._in_flight: set[ThumbKey] = set()
        self._batches_in_flight = 0
        self._failed: set[ThumbKey] = set()
        self._degraded: set[ThumbKey] = set()
        self.generation = 0
        self._ready: list[int] = []
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(flush_ms)
        self._flush_timer.timeout.connect(self._on_flush_timer_timeout)
        self._flush_ms, self._screen_flush_ms = flush_ms, screen_flush_ms
        self._ahead_timer = QTimer(self)   # running: the screen was just announced, what is ahead waits
        self._ahead_timer.setSingleShot(True)
        self._ahead_timer.setInterval(ahead_delay_ms)
        self._ahead_timer.timeout.connect(self._submit)
        self.stale_dropped = 0          # results dropped because their generation was old (tests, stats)
        self.passed_by = 0              # requests passed by, or read and dropped, once no longer wanted
        self.loaded = 0                 # pixmaps made

    # -- cache
    def pixmap(self, photo_id: int, px: int, content_hash: str, spec: Hashable | None = None) -> Picture | None:
        """The cached pixmap (a QImage for a cell composed in :class:`CellMemory`; marked recently
        used) or None.  O(1); never does I/O."""
        return self.pixmap_for((photo_id, px, content_hash, spec))

    def pixmap_for(self, key: ThumbKey) -> Picture | None:
        hit = self._cache.get(key)
        if hit is None:
            return None
        self._cache.move_to_end(key)
        return hit[0]

    def any_pixmap(self, photo_id: int) -> Picture | None:
        """Some cached pixmap of this photo (another size or look): a stand-in while the right one loads."""
        for key in self._keys_of.get(photo_id, ()):
            return self._cache[key][0]
        return None

    def has_pixmap(self, key: ThumbKey) -> bool:
        return key in self._cache

    @property
    def cached_bytes(self) -> int:
        return self._cached_bytes

    def _store(self, key: ThumbKey, pixmap: Picture, slot: Slot | None = None) -> None:
        size = pixmap.width() * pixmap.height() * max(pixmap.depth(), 8) // 8
        self._drop(key)
        self._cache[key] = (pixmap, size, slot)
        self._keys_of.setdefault(key[0], set()).add(key)
        self._cached_bytes += size
        while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
            gone = next(iter(self._cache))
            self._drop(gone)
            self._forget_key(gone)

    def _drop(self, key: ThumbKey) -> None:
        hit = self._cache.pop(key, None)
        if hit is not None:
            self._cached_bytes -= hit[1]
            if hit[2] is not None and self.memory is not None:
                self.memory.give_back(hit[2])

    def _forget_key(self, key: ThumbKey) -> None:
        self._degraded.discard(key)
        keys = self._keys_of.get(key[0])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys_of[key[0]]

    # -- requests
    def request(self, requests: Sequence[ThumbnailRequest], urgent: int = 0) -> None:
        """Replace the queue with ``requests`` (first = most wanted); start what can start.

        The first ``urgent`` requests are on screen: when the last of them is ready the batch is
        announced at once, not after the :data:`READY_FLUSH_MS` that gathers the others.
        """
        self._wanted = frozenset(r.key for r in requests)   # (replaced, never changed: workers read it)
        self._order = {r.key: i for i, r in enumerate(requests)}
        self._pending = [r for r in requests
                         if r.key not in self._cache and r.key not in self._in_flight and r.key not in self._failed]
        self._pending_keys = {r.key for r in self._pending}
        self._urgent = {r.key for r in requests[:urgent]
                        if r.key in self._pending_keys or r.key in self._in_flight}
        if self.memory is not None and self._cell_size is not None and requests and requests[0].spec is not None:
            self.memory.set_current(*self._cell_size(requests[0].spec))
        self._submit()

    def is_coming(self, key: ThumbKey) -> bool:
        """Whether ``key`` is queued or being read, or failed (asking again would change nothing)."""
        return key in self._pending_keys or key in self._in_flight or key in self._failed

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def in_flight_count(self) -> int:
        return len(self._in_flight)

    @property
    def is_idle(self) -> bool:
        """Nothing queued, running or waiting to be announced."""
        return not self._pending and not self._in_flight and not self._ready

    def reset(self) -> int:
        """A new query: drop the queue and ignore results still on their way.  Returns the new generation."""
        self.generation += 1
        self._ready = []
        self._pending = []
        self._pending_keys = set()
        self._urgent = set()
        self._wanted = frozenset()
        self._order = {}
        self._in_flight.clear()
        self._batches_in_flight = 0
        self._ahead_timer.stop()
        return self.generation

    def forget_failures(self, photo_ids: Collection[int] | None = None) -> None:
        """Retry thumbnails that were missing (a running scan may have written them since): of
        ``photo_ids`` only (the change feed named them), or of every photo (None)."""
        if photo_ids is None:
            self._failed.clear()
        else:
            self._failed = {k for k in self._failed if k[0] not in photo_ids}
        for key in [k for k in self._degraded if photo_ids is None or k[0] in photo_ids]:
            self._drop(key)
            self._forget_key(key)

    def clear_cache(self) -> None:
        for key in list(self._cache):
            self._drop(key)
        self._keys_of.clear()
        self._degraded.clear()
        self._cached_bytes = 0

    def _submit(self) -> None:
        while self._pending and self._batches_in_flight < self._max_batches:
            size = self._batch_size
            if self._urgent:   # the screen first: what is ahead waits until the screen is read
                size = next((i for i, r in enumerate(self._pending[:size]) if r.key not in self._urgent), size)
                if not size:
                    if self._batches_in_flight:
                        break     # (their results submit again)
                    size = self._batch_size   # (nothing of the screen is on its way: do not wait for it)
            elif self._ahead_timer.isActive():
                break             # …and until the screen, just announced, is repainted (the timer submits)
            batch = tuple(self._pending[:size])
            del self._pending[:size]
            keys = [r.key for r in batch]
            self._pending_keys.difference_update(keys)
            self._in_flight.update(keys)
            self._batches_in_flight += 1
            generation, images = self.generation, self._images
            run_query(self._executor, lambda b=batch: read_thumbnails(images, b, self._is_wanted),
                      lambda res, g=generation: self._on_batch_read(g, res),
                      lambda exc, g=generation, b=batch: self._on_batch_failed(g, b, exc), owner=self)

    def _is_wanted(self, key: ThumbKey) -> bool:
        """Any thread: whether the last request asked for ``key``."""
        return key in self._wanted

    def _on_batch_read(self, generation: int, results: tuple[ReadResult, ...]) -> None:
        if generation != self.generation:
            self.stale_dropped += len(results)
            return
        self._batches_in_flight -= 1
        ready: list[int] = []
        passed: list[ThumbnailRequest] = []
        was_urgent = bool(self._urgent)
        for req, image, outcome in results:
            self._in_flight.discard(req.key)
            if outcome == PASSED:
                if req.key in self._wanted:   # asked for again after the worker passed it by
                    passed.append(req)
                else:
                    self._urgent.discard(req.key)
                    self.passed_by += 1
                continue
            self._urgent.discard(req.key)
            if req.key not in self._wanted:   # read just before the user scrolled on: not composed
                self.passed_by += 1
                continue
            if self._compose is not None and req.spec is not None:
                try:
                    self._compose_and_store(req, image)
                except Exception:   # noqa: BLE001 — one cell that cannot be drawn is not the grid's end
                    log.exception("composing the cell of photo %s failed", req.photo_id)
                    self._failed.add(req.key)
                    continue
            elif image is None:
                self._failed.add(req.key)
                continue
            else:
                self._store(req.key, QPixmap.fromImage(image))
            if outcome == DEGRADED:
                self._degraded.add(req.key)
            self.loaded += 1
            ready.append(req.photo_id)
        if passed:   # back in the queue in the place the last request gave them (on screen first)
            order, last = self._order, len(self._order)
            self._pending = sorted([*passed, *self._pending], key=lambda r: order.get(r.key, last))
            self._pending_keys.update(r.key for r in passed)
        if was_urgent and not self._urgent:
            self._ahead_timer.start()
        self._submit()
        self._announce(ready, was_urgent)

    def _compose_and_store(self, req: ThumbnailRequest, image: QImage | None) -> None:
        """The whole cell, composed once, here: in memory set aside if there is some, else as a pixmap."""
        assert self._compose is not None
        taken = self.memory.take(*self._cell_size(req.spec)) \
            if self.memory is not None and self._cell_size is not None else None
        if taken is None:
            self._store(req.key, QPixmap.fromImage(self._compose(image, req.spec)))
            return
        try:
            cell = self._compose(image, req.spec, taken[0])
        except BaseException:
            assert self.memory is not None
            self.memory.give_back(taken[1])
            raise
        self._store(req.key, cell, taken[1])

    def _announce(self, ready: list[int], was_urgent: bool) -> None:
        if was_urgent and not self._urgent:     # the screen is complete (or all of it that can be): show it now
            self._ready.extend(ready)
            self._flush_timer.stop()
            self._on_flush_timer_timeout()
        elif ready:
            self._ready.extend(ready)
            if not self._flush_timer.isActive():   # (part of a screen: shown with the rest of it, or late)
                self._flush_timer.start(self._screen_flush_ms if self._urgent else self._flush_ms)

    def _on_flush_timer_timeout(self) -> None:
        ready, self._ready = tuple(self._ready), []
        if ready:
            self.thumbnails_ready.emit(ready)

    def _on_batch_failed(self, generation: int, batch: tuple[ThumbnailRequest, ...], exc: BaseException) -> None:
        log.error("reading thumbnails failed", exc_info=exc)
        if generation != self.generation:
            return
        self._batches_in_flight -= 1
        was_urgent = bool(self._urgent)
        for req in batch:
            self._in_flight.discard(req.key)
            self._urgent.discard(req.key)    # (else what is ahead would wait for them for ever)
            self._failed.add(req.key)
        if was_urgent and not self._urgent:
            self._ahead_timer.start()
        self._submit()
        self._announce([], was_urgent)
