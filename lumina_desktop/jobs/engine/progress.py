"""Progress: the per-job tracker that throttles, weights and times what it publishes (any thread).

The ``job_progress`` row is the truth; the NOTIFY that follows carries only the job id.  The
tracker writes at most every ``min_interval_s`` (default 0.2 s) per job, and always at phase
changes and at the end.  Overall fraction is the weighted sum of phases and never goes back.
"""
from __future__ import annotations

import math
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


RATE_TIME_CONSTANT_S = 10.0  # the rate is an exponential moving average over about this long
ETA_AFTER_S = 3.0            # no ETA before the phase has run this long…
ETA_AFTER_FRACTION = 0.02    # …and done this much of its work


class ProgressTracker:
    """Weighted phases, rate (stored items/s, an EMA over ~10 s) and ETA for one job; thread-safe.

    The ETA is shown only once the phase has run 3 s and done 2 % of its items: earlier, a
    burst of quick items (or a slow first batch) makes any estimate wrong by minutes.
    """

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
        self._phase_start = 0.0
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
                self._phase_start = now
            elif self._rate_mark is not None and now - self._rate_mark[0] >= 0.5:
                dt = now - self._rate_mark[0]
                inst = (done + partial - self._rate_mark[1]) / dt
                alpha = 1.0 - math.exp(-dt / RATE_TIME_CONSTANT_S)
                self._rate = inst if self._rate is None else (1 - alpha) * self._rate + alpha * inst
                self._rate_mark = (now, done + partial)
            if not (changed or force or final) and now - self._last_publish < self.min_interval_s:
                return False
            self._last_publish = now
            base, weight = self._phase_base(phase)
            part = ((done + partial) / total) if total > 0 else (1.0 if final else 0.0)
            fraction = 1.0 if final else base + weight * min(part, 1.0)
            rate = self._rate if self._rate is None or self._rate >= 0 else None
            eta = None
            if rate and rate > 0 and total >= done and now - self._phase_start >= ETA_AFTER_S \
                    and total > 0 and (done + partial) / total >= ETA_AFTER_FRACTION:
                eta = (total - done - partial) / rate
            self.publish_count += 1
        publish_job_progress(self.store, self.job_id, phase=phase, done=done, total=total,
                             fraction=fraction, message=message, rate=rate, eta_s=eta)
        return True
