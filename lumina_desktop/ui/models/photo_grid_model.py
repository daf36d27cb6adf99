"""PhotoGridModel: the ordered photo ids of one query, a bounded page cache, thumbnails on demand.

GUI thread.  The id list comes from a :class:`PhotoSource` off the GUI thread, as an int64 array
(8 bytes a photo: a million ids are 8 MB, not 36 MB of Python ints and an 80 MB dict) with a
sorted copy for ``row_of`` (binary search), both made in the worker.  A new query reads its
first :data:`HEAD_ROWS` ids and its count first (an index walk with a LIMIT and an index-only
count: milliseconds at any size), shows them with every row there (the scroll bar is right at
once; rows further on are placeholders), then reads the whole list and fills the rest in: the
first screen never waits for a million sorted ids, and no row is inserted or reset for it.  Rows are filled from pages of :class:`PhotoSummary` read on the
interactive lane; ``data()`` is O(1) and only returns cached values or a placeholder (``None``)
while it schedules the fetch.

Generations: a new query (``set_source``) resets the model and bumps ``generation``; page and
thumbnail results of an older generation are dropped.  A refresh never resets: extra rows are
inserted (or surplus rows removed) at the end, rows whose photo changed get ``dataChanged``
(all roles), so the view keeps its layout and scroll position — with uniform cells the
geometry of N rows does not depend on which photo sits in which row.  Summaries are cached by
photo id, so a row whose photo moved shows the cached summary at once; on a manual
``refresh`` on-screen pages are re-read and the rest is dropped.  The owner restores the
selection by photo id around ``ids_about_to_change`` / ``ids_loaded``.

The change feed (:meth:`apply_changes`) says which photos changed and how: the id list is read
again only when membership or, for this query, order can have changed (coalesced, rate-limited),
and only pages on screen holding a changed photo are read again.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QStandardItemModel

from lumina_desktop.core.changes import Aspect, PhotoChanges
from lumina_desktop.core.library import PhotoFilter, PhotoSummary, SortOrder
from lumina_desktop.services.photos import PhotoQueries
from lumina_desktop.ui.models.roles import PhotoRole
from lumina_desktop.ui.tasks import run_query
from lumina_desktop.ui.delegates.thumbnail_delegate import (
    BURST_BEST, BURST_MEMBER, BURST_NONE, DEFAULT_THUMB_PX, CellSpec, CellStyle,
)
from lumina_desktop.ui.thumbnails import ThumbnailLoader, ThumbnailRequest

log = logging.getLogger(__name__)

PAGE_SIZE = 100               # a page of summaries: 1.1 ms at 1M photos idle (200: 1.75 ms; a screen is 25–50 rows)
MAX_ROW_SHIFT = 4000          # more rows than this added or removed at once: the rows are made afresh
HEAD_ROWS = 2000              # a new query shows its first rows before the whole id list is read
MAX_PAGES = 320               # 32,000 summaries cached
MAX_PAGES_IN_FLIGHT = 3
DEFAULT_WINDOW = 120
IDS_MIN_INTERVAL_S = 2.0      # change feed: the id list is re-read at most this often while changes go on,
IDS_MAX_INTERVAL_S = 5.0      # …the interval growing by a second per re-read while they keep coming (a long scan)…
FREE_IDS_READ_S = 0.05        # an id list read faster than this is read at once after a quiet spell
IDS_COST_FACTOR = 10.0        # …and at most once per 10× the time the last read took (a 1M catalog)
STALE_MIN_INTERVAL_MS = 1000  # pages holding changed photos are re-read at most once a second
_SUMMARY_ROLES = [int(Qt.ItemDataRole.DisplayRole), int(Qt.ItemDataRole.ToolTipRole), *map(int, (
    PhotoRole.Thumbnail, PhotoRole.Rating, PhotoRole.Flags, PhotoRole.QualityScore, PhotoRole.BurstId,
    PhotoRole.DuplicateGroupId, PhotoRole.Status, PhotoRole.Kind, PhotoRole.Summary))]
AnyIndex = QModelIndex | QPersistentModelIndex


class PhotoSource(Protocol):
    """Where a grid's rows come from.  ``load_*`` run on a worker thread."""

    def load_ids(self, limit: int | None = None) -> Sequence[int]:
        """The ids in order (the first ``limit`` if given); an int64 array is kept as it is."""

    def load_head(self, limit: int) -> tuple[Sequence[int], int]:
        """The first ``limit`` ids, and how many :meth:`load_ids` would return."""

    def load_page(self, ids: Sequence[int]) -> dict[int, PhotoSummary]: ...

    @property
    def key_aspects(self) -> frozenset[Aspect]:
        """What, changing about a photo, can make it join, leave or move in the id list."""


@dataclass(frozen=True)
class CatalogPhotoSource:
    """The photos of a catalog matching a filter, in a sort order (read through ``PhotoQueries``)."""

    photos: PhotoQueries
    catalog_id: int
    filter: PhotoFilter = PhotoFilter()
    order: SortOrder = SortOrder()

    def load_ids(self, limit: int | None = None) -> Sequence[int]:
        return self.photos.id_array(self.catalog_id, self.filter, self.order, limit=limit)

    def load_head(self, limit: int) -> tuple[Sequence[int], int]:
        return self.photos.first_ids_and_count(self.catalog_id, self.filter, self.order, limit)

    def load_page(self, ids: Sequence[int]) -> dict[int, PhotoSummary]:
        return self.photos.page(ids)

    @property
    def key_aspects(self) -> frozenset[Aspect]:
        return self.filter.key_aspects | self.order.key_aspects


EMPTY_IDS = np.empty(0, dtype=np.int64)
EMPTY_IDS.flags.writeable = False


@dataclass(frozen=True, eq=False)
class IdIndex:
    """Photo id → row for an id array: the ids sorted, and the row each came from (binary search)."""

    keys: np.ndarray
    rows: np.ndarray

    @classmethod
    def of(cls, ids: np.ndarray) -> "IdIndex":
        order = np.argsort(ids, kind="stable")    # numpy sorts without the GIL: a worker's job
        return cls(ids[order], order)

    def row(self, photo_id: int) -> int:
        i = int(np.searchsorted(self.keys, photo_id))
        return int(self.rows[i]) if i < len(self.keys) and self.keys[i] == photo_id else -1

    def rows_of(self, photo_ids: Iterable[int]) -> np.ndarray:
        """Rows of ``photo_ids`` in that order, -1 where absent."""
        want = np.fromiter(photo_ids, dtype=np.int64)
        if not len(self.keys) or not len(want):
            return np.full(len(want), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, want), len(self.keys) - 1)
        return np.where(self.keys[at] == want, self.rows[at], -1)


EMPTY_INDEX = IdIndex(EMPTY_IDS, EMPTY_IDS)


@dataclass(frozen=True, eq=False)
class IdList:
    """A loaded id list, compared with the list it will replace (``base``) off the GUI thread.

    ``index`` is built in the worker (or reused from ``base`` when nothing moved).  ``first``/
    ``last`` bound the rows of the common prefix whose photo changed (``first == common``: none).
    """

    ids: np.ndarray
    index: IdIndex
    base: np.ndarray
    first: int
    last: int
    known: int | None = None      # rows whose id is read (the first rows of a new query); None: all

    @property
    def is_unchanged(self) -> bool:
        return len(self.ids) == len(self.base) and self.first == len(self.ids)


def as_id_array(ids: Sequence[int]) -> np.ndarray:
    """``ids`` as a read-only int64 array (no copy if it already is one)."""
    arr = np.ascontiguousarray(np.asarray(ids, dtype=np.int64))
    if arr.flags.writeable:
        arr.flags.writeable = False
    return arr


def head_ids(source: PhotoSource, limit: int) -> IdList:
    """Worker: a new query's first ``limit`` ids in an array as long as the whole list (zeros
    after them, the ``known`` rows indexed)."""
    first, total = source.load_head(limit)
    head = as_id_array(first)
    total = max(total, len(head)) if len(head) >= limit else len(head)
    if total == len(head):
        return index_ids(head, EMPTY_IDS)
    ids = np.zeros(total, dtype=np.int64)
    ids[:len(head)] = head
    ids.flags.writeable = False
    return IdList(ids, IdIndex.of(head), EMPTY_IDS, 0, 0, known=len(head))


def index_ids(ids: Sequence[int], base: np.ndarray, base_index: IdIndex | None = None) -> IdList:
    """Worker: the changed span relative to ``base``, and the reverse index (``base_index`` is
    reused when no row changed; otherwise sorted afresh, about 50 ms for a million ids)."""
    arr = as_id_array(ids)
    common = min(len(arr), len(base))
    diff = np.flatnonzero(arr[:common] != base[:common])
    first = int(diff[0]) if diff.size else common
    last = int(diff[-1]) if diff.size else first
    if base_index is not None and len(base_index.keys) == len(base) and first == common and len(arr) == len(base):
        return IdList(arr, base_index, base, first, last)
    return IdList(arr, IdIndex.of(arr), base, first, last)


def row_ranges(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted rows → inclusive (first, last) runs."""
    out: list[tuple[int, int]] = []
    for r in sorted(set(rows)):
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


class PhotoGridModel(QStandardItemModel):
    """Rows = photo ids of the current query.  Only ids live here in full; summaries are paged.

    A one-column list model whose ``rowCount()`` and ``index()`` stay in C++: it derives from
    QStandardItemModel only for that, and never creates an item (its rows are ``len(ids)`` null
    pointers, 8 MB for a million; every role is answered by :meth:`data` from the ids and the
    page cache).  What Qt asks of a model in bulk — ``index()`` → ``hasIndex()`` →
    ``rowCount()`` for every row of a selection range or a layout — stays in C++ (with a Python
    ``rowCount``, QListView's layout of 100,000 photos made 200,000 Python calls, ≈ 170 ms, several
    times more while a scan kept the GIL busy).  Making a million rows takes ≈ 4 ms (QStringListModel,
    used before, made a million empty strings: 45 ms, the longest stall of opening a million
    photos).  Rows change only through this class (``_apply_ids``); do not call
    ``insertRows``/``removeRows``/``setRowCount``/``setItem`` from outside.
    """

    count_changed = Signal(int)
    load_failed = Signal(str)
    ids_about_to_change = Signal()   # the id list is about to change (reset, or rows added/moved)
    ids_loaded = Signal(bool)        # True: the model was reset (new query); False: kept (refresh)

    def __init__(self, executor: Executor, thumbnails: ThumbnailLoader, parent: QObject | None = None, *,
                 page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES) -> None:
        super().__init__(0, 1, parent)
        self._executor = executor
        self._thumbs = thumbnails
        self._page_size = page_size
        self._max_pages = max_pages
        self._source: PhotoSource | None = None
        self._ids: np.ndarray = EMPTY_IDS
        self._index: IdIndex = EMPTY_INDEX
        self._known = 0                         # rows whose id is read (fewer: a new query's first rows)
        self._summaries: dict[int, PhotoSummary] = {}          # by photo id
        # each cell's request, made once per summary, style and source (a cell is asked for on every
        # paint: building it and hashing its key again took ~1 ms of the GUI thread a screen)
        self._requests: dict[int, tuple[PhotoSummary, ThumbnailRequest]] = {}
        self._pages: OrderedDict[int, None] = OrderedDict()     # loaded page numbers, least recent first
        self._pages_in_flight: set[int] = set()
        self._stale_pages: set[int] = set()
        self._wanted_pages: set[int] = set()
        self._page_epoch = 0
        self.generation = 0
        self._load_token = 0
        self._is_loading = False
        self._reload_again = False
        self._window = (0, DEFAULT_WINDOW - 1)
        self._style = CellStyle.for_zoom(DEFAULT_THUMB_PX)
        self._pump_timer = QTimer(self)
        self._pump_timer.setSingleShot(True)
        self._pump_timer.setInterval(0)
        self._pump_timer.timeout.connect(self._pump)
        # the change feed: id-list re-reads and stale pages, coalesced and rate-limited
        self.ids_min_interval_s = IDS_MIN_INTERVAL_S
        self._ids_timer = QTimer(self)
        self._ids_timer.setSingleShot(True)
        self._ids_timer.timeout.connect(self._on_ids_timer_timeout)
        self._ids_reload_wanted = False
        self._flush_wanted = False              # a job ended: its last changes are read at once
        self._last_ids_load = (-1e9, 0.0)      # (monotonic start, duration) of the last id read
        self._ids_streak = 0                    # feed-driven re-reads in a row, each soon after the last
        self._ids_load_started = 0.0
        self._changed_ids: set[int] = set()     # named by the feed, pages not yet marked stale
        self._stale_ids: set[int] = set()       # cached summaries the feed said changed (until re-read)
        self._all_changed = False               # a change named no photos: every page on screen
        self._stale_timer = QTimer(self)
        self._stale_timer.setSingleShot(True)
        self._stale_timer.timeout.connect(self._on_stale_timer_timeout)
        self._last_stale_flush = -1e9
        self.ids_reads = 0                      # id-list reads started (tests, benchmarks)
        self.page_reads = 0
        self.pumps = 0                          # times the wanted pages and thumbnails were worked out
        thumbnails.thumbnails_ready.connect(self._on_thumbnails_ready)

    # -- queries
    @property
    def source(self) -> PhotoSource | None:
        return self._source

    def set_source(self, source: PhotoSource | None) -> None:
        """Show a new query (loaded off-thread; the model resets when the ids arrive)."""
        self._source = source
        self._requests.clear()    # (whether bursts are stacked is the source's)
        self._load_token += 1
        self._reload_again = False
        if source is None:
            self._is_loading = False
            self._apply_ids(self._load_token, True, index_ids(EMPTY_IDS, self._ids))
            return
        self._start_load(is_new_query=True)

    def refresh(self) -> None:
        """Re-read the ids of the same query and every page on screen; keep rows when nothing
        moved (coalesced).  The change feed uses :meth:`apply_changes` instead."""
        if self._source is None:
            return
        if self._is_loading:
            self._reload_again = True
            return
        self._start_load(is_new_query=False)

    def apply_changes(self, change: PhotoChanges) -> None:
        """The change feed named photos of this catalog: re-read only what that can affect.

        The id list is re-read when photos were added or removed, or when re-analysed photos can
        join, leave or move in this query (its filter or sort key depends on analysis): the first
        change after a quiet spell at once, then at most once per ``ids_min_interval_s`` (2 s),
        the interval growing by a second per re-read to 5 s while changes keep coming.  Pages on screen
        that hold a changed photo are re-read (at most once a second) and announce their rows'
        roles with ``dataChanged``; nothing else is read.
        """
        if self._source is None:
            return
        if change.changes_membership or (change.aspects & self._source.key_aspects):
            self._ids_reload_wanted = True
            self._schedule_ids_reload()
        if change.is_itemised:
            self._changed_ids |= change.photo_ids
            self._thumbs.forget_failures(change.photo_ids)
        else:
            self._all_changed = True
            self._thumbs.forget_failures()
        if not self._stale_timer.isActive():
            wait_ms = STALE_MIN_INTERVAL_MS - (time.monotonic() - self._last_stale_flush) * 1000
            self._stale_timer.start(max(0, int(wait_ms)))

    def flush_changes(self) -> None:
        """A job that changed photos has ended: the id list it still owes the grid is read now,
        not when the rate limit allows (at a million photos that was up to 7 s later)."""
        if self._source is None or not self._ids_reload_wanted:
            return
        self._flush_wanted = True
        if not self._is_loading:
            self._ids_timer.stop()
            self._schedule_ids_reload()

    def _schedule_ids_reload(self) -> None:
        if self._flush_wanted and not self._is_loading:
            self._flush_wanted = False
            self._ids_timer.stop()
            self._on_ids_timer_timeout()
            return
        if self._is_loading or self._ids_timer.isActive():
            return      # the end of the running read, or the timer, comes back here
        started, took = self._last_ids_load
        interval = self._ids_interval()
        now = time.monotonic()
        if now - started > interval + 2.0:
            # a quiet spell: the next change shows at once, unless the list is costly to read:
            # then after 10× the last read (a million ids: about 2.5 s), so a short scan is not
            # slowed by a read in its middle; its end reads the list anyway (flush_changes)
            self._ids_streak = 0
            wait_s = IDS_COST_FACTOR * took if took > FREE_IDS_READ_S and self.ids_min_interval_s > 0 else 0.0
        else:
            wait_s = started + max(interval, IDS_COST_FACTOR * took) - now
        if wait_s > 0:
            self._ids_timer.start(int(wait_s * 1000) + 1)
        else:
            self._on_ids_timer_timeout()

    def _ids_interval(self) -> float:
        if self.ids_min_interval_s <= 0:
            return 0.0
        return min(max(IDS_MAX_INTERVAL_S, self.ids_min_interval_s), self.ids_min_interval_s + self._ids_streak)

    def _on_ids_timer_timeout(self) -> None:
        if self._ids_reload_wanted and self._source is not None and not self._is_loading:
            self._ids_reload_wanted = False
            self._ids_streak += 1
            self._start_load(is_new_query=False, from_feed=True)

    def _on_stale_timer_timeout(self) -> None:
        """Pages holding photos the feed named: re-read if on screen, forgotten otherwise."""
        self._last_stale_flush = time.monotonic()
        changed, self._changed_ids = self._changed_ids, set()
        every, self._all_changed = self._all_changed, False
        if every:
            self._invalidate_pages()
        elif changed:
            rows = self._index.rows_of(changed)
            self._mark_pages_stale(set((rows[rows >= 0] // self._page_size).tolist()), changed)
        self._schedule_pump()

    def _mark_pages_stale(self, pages: set[int], photo_ids: set[int]) -> None:
        if not pages:
            return
        keep = set(self._window_pages())
        for p in pages:
            if p in keep:
                self._stale_pages.add(p)
                self._pages_in_flight.discard(p)    # a read in flight may predate the change
            elif p in self._pages:
                del self._pages[p]
        for pid in photo_ids:                       # off-screen: read again when shown
            row = self._index.row(pid)
            if row >= 0 and row // self._page_size not in keep:
                self._summaries.pop(pid, None)
            elif pid in self._summaries:
                self._stale_ids.add(pid)            # shown until its page is read again
        self._page_epoch += 1

    def _start_load(self, *, is_new_query: bool, from_feed: bool = False) -> None:
        """Read the ids: a new query its first :data:`HEAD_ROWS` first (shown at once), then all."""
        source = self._source
        assert source is not None
        token = self._load_token = self._load_token + 1
        self._is_loading = True
        self._ids_load_started = time.monotonic()
        self.ids_reads += 1
        base, base_index = self._ids, self._index
        work = (lambda: head_ids(source, HEAD_ROWS)) if is_new_query else \
            (lambda: index_ids(source.load_ids(), base, base_index))
        run_query(self._executor, work, lambda res: self._apply_ids(token, is_new_query, res, from_feed),
                  lambda exc: self._on_load_failed(token, exc), owner=self)

    def _load_ended(self) -> None:
        self._is_loading = False
        self._last_ids_load = (self._ids_load_started, time.monotonic() - self._ids_load_started)

    def _on_load_failed(self, token: int, exc: BaseException) -> None:
        if token != self._load_token:
            return
        self._load_ended()
        log.error("loading the photo list failed", exc_info=exc)
        self.load_failed.emit(str(exc) or type(exc).__name__)

    def _apply_ids(self, token: int, is_new_query: bool, result: IdList, from_feed: bool = False) -> None:
        if token != self._load_token:
            return  # a newer query or refresh superseded this one
        self._load_ended()
        old = self._ids
        if result.base is not old:  # cannot happen with serialised loads; recompare to be safe
            result = index_ids(result.ids, old, self._index)
        ids = result.ids
        completing, known_before = self.is_partial, self._known
        self._known = len(ids) if result.known is None else result.known
        if is_new_query:
            self.ids_about_to_change.emit()
            self.generation += 1
            self._thumbs.reset()
            self._ids, self._index = ids, result.index
            self._summaries.clear()
            self._stale_ids.clear()
            self._pages.clear()
            self._pages_in_flight.clear()
            self._stale_pages.clear()
            self._wanted_pages.clear()
            self._page_epoch += 1
            self._make_rows(len(ids))
        elif result.is_unchanged:
            if not from_feed and not completing:
                self._invalidate_pages()
        elif completing and result.first >= known_before and len(ids) == len(old):
            self._fill_in(result, known_before)
        else:
            self.ids_about_to_change.emit()
            is_new_query = self._apply_changed_ids(result, from_feed or completing) or is_new_query
        if is_new_query or len(ids) != len(old):
            self.count_changed.emit(len(ids))
        self.ids_loaded.emit(is_new_query)
        self._schedule_pump()
        if self.is_partial:                       # the first rows are shown: now the whole list
            self._start_load(is_new_query=False, from_feed=True)
            return
        if self._reload_again:
            self._reload_again = False
            self.refresh()
        elif self._ids_reload_wanted:
            self._schedule_ids_reload()

    def _fill_in(self, result: IdList, known_before: int) -> None:
        """The whole list of a new query came, its first rows as shown: fill in the ids after them
        (no row moves; reads in flight stay good; the page holding the old boundary is read again)."""
        self._ids, self._index = result.ids, result.index
        boundary = known_before // self._page_size
        if boundary in self._pages:
            self._stale_pages.add(boundary)
        if result.first < len(result.ids):
            self._announce_rows(result.first, result.last)

    def _apply_changed_ids(self, result: IdList, from_feed: bool = False) -> bool:
        """Same query, new ids: grow or shrink at the end, then announce the rows whose photo
        changed.  True if the rows were made afresh instead (more than :data:`MAX_ROW_SHIFT`
        rows come or go, a big import: one reset, which the owner handles like a new query's,
        keeping the selection by photo id)."""
        n_old, n_new = len(result.base), len(result.ids)
        self._ids, self._index = result.ids, result.index
        if abs(n_new - n_old) > MAX_ROW_SHIFT:
            self._make_rows(n_new)
            self._repage()
            return True
        if n_new > n_old:
            self.insertRows(n_old, n_new - n_old)   # rowsAboutToBeInserted / rowsInserted at the end
        elif n_new < n_old:
            self.removeRows(n_new, n_old - n_new)   # rowsAboutToBeRemoved / rowsRemoved at the end
        if from_feed:
            self._repage()
        else:
            self._invalidate_pages()
        if result.first < min(n_old, n_new):
            self._announce_rows(result.first, result.last)
        return False

    def _announce_rows(self, first: int, last: int) -> None:
        """Rows ``first``–``last`` show other photos: ``dataChanged`` for those on screen (and one
        screen ahead) only.  Views read rows as they paint them, so the others need no signal
        (a photo added at the top of a million rows shifts them all; QListView, used before,
        walked every row of the range it was given: a second of the GUI thread)."""
        lo, _, hi = self._span()
        lo, hi = max(first, lo), min(last, hi)
        if lo <= hi:
            self.dataChanged.emit(self.index(lo, 0), self.index(hi, 0), [*_SUMMARY_ROLES, int(PhotoRole.PhotoId)])

    def _make_rows(self, n: int) -> None:
        """A model reset to ``n`` rows: views hear ``modelAboutToBeReset`` / ``modelReset`` only."""
        self.beginResetModel()
        was_blocked = self.blockSignals(True)   # the row signals inside the reset: no view listens
        try:
            self.setRowCount(0)
            self.setRowCount(n)
        finally:
            self.blockSignals(was_blocked)
        self.endResetModel()

    def _repage(self) -> None:
        """The rows moved (the change feed says which photos changed, handled apart): pages on
        screen whose photos all have a cached summary stay; the others are read; the rest go."""
        self._page_epoch += 1
        self._pages_in_flight.clear()
        keep = set(self._window_pages())
        for p in list(self._pages):
            if p not in keep:
                del self._pages[p]
            elif any(pid not in self._summaries or pid in self._stale_ids for pid in self._page_ids(p)):
                self._stale_pages.add(p)
        for p in keep:
            if p not in self._pages and all(pid in self._summaries and pid not in self._stale_ids
                                            for pid in self._page_ids(p)):
                self._pages[p] = None           # every summary is cached: nothing to read
        wanted = {pid for p in keep for pid in self._page_ids(p)}
        self._summaries = {pid: s for pid, s in self._summaries.items() if pid in wanted}

    def _invalidate_pages(self) -> None:
        """Everything may have changed (a scan is running): re-read on-screen pages, forget the rest."""
        self._page_epoch += 1
        self._pages_in_flight.clear()
        keep = set(self._window_pages())
        for p in list(self._pages):
            if p in keep:
                self._stale_pages.add(p)
            else:
                del self._pages[p]
        wanted = {pid for p in keep for pid in self._page_ids(p)}
        self._summaries = {pid: s for pid, s in self._summaries.items() if pid in wanted}
        self._thumbs.forget_failures()

    # -- what the view shows
    @property
    def cell_style(self) -> CellStyle:
        return self._style

    def set_cell_style(self, style: CellStyle) -> None:
        """How cells look (zoom, colours); the cells on screen are composed again in that style."""
        if style != self._style:
            self._style = style
            self._requests.clear()
            self._schedule_pump()

    def thumbnail_request(self, s: PhotoSummary) -> ThumbnailRequest:
        """What to read and compose for ``s``'s cell (its key identifies the cached pixmap)."""
        hit = self._requests.get(s.id)
        if hit is not None and hit[0] is s:
            return hit[1]
        st = self._style
        source_px = s.thumb_px_for(st.thumb_px) if s.content_hash else None
        req = ThumbnailRequest(s.id, st.thumb_px, s.content_hash or "", source_px or 0,
                               CellSpec(st, s.file_name, int(s.flags), s.shown_stars,
                                        round(s.quality_score) if s.quality_score is not None else None,
                                        BURST_BEST if s.is_burst_best else BURST_MEMBER if s.burst_id else BURST_NONE,
                                        (s.burst_size or 0) if s.burst_id and self.is_stacked else 0))
        if len(self._requests) > 2 * len(self._summaries) + 1000:   # summaries evicted or replaced
            self._requests = {pid: v for pid, v in self._requests.items() if self._summaries.get(pid) is v[0]}
        self._requests[s.id] = (s, req)
        return req

    @property
    def is_stacked(self) -> bool:
        """Whether bursts show as stacks (one cell per burst, with its frame count)."""
        return bool(getattr(getattr(self._source, "filter", None), "stack_bursts", False))

    def set_visible_rows(self, first: int, last: int) -> None:
        """The view's visible row range (inclusive); drives page reads and thumbnails."""
        if last < first:
            first, last = 0, DEFAULT_WINDOW - 1
        self._window = (max(0, first), max(0, last))
        self._pump()

    def _span(self) -> tuple[int, int, int]:
        n = len(self._ids)
        first = min(self._window[0], max(0, n - 1))
        last = min(self._window[1], n - 1)
        ahead_last = min(n - 1, last + (last - first + 1))  # one screen ahead
        return first, last, ahead_last

    def _window_pages(self) -> range:
        if not len(self._ids):
            return range(0)
        first, _, ahead_last = self._span()
        return range(first // self._page_size, ahead_last // self._page_size + 1)

    def _schedule_pump(self) -> None:
        if not self._pump_timer.isActive():
            self._pump_timer.start()

    def _pump(self) -> None:
        """Fetch missing/stale pages of the window (then pages data() asked for); queue thumbnails."""
        self.pumps += 1
        if not len(self._ids):
            self._thumbs.request(())
            return
        first, last, ahead_last = self._span()
        on_screen = range(first // self._page_size, last // self._page_size + 1)
        wanted = list(self._window_pages())
        if any(p not in self._pages or p in self._stale_pages for p in on_screen):
            # the pages on screen first: the page a screen ahead waits, so the screen's
            # thumbnails do not queue behind its read (a jump far down the list)
            wanted = [p for p in wanted if p in on_screen]
        wanted += sorted(self._wanted_pages - set(wanted))
        self._wanted_pages.clear()
        for p in wanted:
            if len(self._pages_in_flight) >= MAX_PAGES_IN_FLIGHT:
                break
            if (p not in self._pages or p in self._stale_pages) and p not in self._pages_in_flight:
                self._fetch_page(p)
        requests: list[ThumbnailRequest] = []
        on_screen = 0
        for row in range(first, ahead_last + 1):
            s = self._summary(row, schedule=False)
            if s is not None:
                requests.append(self.thumbnail_request(s))
            if row == last:
                on_screen = len(requests)
        self._thumbs.request(requests, urgent=on_screen)

    def _fetch_page(self, page: int) -> None:
        source = self._source
        if source is None:
            return
        ids = self._page_ids(page)
        if not ids:
            return
        self._pages_in_flight.add(page)
        self.page_reads += 1
        gen, epoch = self.generation, self._page_epoch
        run_query(self._executor, lambda: source.load_page(ids),
                  lambda rows: self._on_page_loaded(gen, epoch, page, rows, len(ids)),
                  lambda exc: self._on_page_failed(gen, epoch, page, exc), owner=self)

    def _on_page_failed(self, gen: int, epoch: int, page: int, exc: BaseException) -> None:
        log.error("loading page %d of the grid failed", page, exc_info=exc)
        if gen == self.generation and epoch == self._page_epoch:
            self._pages_in_flight.discard(page)

    def _on_page_loaded(self, gen: int, epoch: int, page: int, rows: dict[int, PhotoSummary], asked: int) -> None:
        if gen != self.generation or epoch != self._page_epoch:
            return  # stale: another query, or a refresh asked for newer data
        self._pages_in_flight.discard(page)
        self._stale_pages.discard(page)
        if asked < len(self._page_ids(page)):
            self._stale_pages.add(page)     # read while only its first ids were known: read the rest
        self._pages[page] = None
        self._pages.move_to_end(page)
        start = page * self._page_size
        stop = min(self._known, start + self._page_size)
        changed: list[int] = []
        for row, pid in enumerate(self._ids[start:stop].tolist(), start):
            self._stale_ids.discard(pid)
            new = rows.get(pid)
            if new is None:
                continue
            if self._summaries.get(pid) != new:
                self._summaries[pid] = new
                changed.append(row)
        self._evict_pages()
        for a, b in row_ranges(changed):
            self.dataChanged.emit(self.index(a, 0), self.index(b, 0), _SUMMARY_ROLES)
        self._pump()

    def _page_ids(self, page: int) -> list[int]:
        """The page's ids that are read (all but the tail of a new query's first rows)."""
        start = page * self._page_size
        return self._ids[start:min(start + self._page_size, self._known)].tolist()

    def _evict_pages(self) -> None:
        keep = set(self._window_pages())
        for p in list(self._pages):
            if len(self._pages) <= self._max_pages:
                break
            if p not in keep:
                del self._pages[p]
                for pid in self._page_ids(p):
                    self._summaries.pop(pid, None)

    def _on_thumbnails_ready(self, photo_ids: tuple[int, ...]) -> None:
        """One ``dataChanged`` a run of rows (a screen arriving is one or two, not one a cell)."""
        roles = [int(PhotoRole.Thumbnail)]
        for first, last in row_ranges(r for r in self._index.rows_of(photo_ids).tolist() if r >= 0):
            self.dataChanged.emit(self.index(first, 0), self.index(last, 0), roles)

    # -- lookups (all O(1))
    @property
    def ids(self) -> np.ndarray:
        """The ids in row order, as far as they are read (a read-only int64 array)."""
        return self._ids[:self._known]

    @property
    def is_loading(self) -> bool:
        """An id list is being read (a new query's, or a refresh's)."""
        return self._is_loading

    @property
    def is_partial(self) -> bool:
        """Showing a new query's first rows while the whole list is read."""
        return self._known < len(self._ids)

    def photo_id_at(self, row: int) -> int | None:
        return int(self._ids[row]) if 0 <= row < self._known else None

    def row_of(self, photo_id: int) -> int:
        return self._index.row(photo_id)

    def rows_of(self, photo_ids: Iterable[int]) -> list[int]:
        """Rows of ``photo_ids`` (-1 where absent), one vectorised lookup."""
        return self._index.rows_of(photo_ids).tolist()

    def summary_at(self, row: int) -> PhotoSummary | None:
        return self._summary(row, schedule=True) if 0 <= row < self._known else None

    @property
    def loaded_pages(self) -> tuple[int, ...]:
        return tuple(sorted(self._pages))

    def cell_pixmap(self, row: int) -> Any:
        """``data(row, PhotoRole.Thumbnail)`` for the delegate, without the round trip through C++
        (each crossing may wait for the GIL while workers are busy)."""
        if not 0 <= row < self._known:
            return None
        s = self._summary(row, schedule=True)
        return self._thumbnail_of(s) if s is not None else None

    def _thumbnail_of(self, s: PhotoSummary) -> Any:
        key = self.thumbnail_request(s).key
        pixmap = self._thumbs.pixmap_for(key)
        if pixmap is None:
            if not self._thumbs.is_coming(key):
                self._schedule_pump()   # (each paint of a cell still loading would re-queue every row)
            return self._thumbs.any_pixmap(s.id)  # another zoom's or look's, until this one is ready
        return pixmap

    def _summary(self, row: int, *, schedule: bool) -> PhotoSummary | None:
        s = self._summaries.get(int(self._ids[row]))
        if s is None and schedule:
            page_no = row // self._page_size
            if page_no not in self._pages_in_flight and page_no not in self._pages:
                self._wanted_pages.add(page_no)
                self._schedule_pump()
        return s

    # -- QAbstractItemModel: rowCount(), index() and flags() stay in C++ (see the class docstring);
    # the editable / drag flags QStandardItemModel gives item-less rows are inert (the view
    # neither edits nor drags).

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not index.isValid() or row >= self._known:
            return None                 # (a row of a new query whose id is not read yet: a placeholder)
        if role == PhotoRole.PhotoId:
            return int(self._ids[row])
        if role not in _ROLE_SET:
            return None
        s = self._summary(row, schedule=True)
        if role == PhotoRole.Summary:
            return s
        if s is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return s.file_name
        if role == Qt.ItemDataRole.ToolTipRole:
            when = s.capture_time.strftime("%Y-%m-%d %H:%M") if s.capture_time else "no date"
            return f"{s.file_name}\n{when}"
        if role == PhotoRole.Thumbnail:
            return self._thumbnail_of(s)
        if role == PhotoRole.Rating:
            return s.shown_stars
        if role == PhotoRole.Flags:
            return int(s.flags)
        if role == PhotoRole.QualityScore:
            return s.quality_score
        if role == PhotoRole.BurstId:
            return s.burst_id
        if role == PhotoRole.DuplicateGroupId:
            return s.duplicate_group_id
        if role == PhotoRole.Status:
            return s.status
        if role == PhotoRole.Kind:
            return s.kind
        return None

    def roleNames(self) -> dict[int, bytes]:
        names = dict(super().roleNames())
        names.update({int(r): r.name[0].lower().encode() + r.name[1:].encode() for r in PhotoRole})
        return names


_ROLE_SET = frozenset(_SUMMARY_ROLES)
