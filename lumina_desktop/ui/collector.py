"""IdleCollector: Python's full garbage collections run while the user is idle, not mid-scroll.

CPython's cyclic collector visits every tracked object in a full (oldest-generation) pass and
holds the GIL throughout, so the GUI thread and every worker stop.  In the window at a million
photos (the grid's rows and cells, tens of thousands of objects, on top of ~66,000 made at start)
one pass took 25–50 ms on this 2-core machine: a screen of a stepped scroll that took 30 ms took
90 whenever one fell inside it (issue 17: scroll step p99 ≤ 50 ms).  So, in the window only:

* what exists once the window is up (modules, classes, Qt wrappers) is frozen (``gc.freeze``):
  no full pass visits it again;
* the young generations stay automatic (≤ 3 ms a pass);
* the full pass runs from a timer, once the user has been idle for :data:`IDLE_S` (no scroll, key
  or click in a view that calls :func:`note_activity`) and :data:`MIN_INTERVAL_S` after the last
  one — and after :data:`MAX_INTERVAL_S` whatever the user does, so garbage that only a full pass
  frees (cycles among old objects) waits at most that long.  As CPython's own rule, a pass runs
  only if young passes moved objects into the oldest generation since the last one: an idle
  window does not spend 25–50 ms every 10 s for nothing.

What is frozen is never collected: install it once the long-lived objects exist (the main
window), not before short-lived ones.  Python 3.14 collects the old generation incrementally,
in small steps: there the collector leaves CPython alone (:attr:`IdleCollector.is_supported`).

GUI thread only; :func:`note_activity` may be called from anywhere (it stores a time).
"""
from __future__ import annotations

import gc
import logging
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

IDLE_S = 1.0             # no interaction for this long: a full pass now is not seen
MIN_INTERVAL_S = 10.0    # at most one full pass this often (CPython's own: after 10 middle passes, ~100 young)
MAX_INTERVAL_S = 120.0   # at least one this often, even through a long scroll
CHECK_MS = 500
NO_AUTOMATIC_FULL_PASS = 1 << 30   # the oldest generation's threshold: never reached

_last_activity = 0.0


def note_activity() -> None:
    """The user scrolled, typed or clicked: a full collection now would be seen (cheap; any thread)."""
    global _last_activity
    _last_activity = time.monotonic()


def last_activity() -> float:
    """When :func:`note_activity` was last called (``time.monotonic``; 0: never)."""
    return _last_activity


class IdleCollector(QObject):
    """Takes the oldest generation's collections over from CPython (see the module docstring)."""

    is_supported = sys.version_info < (3, 14)   # (3.14: incremental old-generation passes)

    def __init__(self, parent: QObject | None = None, *, clock: Callable[[], float] = time.monotonic,
                 activity: Callable[[], float] | None = None, collect: Callable[[int], object] = gc.collect,
                 promoted: Callable[[], int] = lambda: gc.get_count()[2], check_ms: int = CHECK_MS,
                 idle_s: float = IDLE_S, min_interval_s: float = MIN_INTERVAL_S,
                 max_interval_s: float = MAX_INTERVAL_S) -> None:
        """``clock`` and ``activity`` (when the user last did something: :func:`last_activity`) on one
        time scale; ``promoted``: young passes since the last full one (``gc.get_count()[2]``)."""
        super().__init__(parent)
        self._clock = clock
        self._activity = activity or last_activity
        self._promoted = promoted
        self.idle_s, self.min_interval_s, self.max_interval_s = idle_s, min_interval_s, max_interval_s
        self._collect = collect
        self._last_full = clock()
        self._thresholds: tuple[int, int, int] | None = None
        self.full_passes = 0
        self._timer = QTimer(self)
        self._timer.setInterval(check_ms)
        self._timer.timeout.connect(self.check)

    def install(self) -> None:
        """Freeze what exists now and take the full passes over (undone by :meth:`uninstall`)."""
        if self._thresholds is not None or not self.is_supported:
            return
        gc.collect()       # (what is garbage now is not frozen with the rest)
        gc.freeze()
        self._thresholds = gc.get_threshold()
        young, middle, _ = self._thresholds
        gc.set_threshold(young, middle, NO_AUTOMATIC_FULL_PASS)
        self._last_full = self._clock()
        self._timer.start()

    def uninstall(self) -> None:
        if self._thresholds is None:
            return
        self._timer.stop()
        gc.set_threshold(*self._thresholds)
        self._thresholds = None
        gc.unfreeze()

    @property
    def is_installed(self) -> bool:
        return self._thresholds is not None

    def check(self) -> bool:
        """Timer: run a full pass if it is due (idle long enough, or overdue); True if one ran."""
        now = self._clock()
        since_full = now - self._last_full
        idle = now - self._activity()
        if since_full < self.min_interval_s or (idle < self.idle_s and since_full < self.max_interval_s):
            return False
        if not self._promoted():
            return False
        t = time.perf_counter()
        self._collect(2)
        ms = (time.perf_counter() - t) * 1000
        self._last_full = self._clock()
        self.full_passes += 1
        log.debug("full garbage collection: %.1f ms", ms)
        return True


_collector: IdleCollector | None = None


def install_idle_collector(parent: QObject | None = None) -> IdleCollector:
    """The process's collector, installed (once the window is up: what exists then is frozen)."""
    global _collector
    if _collector is None:
        _collector = IdleCollector(parent)
    _collector.install()
    return _collector
