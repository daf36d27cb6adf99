"""The process's memory budget for decodes: :class:`MemoryGate` (any thread; worker threads wait in it).

Every decode a job makes states its cost (``analysis.decode.decode_cost`` from the file's
headers, plus the bytes it holds) and waits, in arrival order, until it fits the budget left
after what the process already held; a picture bigger than the whole budget decodes alone, so
nothing under the bomb limit is refused for its size.  The one gate of a process is shared by
every job kind that decodes (:func:`shared_gate`): the one piece of global state here.
"""
from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _trim_heap() -> None:
    """Give freed decode buffers back to the system (glibc keeps them in per-thread arenas:
    without this, five big decodes in turn on two threads still held two of them)."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _malloc_trim = libc.malloc_trim
        except (OSError, AttributeError, TypeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim: Any = None
TRIM_AFTER_BYTES = 32 << 20


class MemoryGate:
    """Admits decodes against a byte budget, in arrival order, across every worker thread.

    Each caller states what its decode will cost (:func:`decode_cost` plus the bytes it holds);
    it waits until what is admitted plus its cost fits ``capacity`` — or until nothing else is
    admitted, so a picture bigger than the whole budget is still decoded, alone.  Ordinary
    photos cost a few MB and never wait; two 200 MP PNGs do not decode at the same time.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, int(capacity))
        self._cond = threading.Condition()
        self._used = 0
        self._admitted = 0
        self._queue: deque[object] = deque()
        self.peak_used = 0

    @contextmanager
    def admit(self, cost: int) -> Iterator[None]:
        cost = max(0, int(cost))
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            while self._queue[0] is not ticket or (self._admitted and self._used + cost > self.capacity):
                self._cond.wait()
            self._queue.popleft()
            self._used += cost
            self._admitted += 1
            self.peak_used = max(self.peak_used, self._used)
            self._cond.notify_all()      # the next in line may fit too
        try:
            yield
        finally:
            with self._cond:
                self._used -= cost
                self._admitted -= 1
                self._cond.notify_all()
            if cost >= TRIM_AFTER_BYTES:
                _trim_heap()


_gate_lock = threading.Lock()
_gate: MemoryGate | None = None
_baseline = 0


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 256 << 20


BASE_MARGIN_BYTES = 96 << 20
"""Left out of the budget besides what the process held when the gate was made: database
connections, batches in flight, encoded thumbnails."""


def shared_gate(budget_bytes: int) -> MemoryGate:
    """The process's one :class:`MemoryGate` (every job kind that decodes shares it), sized so
    the process stays within ``budget_bytes``: the budget less what the process held when the
    gate was first made and a margin for everything that is not a decode."""
    global _gate, _baseline
    with _gate_lock:
        if _gate is None:
            _baseline = _resident_bytes()
        capacity = max(128 << 20, budget_bytes - _baseline - BASE_MARGIN_BYTES)
        if _gate is None:
            _gate = MemoryGate(capacity)
        elif _gate.capacity != capacity:
            with _gate._cond:
                _gate.capacity = capacity
                _gate._cond.notify_all()
        return _gate
