"""Burst grouping (frames one camera shot in quick succession) and the best pick of a burst.

Runs on any thread (worker).  Pure functions over plain values; numpy only, no I/O.

Grouping (:func:`group_frames`), per camera key, frames in time order:

1. **Time runs.**  Two consecutive frames are in one run when the gap between them is at most
   ``gap_s``.  When either frame records whole seconds only (``has_subsec`` False) the times are
   compared truncated to the second and the reach is ``max(gap_s, 1) + 1`` s (:func:`join_reach_s`),
   because truncation can hide up to a second.
2. **Visual continuity** splits a run where the picture changes.  Each frame's 64×64 grey image
   gives three views of the picture, each robust to one kind of camera work, and a step is
   continuous when *any* of them says so (:data:`NORMAL`):

   * ``layout`` — normalised correlation of 16×16 block means, best over shifts of ±1 block
     vertically and ±3 horizontally (subject motion, small reframing, exposure brackets);
   * ``tone`` — intersection of the two 32-bin luma histograms (big reframing in one room);
   * ``rows`` — correlation of the row-mean profiles (panning along a horizon or a fence).

   A failing step is confirmed before the run is split: the frame must also fail against the frame
   two steps back, and the previous frame must fail against the next one (a single odd frame, e.g.
   someone crossing the lens, is not a cut).  Runs of :data:`LONG_BURST` frames or more only split
   at a *clear* cut (:data:`CLEAR`).  Whole-second steps need *strong* continuity (:data:`STRONG`;
   :data:`NORMAL` in a long run).  Without grey data on both frames the step is judged on time
   alone (a ``phash`` distance of at most :data:`PHASH_SAME` bits counts as strong continuity); a
   whole-second step then needs the recorded gap to be at most ``gap_s`` itself.
3. **Maker burst ids.**  Frames sharing ``burst_uuid`` are one burst whatever their gaps, camera
   or time; such a burst also takes in whatever the time/visual rule joined to its frames.

Thresholds were tuned on real bursts (tests/benchmarks/bench_bursts.py: Icelandic-horse shows at
10 fps with panning, handheld iPhone selfie series, a Sony exposure bracket).  Of their 258
in-burst steps none fails :data:`NORMAL` (the closest passes by 0.08) or :data:`CLEAR` (by 0.18),
and 98 % reach :data:`STRONG`; of 1,200 pairs of unrelated photos from those sets, 59 % fail
:data:`NORMAL`, 34 % :data:`CLEAR` and 90 % :data:`STRONG`.  Grey images alone cannot tell two
similar-looking scenes apart (two horses in one arena); time does that.

Incremental use: a burst never spans a gap wider than :func:`join_reach_s`, and every decision
depends only on frames of the same time run, so grouping a closed window gives the same bursts
as grouping everything.  After new photos arrive the caller (the bursts job) does::

    for camera, ranges in affected_window(new_frames, gap_s).items():
        for start, end in ranges:
            while True:
                loaded = frames of `camera` with start <= time <= end
                         (+ frames sharing a burst_uuid with them, and their own windows)
                wider = extend_window((start, end), loaded, gap_s)
                if wider is None: break
                start, end = wider
            replace every stored burst that has a member in `loaded` by group_frames(loaded, gap_s)

Best pick (:func:`rank_burst`): subject sharpness first; frames within :data:`SHARP_TOLERANCE` of
the sharpest count as equally sharp; among them, those within :data:`SCORE_STEP` points of the
best exposure score stay, then those within :data:`SCORE_STEP` of the best noise score, and the
sharpest of what is left wins (then ``overall``, then photo id).  Rank 2 is the best of the rest
by the same rule, and so on.  That is what makes an exposure bracket pick its best-exposed frame
(by the exposure *score*: at night that can be the +EV frame rather than the metered one).  The
caller passes only frames that have a quality row and ranks unscored frames after them, in
shooting order (there are no numbers to rank them by).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from lumina_desktop.core.media import GREY_SIZE, HASH_BYTES

DEFAULT_GAP_S = 1.0
LONG_BURST = 20

Thresholds = tuple[float, float, float]
"""(layout, tone, rows): a step is continuous at a level when any measure reaches its value."""
CLEAR: Thresholds = (0.35, 0.55, 0.30)
NORMAL: Thresholds = (0.45, 0.65, 0.40)
STRONG: Thresholds = (0.60, 0.80, 0.85)
PHASH_SAME = 64
"""pHash Hamming distance (of 256 bits) up to which two frames count as the same view."""

SHARP_TOLERANCE = 0.12
"""Frames with at least (1 - this) × the burst's best subject sharpness count as equally sharp."""
SCORE_STEP = 5.0
"""Exposure and noise scores (0–100) this many points apart or less count as equal."""
EXPOSURE_GATE = 30.0
"""A frame whose exposure score is more than this many points below the burst's best exposure
never wins on sharpness alone (a dark frame of a burst can measure sharp; nobody keeps it)."""
MOTION_BLUR_MIN = 0.5
"""``motion_blur`` from which a frame is said to show motion blur."""

_BLOCKS = 16
_SHIFT_ROWS, _SHIFT_COLS = 1, 3
_TONE_BINS = 32   # 256 >> 3


@dataclass(frozen=True, slots=True)
class Frame:
    """One photo as burst grouping sees it (see the module docstring for the rules)."""

    photo_id: int
    camera: str | None
    time: datetime | None
    has_subsec: bool
    burst_uuid: str | None = None
    grey: bytes | None = None
    phash: bytes | None = None

    def __post_init__(self) -> None:
        if self.grey is not None and len(self.grey) != GREY_SIZE * GREY_SIZE:
            raise ValueError(f"grey of photo {self.photo_id} must be {GREY_SIZE}×{GREY_SIZE} "
                             f"bytes, not {len(self.grey)}")
        if self.phash is not None and len(self.phash) != HASH_BYTES:
            raise ValueError(f"phash of photo {self.photo_id} must be {HASH_BYTES} bytes, "
                             f"not {len(self.phash)}")


def camera_key(make: str | None, model: str | None, serial: str | None) -> str | None:
    """``make|model|serial`` trimmed, whitespace collapsed and case-folded; None when all empty."""
    parts = [" ".join((p or "").replace("\x00", " ").split()).casefold()
             for p in (make, model, serial)]
    return "|".join(parts) if any(parts) else None


def join_reach_s(gap_s: float = DEFAULT_GAP_S) -> float:
    """The widest recorded gap that can still join two frames (the whole-second tolerance)."""
    return max(gap_s, 1.0) + 1.0


# --- visual continuity -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Look:
    crop: npt.NDArray[np.float32]     # centre crop of the block means, zero-mean unit vector
    windows: npt.NDArray[np.float32]  # every shifted window of that size, one unit row each
    tone: npt.NDArray[np.float32]     # luma histogram, sums to 1
    rows: npt.NDArray[np.float32]     # row-mean profile, unit length after mean removal


def _unit(v: npt.NDArray[np.float32], axis: int = -1) -> npt.NDArray[np.float32]:
    v = v - v.mean(axis=axis, keepdims=True)
    norm = np.sqrt((v * v).sum(axis=axis, keepdims=True))
    return np.divide(v, norm, out=np.zeros_like(v), where=norm > 1e-6)


def _look(grey: bytes) -> _Look:
    raw = np.frombuffer(grey, dtype=np.uint8)
    img = raw.astype(np.float32).reshape(GREY_SIZE, GREY_SIZE)
    k = GREY_SIZE // _BLOCKS
    blocks = img.reshape(_BLOCKS, k, _BLOCKS, k).sum(axis=(1, 3))
    h, w = _BLOCKS - 2 * _SHIFT_ROWS, _BLOCKS - 2 * _SHIFT_COLS
    crop = _unit(blocks[_SHIFT_ROWS:_SHIFT_ROWS + h, _SHIFT_COLS:_SHIFT_COLS + w].ravel())
    windows = np.lib.stride_tricks.sliding_window_view(blocks, (h, w)).reshape(-1, h * w)
    tone = np.bincount(raw >> 3, minlength=_TONE_BINS).astype(np.float32)   # 32 bins
    return _Look(crop=crop, windows=_unit(windows), tone=tone / raw.size,
                 rows=_unit(img.sum(axis=1)))


def _continuity(a: _Look, b: _Look) -> Thresholds:
    """(layout, tone, rows) similarity of two looks (each about −1…1, 1 = same)."""
    layout = max(float((b.windows @ a.crop).max()), float((a.windows @ b.crop).max()))
    return layout, float(np.minimum(a.tone, b.tone).sum()), float(a.rows @ b.rows)


def look_measures(grey_a: bytes, grey_b: bytes) -> Thresholds:
    """(layout, tone, rows) of two 64×64 grey images (for tuning and benchmarks)."""
    return _continuity(_look(grey_a), _look(grey_b))


class _Judge:
    """Visual verdicts between frames, caching each frame's look."""

    def __init__(self) -> None:
        self._looks: dict[int, _Look] = {}

    def _get(self, f: Frame) -> _Look:
        look = self._looks.get(f.photo_id)
        if look is None:
            assert f.grey is not None
            look = self._looks[f.photo_id] = _look(f.grey)
        return look

    def passes(self, a: Frame, b: Frame, level: Thresholds) -> bool | None:
        """Continuous at ``level``; None when there is no visual evidence either way."""
        if a.grey is not None and b.grey is not None:
            return any(m >= t for m, t in zip(_continuity(self._get(a), self._get(b)), level))
        if a.phash is not None and b.phash is not None and _hamming(a.phash, b.phash) <= PHASH_SAME:
            return True
        return None


def _hamming(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


# --- grouping ----------------------------------------------------------------------------------

Step = tuple[float, bool]
"""(recorded gap in seconds, is_whole_second) from one frame to the next."""


def _recorded_gap_s(a: Frame, b: Frame) -> Step:
    """The step between two timed frames, b not before a."""
    assert a.time is not None and b.time is not None
    if a.has_subsec and b.has_subsec:
        return (b.time - a.time).total_seconds(), False
    return (b.time.replace(microsecond=0) - a.time.replace(microsecond=0)).total_seconds(), True


def _time_runs(frames: list[Frame], gap_s: float) -> list[tuple[list[Frame], list[Step]]]:
    """Runs of 2+ frames within reach of each other, with the steps inside each run."""
    reach = join_reach_s(gap_s)
    runs: list[tuple[list[Frame], list[Step]]] = []
    run: list[Frame] = frames[:1]
    steps: list[Step] = []
    for prev, f in zip(frames, frames[1:]):
        step = _recorded_gap_s(prev, f)
        if step[0] > (reach if step[1] else gap_s):
            if len(run) >= 2:
                runs.append((run, steps))
            run, steps = [], []
        else:
            steps.append(step)
        run.append(f)
    if len(run) >= 2:
        runs.append((run, steps))
    return runs


def _split_run(run: list[Frame], steps: list[Step], gap_s: float, judge: _Judge
               ) -> list[list[Frame]]:
    """Cut a time run where the picture changes (see the module docstring)."""
    is_long = len(run) >= LONG_BURST
    segments: list[list[Frame]] = [[run[0]]]
    for i in range(1, len(run)):
        prev, cur = run[i - 1], run[i]
        gap, is_whole = steps[i - 1]
        level = (NORMAL if is_long else STRONG) if is_whole else (CLEAR if is_long else NORMAL)
        verdict = judge.passes(prev, cur, level)
        if verdict is None:
            joined = not is_whole or gap <= gap_s
        elif verdict:
            joined = True
        else:   # confirm the cut: against two steps back, and across `cur` as a lone odd frame
            joined = bool((i >= 2 and judge.passes(run[i - 2], cur, level))
                          or (i + 1 < len(run) and judge.passes(prev, run[i + 1], level)))
        if joined:
            segments[-1].append(cur)
        else:
            segments.append([cur])
    return [seg for seg in segments if len(seg) >= 2]


def _order_key(f: Frame) -> tuple[bool, datetime, int]:
    return f.time is None, f.time or datetime.min, f.photo_id


def _time_key(f: Frame) -> tuple[datetime, int]:
    assert f.time is not None
    return f.time, f.photo_id


def group_frames(frames: Iterable[Frame], gap_s: float = DEFAULT_GAP_S) -> list[tuple[int, ...]]:
    """Bursts (≥2 frames) as photo-id tuples in shooting order; deterministic.

    Bursts are ordered by their first frame (time, then photo id); frames without a time come
    last in a burst joined by ``burst_uuid``.  Cost: a sort plus one pass, and a look (about
    0.1 ms) per frame whose neighbour is within reach.  Raises ValueError on a repeated photo id.
    """
    by_id: dict[int, Frame] = {}
    per_camera: dict[str, list[Frame]] = {}
    by_uuid: dict[str, list[Frame]] = {}
    for f in frames:
        if f.photo_id in by_id:
            raise ValueError(f"photo {f.photo_id} appears twice")
        by_id[f.photo_id] = f
        if f.camera is not None and f.time is not None:
            per_camera.setdefault(f.camera, []).append(f)
        if f.burst_uuid:
            by_uuid.setdefault(f.burst_uuid, []).append(f)
    judge = _Judge()
    segments: list[list[Frame]] = []
    for camera in sorted(per_camera):
        timed = sorted(per_camera[camera], key=_time_key)
        for run, steps in _time_runs(timed, gap_s):
            segments.extend(_split_run(run, steps, gap_s, judge))
    bursts = _merge_by_uuid(segments, by_uuid) if by_uuid else segments
    bursts.sort(key=lambda m: _order_key(m[0]))
    return [tuple(f.photo_id for f in m) for m in bursts]


def _merge_by_uuid(segments: list[list[Frame]], by_uuid: dict[str, list[Frame]]
                   ) -> list[list[Frame]]:
    """Segments and maker burst groups, joined where they share a frame (union-find)."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    member: dict[int, Frame] = {}
    for group in [*segments, *by_uuid.values()]:
        first = root(group[0].photo_id)
        for f in group:
            member[f.photo_id] = f
            r = root(f.photo_id)
            if r != first:
                parent[max(r, first)] = min(r, first)
                first = min(r, first)
    out: dict[int, list[Frame]] = {}
    for pid, f in member.items():
        out.setdefault(root(pid), []).append(f)
    return [sorted(m, key=_order_key) for m in out.values() if len(m) >= 2]


def affected_window(frames_new: Iterable[Frame], gap_s: float = DEFAULT_GAP_S
                    ) -> dict[str, list[tuple[datetime, datetime]]]:
    """Per camera key, the time ranges to reload and regroup around new frames (merged, sorted).

    Frames without camera or time are left out (only their ``burst_uuid`` can group them).
    """
    reach = timedelta(seconds=join_reach_s(gap_s) + 1.0)   # + 1 s: whole-second truncation
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for f in frames_new:
        if f.camera is not None and f.time is not None:
            spans.setdefault(f.camera, []).append((f.time - reach, f.time + reach))
    return {camera: merge_windows(ranges) for camera, ranges in sorted(spans.items())}


def merge_windows(windows: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Time windows merged where they overlap, in order."""
    out: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(windows):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def extend_window(window: tuple[datetime, datetime], loaded: Iterable[Frame],
                  gap_s: float = DEFAULT_GAP_S) -> tuple[datetime, datetime] | None:
    """A wider range when a time run may go on past an edge of ``window``, else None (closed).

    ``loaded`` are the camera's frames with a time inside ``window``.
    """
    reach = timedelta(seconds=join_reach_s(gap_s) + 1.0)
    times = [f.time for f in loaded if f.time is not None]
    if not times:
        return None
    start, end = window
    lo, hi = min(times), max(times)
    new_start = lo - reach if lo - start < reach else start
    new_end = hi + reach if end - hi < reach else end
    return None if (new_start, new_end) == (start, end) else (new_start, new_end)


# --- best pick ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FrameQuality:
    """The quality numbers of one scored frame of a burst.

    ``reasons`` are the photo's own quality words (``QualityScore.reasons``); 'underexposed' and
    'overexposed' among them say which way a worse exposure goes.
    """

    photo_id: int
    subject_sharpness: float
    sharpness: float
    motion_blur: float
    exposure: float
    noise: float
    overall: float
    reasons: tuple[str, ...] = ()
    exposure_bias: float | None = None    # EXIF ExposureBiasValue (EV): frames that differ make a bracket


@dataclass(frozen=True, slots=True)
class RankedFrame:
    photo_id: int
    rank: int
    is_best: bool
    reasons: tuple[str, ...]
    relative_sharpness: float


def _relative(frames: Sequence[FrameQuality]) -> list[float]:
    top = max((f.subject_sharpness for f in frames if math.isfinite(f.subject_sharpness)),
              default=0.0)
    if top <= 0:
        return [1.0] * len(frames)
    return [min(1.0, max(0.0, f.subject_sharpness / top)) if math.isfinite(f.subject_sharpness)
            else 0.0 for f in frames]


def _score(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def _pick_order(frames: Sequence[FrameQuality], rel: list[float]) -> list[int]:
    """Indexes best first: repeatedly the best of the frames left (see the module docstring)."""
    left = list(range(len(frames)))
    order: list[int] = []
    while left:
        best_exposure = max(_score(frames[i].exposure) for i in left)
        fair = [i for i in left if _score(frames[i].exposure) >= best_exposure - EXPOSURE_GATE]
        top = max(rel[i] for i in fair)
        pool = [i for i in fair if rel[i] >= top * (1.0 - SHARP_TOLERANCE)]
        for attr in ("exposure", "noise"):
            best_score = max(_score(getattr(frames[i], attr)) for i in pool)
            pool = [i for i in pool if _score(getattr(frames[i], attr)) >= best_score - SCORE_STEP]
        pick = min(pool, key=lambda i: (-rel[i], -_score(frames[i].overall), frames[i].photo_id))
        order.append(pick)
        left.remove(pick)
    return order


def rank_burst(frames: Sequence[FrameQuality]) -> list[RankedFrame]:
    """Rank a burst's scored frames (1 = best); the result is in the order of ``frames``.

    Raises ValueError on a repeated photo id.
    """
    if len({f.photo_id for f in frames}) != len(frames):
        raise ValueError("a photo appears twice in the burst")
    if not frames:
        return []
    rel = _relative(frames)
    is_tied = [r >= 1.0 - SHARP_TOLERANCE for r in rel]
    order = _pick_order(frames, rel)
    is_bracket = is_exposure_bracket(frames)
    if is_bracket:   # an exposure bracket: the camera's metered frame (0 EV) is the reference pick
        order.sort(key=lambda i: abs(frames[i].exposure_bias) if frames[i].exposure_bias is not None else math.inf)
    best = order[0]
    rank_of = {i: n + 1 for n, i in enumerate(order)}
    out = []
    for i, f in enumerate(frames):
        if is_bracket:
            reasons: tuple[str, ...] = ("metered_exposure",) if i == best else ("bracketed",)
        else:
            reasons = _best_reasons(frames, rel, is_tied, i) if i == best else _other_reasons(
                frames[best], f, is_tied[i])
        out.append(RankedFrame(photo_id=f.photo_id, rank=rank_of[i], is_best=i == best,
                               reasons=reasons, relative_sharpness=round(rel[i], 4)))
    return out


def is_exposure_bracket(frames: Sequence[FrameQuality]) -> bool:
    """The frames were shot at two or more exposure biases (auto exposure bracketing)."""
    return len({round(f.exposure_bias, 1) for f in frames if f.exposure_bias is not None}) >= 2


def _worse(f: FrameQuality, than: FrameQuality, attr: str) -> bool:
    return _score(getattr(f, attr)) < _score(getattr(than, attr)) - SCORE_STEP


def _best_reasons(frames: Sequence[FrameQuality], rel: list[float], is_tied: list[bool],
                  best: int) -> tuple[str, ...]:
    if len(frames) == 1:
        return ("only_frame",)
    f = frames[best]
    rivals = [frames[i] for i in range(len(frames)) if i != best and is_tied[i]]
    reasons: list[str] = ["sharpest"] if rel[best] >= 1.0 else []
    sharper = [frames[i] for i in range(len(frames)) if rel[i] > rel[best]]
    if any(_worse(r, f, "exposure") for r in [*rivals, *sharper]):
        reasons.append("best_exposed")
    elif any(_worse(r, f, "noise") for r in rivals):
        reasons.append("least_noise")
    return tuple(reasons) or ("best_overall",)


def _other_reasons(best: FrameQuality, f: FrameQuality, is_tied: bool) -> tuple[str, ...]:
    reasons: list[str] = []
    if not is_tied:
        reasons.append("soft")
    if f.motion_blur >= MOTION_BLUR_MIN and f.motion_blur > best.motion_blur:
        reasons.append("motion_blur")
    if _worse(f, best, "exposure"):
        direction = [r for r in ("underexposed", "overexposed") if r in f.reasons]
        reasons.append(direction[0] if direction else "worse_exposure")
    if _worse(f, best, "noise"):
        reasons.append("noisier")
    return tuple(reasons) or ("nearly_as_good",)


def pick_summary(ranked: Sequence[RankedFrame], frames: Sequence[FrameQuality]
                 ) -> dict[str, Any]:
    """The numbers the UI words the pick with: "sharpest of 7; 4 others show motion blur".

    Keys: size, best_id, best_reason, motion_blurred_others, soft_others, worse_exposed_others,
    noisier_others, runner_up_sharpness (the best other frame's relative sharpness).
    """
    if not ranked:
        return {"size": 0, "best_id": None, "best_reason": None, "motion_blurred_others": 0,
                "soft_others": 0, "worse_exposed_others": 0, "noisier_others": 0,
                "runner_up_sharpness": None}
    if {r.photo_id for r in ranked} != {f.photo_id for f in frames}:
        raise ValueError("ranked and frames name different photos")
    best = next(r for r in ranked if r.is_best)
    others = [r for r in ranked if not r.is_best]
    exposure_words = {"underexposed", "overexposed", "worse_exposure"}
    return {
        "size": len(ranked),
        "best_id": best.photo_id,
        "best_reason": best.reasons[0],
        "motion_blurred_others": sum("motion_blur" in r.reasons for r in others),
        "soft_others": sum("soft" in r.reasons for r in others),
        "worse_exposed_others": sum(bool(exposure_words & set(r.reasons)) for r in others),
        "noisier_others": sum("noisier" in r.reasons for r in others),
        "runner_up_sharpness": max((r.relative_sharpness for r in others), default=None),
    }


__all__ = [
    "CLEAR", "DEFAULT_GAP_S", "LONG_BURST", "MOTION_BLUR_MIN", "NORMAL", "PHASH_SAME",
    "SCORE_STEP", "SHARP_TOLERANCE", "STRONG", "Frame", "FrameQuality", "RankedFrame",
    "Thresholds", "affected_window", "camera_key", "extend_window", "group_frames",
    "join_reach_s", "look_measures", "pick_summary", "rank_burst",
]
