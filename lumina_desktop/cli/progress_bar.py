"""Terminal progress for jobs, followed through the job service's LISTEN/NOTIFY (main thread, no Qt).

A progress NOTIFY carries the progress row itself, so the bar moves without a query; the job is
read again only when its state changes (a NOTIFY naming it) and at most once a second besides.
"""
from __future__ import annotations

import dataclasses
import shutil
import sys
import time
from typing import Callable, TextIO

from lumina_desktop.core.jobs import JobProgress, JobSnapshot, JobState
from lumina_desktop.core.text import printable
from lumina_desktop.services.describe import STATE_TEXT, JobWording, format_eta
from lumina_desktop.services.jobs import JobService

READ_EVERY_S = 1.0  # the safety net: the job row is read at least this often (and no more, on progress alone)


def render(job: JobSnapshot, width: int = 80, wording: JobWording | None = None) -> str:
    p = job.progress
    frac = job.fraction
    if wording is not None:
        stage = wording.phase(job) if job.state.is_active else STATE_TEXT[job.state]
    else:
        stage = p.phase if p else job.state.value
    counts = f"{p.done:,}/{p.total:,}" if p and p.total else ""
    rate = f"{p.rate:,.1f}/s" if p and p.rate and job.state == JobState.RUNNING else ""   # nothing runs otherwise
    # the same words as the jobs panel ("1 min 32 s left"), and only when the engine trusts its rate
    eta = format_eta(p.eta_s) if p and p.eta_s is not None and job.state == JobState.RUNNING else ""
    right = " ".join(x for x in (f"{frac * 100:5.1f}%", counts, rate, eta) if x)
    left = f"#{job.id} {printable(wording.name(job)) if wording else job.kind}: {stage:<9}"
    bar_w = max(10, width - len(left) - len(right) - 4)
    filled = int(round(frac * bar_w))
    return f"{left} [{'#' * filled}{'.' * (bar_w - filled)}] {right}"


def with_progress(job: JobSnapshot, progress: JobProgress | None) -> JobSnapshot:
    """``job`` showing ``progress`` (from a NOTIFY) unless that is older than what it shows."""
    if progress is None or progress.job_id != job.id:
        return job
    old = job.progress
    try:
        if old is not None and old.updated_at and progress.updated_at and progress.updated_at < old.updated_at:
            return job
    except TypeError:  # one time with a zone, one without: cannot tell, take the news
        pass
    return dataclasses.replace(job, progress=progress)


def watch(jobs: JobService, job_id: int, *, out: TextIO = sys.stderr, until_finished: bool = True,
          stop: Callable[[], bool] = lambda: False, timeout_s: float | None = None,
          wording: JobWording | None = None) -> JobSnapshot:
    """Redraw the job's bar on every NOTIFY (and every second) until it finishes.  On a terminal
    the bar redraws in place; elsewhere (a log, CI) a line is written every 5 s and at the end."""
    listener = jobs.listen(changes=False)
    tty = out.isatty()
    last_line = ""
    start = time.monotonic()
    last_print, last_printed = -10.0, ""
    job: JobSnapshot | None = None
    read_at = -READ_EVERY_S
    stale = True  # the job must be read (at the start, and after a state change)
    try:
        while True:
            if stale or time.monotonic() - read_at >= READ_EVERY_S:
                job = jobs.get(job_id)
                read_at, stale = time.monotonic(), False
                if job is None:
                    raise SystemExit(f"job {job_id} disappeared")
            assert job is not None
            width = shutil.get_terminal_size((100, 20)).columns - 1
            line = render(job, width, wording)
            if tty:
                out.write("\r" + line.ljust(len(last_line)))
            elif line != last_printed and (job.state.is_finished or time.monotonic() - last_print >= 5.0):
                out.write(line + "\n")  # not a terminal (a log, CI): a line every 5 s and at the end
                last_print, last_printed = time.monotonic(), line
            out.flush()
            last_line = line
            if (until_finished and (job.state.is_finished or job.state == JobState.INTERRUPTED)) or stop():
                break
            if timeout_s is not None and time.monotonic() - start > timeout_s:
                break
            stale = job_id in listener.wait(READ_EVERY_S)
            job = with_progress(job, listener.take_progress().get(job_id))
    finally:
        listener.close()
        if tty:
            out.write("\n")
            out.flush()
    return job
