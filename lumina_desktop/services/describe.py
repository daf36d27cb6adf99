"""The one wording of jobs, shared by the CLI and the window: titles, phases, results, ETA (any thread).

Everything kind-specific comes from the kind itself (``JobKind.describe / phase_label /
summarize``), found in the registry the caller passes in.  No per-kind table lives here.
"""
from __future__ import annotations

import re

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lumina_desktop.core.jobs import JobSnapshot, JobState
from lumina_desktop.core.library import PhotoDetails, SmartView
from lumina_desktop.core.media import MediaKind
from lumina_desktop.core.models import PhotoStatus
from lumina_desktop.jobs.engine.kind import JobKind
from lumina_desktop.jobs.engine.registry import KindRegistry

STATE_TEXT = {
    JobState.PENDING: "Waiting", JobState.RUNNING: "Running", JobState.SUCCEEDED: "Done",
    JobState.FAILED: "Failed", JobState.CANCELLING: "Cancelling…", JobState.CANCELLED: "Cancelled",
    JobState.INTERRUPTED: "Interrupted",
}


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return ""
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min left"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s left"
    if s < 5:    # the items are done, the finishing step is not in the rate: never "0 s left" for seconds
        return "a few seconds left"
    return f"{s} s left"


class JobWording:
    """Titles and one-line details of jobs, from the kinds of a registry."""

    def __init__(self, registry: KindRegistry) -> None:
        self.registry = registry

    def kind(self, job: JobSnapshot) -> JobKind | None:  # type: ignore[type-arg]
        return self.registry.find(job.kind)

    def name(self, job: JobSnapshot) -> str:
        kind = self.kind(job)
        if kind is None:  # a kind this program does not know (a newer version queued it)
            return job.kind.replace("_", " ").capitalize()
        return kind.describe(job)

    def title(self, job: JobSnapshot) -> str:
        return f"{self.name(job)}  (#{job.id})"

    def phase(self, job: JobSnapshot) -> str:
        p = job.progress
        if p is None:
            return STATE_TEXT[job.state]
        kind = self.kind(job)
        return kind.phase_label(p.phase) if kind else p.phase.replace("_", " ").capitalize()

    def result(self, job: JobSnapshot) -> str:
        kind = self.kind(job)
        if not job.result:
            return ""
        return kind.summarize(job.result) if kind else ""

    def review_offer(self, job: JobSnapshot) -> tuple[str, str] | None:
        """(view, text) when a job that succeeded found something to review, e.g.
        ("duplicates", "Find duplicates: 24 groups: …"); None otherwise."""
        kind = self.kind(job)
        if kind is None or job.state != JobState.SUCCEEDED or not job.result:
            return None
        view = kind.review_view(job.result)
        return (view, f"{self.name(job)}: {kind.summarize(job.result)}") if view else None

    def detail(self, job: JobSnapshot) -> str:
        p = job.progress
        parts: list[str] = []
        if job.state in (JobState.RUNNING, JobState.CANCELLING) and p is not None:
            parts.append(self.phase(job))
            if p.total:
                parts.append(f"{p.done:,} / {p.total:,}")
            if p.rate:
                parts.append(f"{p.rate:,.1f}/s")
            eta = format_eta(p.eta_s)
            if eta:
                parts.append(eta)
        elif job.state == JobState.PENDING:
            parts.append("Queued" + (f" after job #{job.parent_job_id}" if job.parent_job_id else ""))
        elif job.state == JobState.SUCCEEDED and job.result:
            parts.append(self.result(job))
        elif job.state == JobState.FAILED and job.error:
            parts.append(job.error.splitlines()[0][:200])
        elif job.state == JobState.INTERRUPTED:
            parts.append("Stopped when its program quit; resume to finish")
        elif job.state == JobState.CANCELLED:
            done = f" after {p.done:,} of {p.total:,}" if p is not None and p.total else ""
            parts.append(f"Cancelled{done}; what was done is kept, resume to finish")
        return "  ·  ".join(x for x in parts if x)

    def summary_line(self, job: JobSnapshot) -> str:
        """The CLI's closing line of a job."""
        text = f"job {job.id} ({self.name(job)}): {STATE_TEXT[job.state].lower()}"
        result = self.result(job)
        if result:
            text += f"; {result}"
        if job.item_errors:
            text += f"; {job.item_errors:,} item error(s): lumina-desktop jobs show {job.id} --errors 50"
        if job.error:
            text += f"; {job.error}"
        return text


_LINE_BREAKS = "\r\n\u2028\u2029\x0b\x0c\x85"
_PLAIN = re.compile(r"[^\x00-\x1f\x7f\u2028\u2029\x85]*")
_BREAK_AFTER = "/\\_-.,+ "
ZERO_WIDTH_SPACE = "\u200b"


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)}


def safe_text(text: str) -> str:
    """``text`` with control characters shown as ``\\xNN``, so a file name cannot drive the terminal."""
    return str(text).translate(_CONTROL)


def display_name(text: str) -> str:
    """A file name or path as one line of text: a line break shows as ⏎, other control
    characters as �.  (File names may hold any byte but / and NUL.)"""
    if _PLAIN.fullmatch(text):     # (nearly every name: 0.3 µs, where the walk below took 2)
        return text
    return "".join("⏎" if ch in _LINE_BREAKS else "\ufffd" if ord(ch) < 32 or ord(ch) == 0x7F else ch
                   for ch in text)


def breakable(text: str, run: int = 24) -> str:
    """``text`` with invisible break points after separators and inside long runs, so a
    word-wrapped label can wrap a 244-byte file name or a hash instead of growing to its width.
    Text with no run longer than ``run`` (most names) is left as it is."""
    shown = display_name(text)
    if max((len(w) for w in shown.split()), default=0) <= run:
        return shown
    out: list[str] = []
    n = 0
    for ch in shown:
        out.append(ch)
        n += 1
        if ch in _BREAK_AFTER or n >= run:
            out.append(ZERO_WIDTH_SPACE)
            n = 0
    return "".join(out)


# -- a photo's facts in words (the details panel; the CLI when it shows a photo)
_DATE_SOURCES = {"exif": "EXIF", "xmp": "XMP", "container": "video container", "filename": "file name",
                 "folder": "folder name", "file_mtime": "file modification time"}


def format_bytes(n: int | None) -> str:
    if n is None:
        return "—"
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{n:,} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n:,} bytes"


def format_shutter(s: float | None) -> str | None:
    if s is None or s <= 0:
        return None
    if s >= 0.3:
        return f"{s:.1f} s".replace(".0 s", " s")
    return f"1/{round(1 / s)} s"


def format_exposure(d: PhotoDetails) -> str:
    parts = [format_shutter(d.shutter_s),
             f"f/{d.aperture:.1f}".replace(".0", "") if d.aperture else None,
             f"ISO {d.iso}" if d.iso else None,
             f"{d.focal_length_mm:.0f} mm" if d.focal_length_mm else None]
    return " · ".join(p for p in parts if p) or "—"


def format_date(d: PhotoDetails) -> str:
    if d.capture_time is None:
        return "Unknown"
    text = d.capture_time.strftime("%Y-%m-%d %H:%M:%S")
    if d.capture_offset_min is not None:
        sign = "+" if d.capture_offset_min >= 0 else "−"
        h, m = divmod(abs(d.capture_offset_min), 60)
        text += f" (UTC{sign}{h:02d}:{m:02d})"
    if d.date_source:
        text += f"\nfrom {_DATE_SOURCES.get(d.date_source, d.date_source)}"
        if d.date_confidence:
            text += f", {d.date_confidence} confidence"
    return text


def format_gps(d: PhotoDetails) -> str:
    if d.gps_lat is None or d.gps_lon is None:
        return "—"
    text = f"{abs(d.gps_lat):.5f}° {'N' if d.gps_lat >= 0 else 'S'}, {abs(d.gps_lon):.5f}° {'E' if d.gps_lon >= 0 else 'W'}"
    if d.gps_alt is not None:
        text += f"\naltitude {d.gps_alt:.0f} m"
    return text


def format_dimensions(d: PhotoDetails) -> str:
    if not d.width or not d.height:
        return "—"
    mp = d.width * d.height / 1e6
    return f"{d.width:,} × {d.height:,} px" + (f" ({mp:.1f} MP)" if mp >= 0.1 else "")


def format_camera(d: PhotoDetails) -> str:
    make, model = (d.camera_make or "").strip(), (d.camera_model or "").strip()
    if make and model.lower().startswith(make.split()[0].lower()):
        return model
    return " ".join(p for p in (make, model) if p) or "—"


def format_type(d: PhotoDetails) -> str:
    kind = MEDIA_KIND_TEXT.get(d.kind) if d.kind else None  # type: ignore[call-overload]
    text = ", ".join(p for p in (d.file_type, kind) if p) or "Unknown"
    if d.format and d.file_type and d.format != d.file_type:
        text += f" (read as {d.format})"
    return text


def format_when(t: datetime | None) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M") if t is not None else "—"


# -- the vocabulary in words (the sidebar, the filter bar, the details panel)
VIEW_TEXT: dict[SmartView, str] = {
    SmartView.ALL: "All photos", SmartView.RECENT: "Recently added", SmartView.ERRORS: "Has errors",
    SmartView.MISSING: "Missing files", SmartView.DUPLICATES: "Duplicates", SmartView.BURSTS: "Bursts",
}
MEDIA_KINDS_TEXT: dict[MediaKind, str] = {MediaKind.IMAGE: "Images", MediaKind.RAW: "RAW", MediaKind.VIDEO: "Videos"}
MEDIA_KIND_TEXT: dict[MediaKind, str] = {MediaKind.IMAGE: "image", MediaKind.RAW: "RAW photo", MediaKind.VIDEO: "video"}
PHOTO_STATUS_TEXT: dict[PhotoStatus, str] = {
    PhotoStatus.OK: "Analysed", PhotoStatus.NEW: "Waiting for the scan", PhotoStatus.ERROR: "Could not be read",
    PhotoStatus.MISSING: "File is missing",
}


# -- quality and bursts in words (the CLI, the details panel, tooltips)
def _pct(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "?"
    return f"{v * 100:.0f} %" if v >= 0.01 else f"{v * 100:.1f} %"


def _num_of(m: Mapping[str, Any], key: str) -> float | None:
    v = m.get(key)
    return float(v) if isinstance(v, (int, float)) else None


def quality_reason_text(word: str, measures: Mapping[str, Any]) -> str:
    """One quality reason word ('blurry', 'highlights_clipped', …) in words, with its figure."""
    m = measures or {}
    if word == "highlights_clipped" and (v := _num_of(m, "clipped_high")) is not None:
        return f"{_pct(v)} of pixels blown"
    if word == "shadows_clipped" and (v := _num_of(m, "clipped_low")) is not None:
        return f"{_pct(v)} of pixels crushed to black"
    if word == "noisy" and (v := _num_of(m, "noise_sigma")) is not None:
        return f"noisy (noise {v:.1f} levels)"
    if word in ("underexposed", "overexposed") and (v := _num_of(m, "mean_level")) is not None:
        return f"{'dark' if word == 'underexposed' else 'bright'}: mean level {v:.0f} of 255"
    return _QUALITY_WORDS.get(word, word.replace("_", " "))


_QUALITY_WORDS = {
    "blurry": "blurry: little fine detail anywhere", "soft_subject": "the subject is soft",
    "motion_blur": "motion blur", "noisy": "noisy", "low_contrast": "flat: low contrast",
    "jpeg_artifacts": "JPEG blocking visible", "underexposed": "underexposed", "overexposed": "overexposed",
    "highlights_clipped": "highlights blown", "shadows_clipped": "shadows crushed",
}


def quality_reason_texts(words: Sequence[str], measures: Mapping[str, Any]) -> list[str]:
    return [quality_reason_text(w, measures) for w in words]


def burst_reason_text(words: Sequence[str], *, is_best: bool, size: int, summary: Mapping[str, Any],
                      relative_sharpness: float | None, rank: int | None) -> str:
    """A frame's standing in its burst: "sharpest of 7; 4 others show motion blur" for the best,
    "soft: 38 % of the detail of the sharpest frame in its burst" for a soft one."""
    if rank is None:
        return "not scored yet"
    if is_best:
        lead = {"sharpest": f"sharpest of {size}", "best_exposed": f"best exposed of {size}",
                "least_noise": f"least noise of {size}", "best_overall": f"best overall of {size}",
                "only_frame": "the only frame scored",
                "metered_exposure": f"the camera's metered exposure (0 EV) of a {size}-frame bracket"}
        parts = [lead.get(w) for w in words if w in lead] or [f"best of {size}"]
        blurred = summary.get("motion_blurred_others")
        if isinstance(blurred, int) and blurred > 0:
            parts.append(f"{blurred} other{'s' if blurred != 1 else ''} show{'' if blurred != 1 else 's'} motion blur")
        return "; ".join(p for p in parts if p)
    parts = []
    for w in words:
        if w == "soft" and relative_sharpness is not None:
            parts.append(f"soft: {relative_sharpness * 100:.0f} % of the detail of the sharpest frame in its burst")
        elif w in ("motion_blur", "motion_blurred"):
            parts.append("motion blur")
        else:
            parts.append(_BURST_WORDS.get(w, w.replace("_", " ")))
    return "; ".join(parts) or f"rank {rank} of {size}"


_BURST_WORDS = {"soft": "softer than the best", "underexposed": "darker than the best",
                "overexposed": "brighter than the best", "noisier": "noisier than the best",
                "worse_exposure": "exposure not as good as the best",
                "bracketed": "a bracketed exposure (the pick is the metered one)", "nearly_as_good": "nearly as good as the best"}

DECISION_TEXT = {"best": "Best of burst (your pick)", "pick": "Picked", "reject": "Rejected"}

# the filter bar's quality choices: (label, at least, below)
QUALITY_BANDS: tuple[tuple[str, float | None, float | None], ...] = (
    ("Any quality", None, None), ("Good (70+)", 70.0, None), ("Fair (40–69)", 40.0, 70.0),
    ("Poor (under 40)", None, 40.0),
)

SUB_SCORE_TEXT = {"sharpness": "sharpness", "subject_sharpness": "subject", "motion_blur": "steadiness",
                  "noise": "noise", "exposure": "exposure", "contrast": "contrast", "blockiness": "JPEG"}


def format_quality(d: PhotoDetails) -> str:
    """'72 / 100 — noisy (noise 6.1 levels)\\nsharpness 80 · subject 85 · …', or a dash."""
    q = d.quality
    if q is None:
        return "— (not scored yet)"
    head = f"{q.overall:.0f} / 100"
    if d.quality_reasons:
        head += " — " + "; ".join(d.quality_reasons)
    subs = " · ".join(f"{SUB_SCORE_TEXT.get(k, k)} {v:.0f}" for k, v in q.sub_scores.items())
    return f"{head}\n{subs}" if subs else head


def format_burst(d: PhotoDetails) -> str:
    return d.burst_text or "—"


def format_flags(d: PhotoDetails) -> str:
    """The user's culling flags: 'Picked · ★★★★', or a dash."""
    parts = [DECISION_TEXT.get(d.decision, d.decision)] if d.decision else []
    if d.stars:
        parts.append("★" * d.stars)
    return " · ".join(parts) or "— (P pick, X reject, 0–5 stars)"


def not_flagged_yet(n: int) -> str:
    """Why a culling action left ``n`` photos as they were: the scan has not read them."""
    photos, them = ("1 photo", "it") if n == 1 else (f"{n:,} photos", "them")
    return (f"{photos} not flagged: the scan has not read {them} yet (flags stay with a photo's content). "
            f"Flag {them} again once the scan has read {them}.")
