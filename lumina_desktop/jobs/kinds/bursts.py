"""The ``bursts`` job kind: frames one camera took in quick succession, and the best of each.

discover (coordinator thread): load every photo's camera, trusted capture time and burst id (no
pixels), and cut each camera's frames into *runs*: frames no further apart than the gap plus a
second (a camera recording whole seconds loses up to one), joined by a shared burst id.  A run is
the most a burst can be, so runs are grouped independently, in parallel, and a killed run resumes
run by run.  An incremental run (``after_job``, the usual follow-on) regroups only the runs that
hold a photo the parent changed, or a member of a burst that holds one, and reads only the frames
near those photos (``runs_around``); a full run regroups all and drops bursts no run holds any more.

the item runner (worker thread): fetch the run's perceptual data (64×64 grey, pHash) and quality
measures, group it (``analysis.bursts.group_frames``: time gap, visual continuity, burst ids, long
bursts kept whole) and rank every burst (subject sharpness, then exposure, then noise).  store:
the run's bursts replace whatever bursts held its photos.  User decisions (best, pick, reject)
are kept by content hash apart from the results, so re-detection never loses one.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, Mapping, Sequence

from lumina_desktop.analysis import bursts as bursts_analysis
from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.jobs import JobSnapshot
from lumina_desktop.db.bursts import BurstsRepository, FrameRow
from lumina_desktop.core.library import SmartView
from lumina_desktop.jobs.engine.context import BatchInfo, ItemContext, JobContext, JobEnv
from lumina_desktop.jobs.engine.kind import ItemRunner, JobKind, Lane, Phase, Stored

@dataclass(frozen=True)
class BurstsParams:
    after_job: int | None = None     # only the runs holding photos this job changed (a follow-on)
    gap_s: float | None = None       # None: the ``burst_gap_s`` setting


def runs(frames: Sequence[FrameRow], gap_s: float) -> list[list[int]]:
    """The runs a burst may come from: per camera, frames within reach of the one before (the gap,
    widened for cameras that record whole seconds: ``join_reach_s``), plus every frame sharing a
    burst id with one of them.  Runs of one frame are left out."""
    parent = list(range(len(frames)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    reach = timedelta(seconds=bursts_analysis.join_reach_s(gap_s))
    last: dict[str, int] = {}
    by_uuid: dict[str, int] = {}
    for i, f in enumerate(frames):           # frames come in time order
        cam = bursts_analysis.camera_key(f.make, f.model, f.serial)
        if cam is not None:
            j = last.get(cam)
            if j is not None and f.time - frames[j].time <= reach:
                union(i, j)
            last[cam] = i
        if f.burst_uuid:
            k = by_uuid.setdefault(f.burst_uuid, i)
            union(i, k)
    groups: dict[int, list[int]] = {}
    for i in range(len(frames)):
        groups.setdefault(find(i), []).append(frames[i].id)
    return [g for g in groups.values() if len(g) > 1]




def _covered(windows: Sequence[tuple[datetime, datetime]], starts: Sequence[datetime], lo: datetime,
             hi: datetime) -> bool:
    """Whether [lo, hi] lies in one of ``windows`` (merged, in order; ``starts``: their starts)."""
    i = bisect_right(starts, lo) - 1
    return i >= 0 and windows[i][1] >= hi


def runs_around(seeds: Sequence[FrameRow], gap_s: float,
                frames_between: Callable[[Sequence[tuple[datetime, datetime]]], Sequence[FrameRow]],
                frames_with_burst_ids: Callable[[Sequence[str]], Sequence[FrameRow]]) -> list[list[int]]:
    """The runs :func:`runs` finds over the whole catalog that hold one of ``seeds``, read from the
    frames near them only: the frames within the join reach of a seed, and those sharing a burst id
    with one read; widened until every frame of every run that holds a seed has its reach on both
    sides read (so no frame left unread could join one).  A thousand new photos in a million-photo
    catalog read a few thousand frames, not a million."""
    if not seeds:
        return []
    reach = timedelta(seconds=bursts_analysis.join_reach_s(gap_s))
    seed_ids = {s.id for s in seeds}
    windows = bursts_analysis.merge_windows([(s.time - reach, s.time + reach) for s in seeds])
    while True:
        frames = {f.id: f for f in frames_between(windows)}
        uuids = sorted({f.burst_uuid for f in frames.values() if f.burst_uuid})
        for f in frames_with_burst_ids(uuids):
            frames.setdefault(f.id, f)
        ordered = sorted(frames.values(), key=lambda f: (f.time, f.id))   # as frame_index orders them
        found = [r for r in runs(ordered, gap_s) if not seed_ids.isdisjoint(r)]
        # each frame of those runs must have its reach on both sides read: a frame there could join
        starts = [lo for lo, _hi in windows]
        wider = [(t - reach, t + reach) for r in found for t in (frames[i].time for i in r)
                 if not _covered(windows, starts, t - reach, t + reach)]
        if not wider:
            return found
        windows = bursts_analysis.merge_windows([*windows, *wider])


# more changed photos than this: the whole catalog's frames are read at once
WINDOWED_UP_TO = 5000


class BurstsKind(JobKind[BurstsParams]):
    name = "bursts"
    title = "Find bursts"
    phases = (Phase("discover", 0.1, "Ordering photos by camera and time"), Phase("process", 0.85, "Grouping bursts"),
              Phase("finalize", 0.05, "Finishing"))
    params_type = BurstsParams
    lane = Lane.CPU
    batch_size = 50                   # runs per batch
    menu_label = "Find &bursts"
    change_aspects = frozenset({Aspect.BURST})

    def __init__(self, repo: Any = None) -> None:
        self.repo = repo if repo is not None else BurstsRepository()

    def follow_on_params(self, parent: JobSnapshot, changed_photo_ids: Sequence[int]) -> dict[str, Any] | None:
        return {"after_job": parent.id} if changed_photo_ids else None

    def menu_params(self) -> dict[str, Any]:
        return {}

    def review_view(self, result: Mapping[str, Any]) -> str | None:
        return SmartView.BURSTS.value if result.get("bursts") else None

    def summarize(self, result: Mapping[str, Any]) -> str:
        r = result
        n = r.get('bursts', 0)
        text = f"{n:,} burst{'' if n == 1 else 's'} of {r.get('frames', 0):,} photos"
        if r.get("incremental"):
            text += f" (in {r.get('runs', 0):,} stretches with new or changed photos)"
        return text

    def _gap(self, env: JobEnv, params: BurstsParams) -> float:
        return params.gap_s if params.gap_s is not None else float(env.settings.burst_gap_s)

    def discover(self, ctx: JobContext) -> Iterator[Any]:
        params: BurstsParams = ctx.params
        catalog_id = ctx.job.catalog_id
        assert catalog_id is not None
        gap = self._gap(ctx.env, params)
        if params.after_job is not None:
            changed = set(ctx.env.store.changed_photos(params.after_job))
            changed.update(self.repo.absent_members(ctx.tx, catalog_id))   # files gone or unreadable since
            changed.update(self.repo.bursts_holding(ctx.tx, sorted(changed)))
            if len(changed) <= WINDOWED_UP_TO:   # only the frames near the changed photos
                tx = ctx.tx
                chosen = runs_around(self.repo.frame_rows(tx, sorted(changed)), gap,
                                     lambda windows: self.repo.frames_between(tx, catalog_id, windows),
                                     lambda uuids: self.repo.frames_with_burst_ids(tx, catalog_id, uuids))
            else:
                chosen = [r for r in runs(self.repo.frame_index(ctx.tx, catalog_id), gap)
                          if not changed.isdisjoint(r)]
            ctx.check_cancelled()
            in_runs = {i for r in chosen for i in r}
            # photos of a burst that no longer lie in any run lose it (e.g. their time changed)
            ctx.discovery["orphans"] = sorted(changed - in_runs)
        else:
            chosen = runs(self.repo.frame_index(ctx.tx, catalog_id), gap)
            ctx.check_cancelled()
        ctx.discovery.update({"runs": len(chosen), "incremental": params.after_job is not None})
        yield from chosen

    def item_key(self, item: Any) -> str:
        return f"photos {item[0]}…{item[-1]} ({len(item)})"

    def open(self, env: JobEnv, params: BurstsParams) -> ItemRunner:
        gap = self._gap(env, params)

        def run(ictx: ItemContext, item: Any) -> Any:
            with env.read() as tx:
                rows = self.repo.frame_rows(tx, item)
                details = self.repo.frame_details(tx, item)
            ictx.check_cancelled()
            return detect(rows, details, gap)

        return run

    def store(self, tx: Any, job: JobSnapshot, batch: BatchInfo, results: list[tuple[Any, Any]]) -> Stored:
        assert batch.catalog_id is not None
        changed: list[int] = []
        n_bursts = n_frames = 0
        for item, found in results:
            changed.extend(self.repo.replace_bursts(tx, batch.catalog_id, job.id, item, found))
            n_bursts += len(found)
            n_frames += sum(len(b["members"]) for b in found)
        return Stored({"bursts": n_bursts, "frames": n_frames}, tuple(sorted(set(changed))))

    def finalize(self, ctx: JobContext) -> dict[str, Any]:
        params: BurstsParams = ctx.params
        catalog_id = ctx.job.catalog_id
        assert catalog_id is not None
        with ctx.env.transaction() as tx:
            orphans = list(ctx.discovery.get("orphans") or ())
            dropped = self.repo.replace_bursts(tx, catalog_id, ctx.job.id, orphans, []) if orphans else []
            dropped += self.repo.drop_stale(tx, catalog_id,
                                            except_job=ctx.job.id if params.after_job is None else None)
            if dropped:
                ctx.env.store.record_changes(tx, catalog_id, ctx.job.id, self.name, sorted(set(dropped)),
                                             frozenset({Aspect.BURST}))
            n_bursts, n_frames = self.repo.totals(tx, catalog_id)
        return {"bursts": n_bursts, "frames": n_frames, "runs": ctx.discovery.get("runs", 0),
                "incremental": bool(ctx.discovery.get("incremental"))}


def detect(frames: Sequence[FrameRow], details: Mapping[int, tuple[Any, ...]], gap_s: float) -> list[dict[str, Any]]:
    """The bursts of one run, ranked, ready to store."""
    a = bursts_analysis
    by_id = {f.id: f for f in frames}
    inputs = []
    seen: set[str] = set()
    for f in frames:
        grey, phash, _measures, _scores, h = details.get(f.id, (None, None, None, None, None))
        if h is not None:
            if h in seen:          # a copy of a frame is no frame of its own (duplicates review copies)
                continue
            seen.add(h)
        inputs.append(a.Frame(photo_id=f.id, camera=a.camera_key(f.make, f.model, f.serial), time=f.time,
                              has_subsec=f.time.microsecond != 0, burst_uuid=f.burst_uuid, grey=grey, phash=phash))
    out = []
    for ids in a.group_frames(inputs, gap_s):
        scored = []
        for pid in ids:
            _g, _p, measures, scores, _h = details.get(pid, (None, None, None, None, None))
            if measures is None or scores is None:
                continue
            overall, exposure, noise, words = scores
            scored.append(a.FrameQuality(
                photo_id=pid, subject_sharpness=float(measures.get("subject_sharpness", 0.0)),
                sharpness=float(measures.get("sharpness", 0.0)), motion_blur=float(measures.get("motion_blur", 0.0)),
                exposure=float(exposure if exposure is not None else 50.0),
                noise=float(noise if noise is not None else 50.0), overall=float(overall),
                reasons=tuple(words), exposure_bias=by_id[pid].exposure_bias))
        ranked = {r.photo_id: r for r in a.rank_burst(scored)} if len(scored) >= 1 else {}
        best = next((r.photo_id for r in ranked.values() if r.is_best), None)
        summary = dict(a.pick_summary(list(ranked.values()), scored)) if ranked else {}
        summary.setdefault("size", len(ids))
        summary["scored"] = len(scored)
        first, last = by_id[ids[0]], by_id[ids[-1]]
        members = []
        for pos, pid in enumerate(ids, 1):
            r = ranked.get(pid)
            members.append((pid, pos, r.rank if r else None, bool(r and r.is_best), tuple(r.reasons) if r else (),
                            float(r.relative_sharpness) if r else None))
        out.append({"camera": a.camera_key(first.make, first.model, first.serial) or (first.burst_uuid or "?"),
                    "started_at": min(first.time, last.time), "ended_at": max(first.time, last.time),
                    "best_photo_id": best, "pick_reasons": tuple(ranked[best].reasons) if best is not None else (),
                    "summary": summary, "members": members})
    return out
