"""Progress: the per-job tracker that throttles, weights and times what it publishes (any thread).

The ``job_progress`` row is the truth; the NOTIFY that follows carries only the job id.  The
tracker writes at most every ``min_interval_s`` (default 0.2 s) per job, and always at phase
changes and at the end.  Overall fraction is the weighted sum of phases and never goes back.
"""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Sequence

from lumina_desktop.jobs.engine.kind import Phase

if TYPE_CHECKING:
    from lumina_desktop.jobs.engine.store import JobStore


def publish_job_progress(store: JobStore, job_id: int, *, phase: str, done: int, total: int,
                         fraction: float, message: str = "", rate: float | None = None,
                         eta_s: float | None = None) -> None:
    """Write the job's progress row and NOTIFY listeners (payload: the job id)."""
    store.publish_progress(job_id, phase=phase, done=done, total=total, fraction=fraction,
                           message=message, rate=rate, eta_s=eta_s)


class ProgressTracker:
    """Weighted phases, rate (items/s, smoothed) and ETA for one job; thread-safe."""

    def __init__(self, store: JobStore, job_id: int, phases: Sequence[Phase], *,
                 min_interval_s: float = 0.2) -> None:
        total_w = sum(p.weight for p in phases) or 1.0
        self._phases = [(p.name, p.weight / total_w) for p in phases]
        self.store = store
        self.job_id = job_id
        self.min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._phase = ""
        self._last_publish = 0.0
        self._rate: float | None = None
        self._rate_mark: tuple[float, float] | None = None
        self.publish_count = 0

    def _phase_base(self, phase: str) -> tuple[float, float]:
        base = 0.0
        for name, w in self._phases:
            if name == phase:
                return base, w
            base += w
        return base, 0.0

    def update(self, phase: str, done: int, total: int, message: str = "", *, force: bool = False,
               final: bool = False, partial: float = 0.0) -> bool:
        """Record progress (``partial``: items in flight, as a fraction of items); publishes when due."""
        now = time.monotonic()
        with self._lock:
            changed = phase != self._phase
            if changed:
                self._phase = phase
                self._rate = None
                self._rate_mark = (now, done + partial)
            elif self._rate_mark is not None and now - self._rate_mark[0] >= 0.5:
                inst = (done + partial - self._rate_mark[1]) / (now - self._rate_mark[0])
                self._rate = inst if self._rate is None else 0.6 * self._rate + 0.4 * inst
                self._rate_mark = (now, done + partial)
            if not (changed or force or final) and now - self._last_publish < self.min_interval_s:
                return False
            self._last_publish = now
            base, weight = self._phase_base(phase)
            part = ((done + partial) / total) if total > 0 else (1.0 if final else 0.0)
            fraction = 1.0 if final else base + weight * min(part, 1.0)
            rate = self._rate if self._rate is None or self._rate >= 0 else None
            eta = (total - done - partial) / rate if rate and rate > 0 and total >= done else None
            self.publish_count += 1
        publish_job_progress(self.store, self.job_id, phase=phase, done=done, total=total,
                             fraction=fraction, message=message, rate=rate, eta_s=eta)
        return True
