"""The ``duplicates`` job: tiered, verified, never-chained groups (coordinator thread + workers).

discover (coordinator thread): load every analysed photo's pHash and content / image-data
hashes, build the two-channel multi-index (``analysis.dup_index``, never all pairs), take the
candidate graph and split it into connected parts.  Each part is one work item: the grouping of
a part depends on nothing outside it, so parts are grouped independently, in parallel, and a
cancelled or killed run resumes part by part.  An incremental run (``incremental``) indexes the
whole library (cheap: hashes only) but regroups only the parts reachable from photos analysed
since the last run, and carries the other groups over.  It reads the pHashes as arrays (one value
the server packs) and finds the exact-hash neighbours of the photos it reaches by the database's
indexes: a thousand new photos in a million-photo catalog take about 2 s of search before their
verification (``tests/benchmarks/bench_scale_jobs.py``).

the item runner (worker thread): fetch the part's fingerprints (greys included), group them with pixel
verification against each keeper (``analysis.duplicates``).  store: the part's groups replace
whatever an earlier attempt stored.  finalize: the run becomes the catalog's current one.

Detection results never hold user decisions; ``load_groups`` applies the decisions (keyed by
content hashes) when results are read, so a re-run cannot resurrect a decided group.
"""
from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from lumina_desktop.analysis import duplicates as dup
from lumina_desktop.analysis.dup_index import DuplicateIndex
from lumina_desktop.analysis.dup_keeper import DEFAULT_RULES, rules_from_strings
from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.duplicates import TIERS, KeepThis, NotDuplicate, StoredGroup
from lumina_desktop.core.jobs import JobSnapshot
from lumina_desktop.db.duplicates import DuplicatesRepository
from lumina_desktop.core.library import SmartView
from lumina_desktop.jobs.engine.context import BatchInfo, ItemContext, JobContext, JobEnv
from lumina_desktop.jobs.engine.kind import ItemRunner, JobKind, Lane, Phase, Stored

log = logging.getLogger(__name__)


def _parts(starts: Iterable[int], neighbours: Callable[[int], Iterable[int]]) -> Iterator[list[int]]:
    """Connected parts of a graph, breadth-first from each start not yet seen (only for splitting
    work: grouping never chains).  Parts of one photo are left out."""
    seen: set[int] = set()
    for start in starts:
        if start in seen:
            continue
        part, queue = [], deque([start])
        seen.add(start)
        while queue:
            v = queue.popleft()
            part.append(v)
            for n in neighbours(v):
                if n not in seen:
                    seen.add(n)
                    queue.append(n)
        if len(part) > 1:
            yield sorted(part)


def _components(graph: Any) -> Iterator[list[int]]:
    """Connected parts of the whole candidate graph."""
    return _parts([*graph.vertices.tolist(), *graph.cliques], lambda v: (n for n, _d in graph.neighbours_of(v)))


@dataclass(frozen=True)
class DuplicatesParams:
    incremental: bool = False         # regroup only what photos analysed since the last run reach
    rules: tuple[str, ...] = ()       # keeper rules (empty: the defaults)
    after_job: int | None = None      # the job whose changes queued this one (a follow-on)


class DuplicatesKind(JobKind[DuplicatesParams]):
    name = "duplicates"
    title = "Find duplicates"
    phases = (Phase("discover", 0.3, "Indexing"), Phase("process", 0.65, "Comparing"),
              Phase("finalize", 0.05, "Finishing"))
    params_type = DuplicatesParams
    lane = Lane.CPU
    batch_size = 20  # parts per batch
    menu_label = "Find &duplicates"
    menu_shortcut = "Ctrl+D"
    finish_aspects = frozenset({Aspect.DUPLICATES})   # groups of the whole catalog may have changed

    def __init__(self, repo: Any = None) -> None:
        self.repo = repo if repo is not None else DuplicatesRepository()

    def menu_params(self) -> dict[str, Any]:
        return {"incremental": True}

    def follow_on_params(self, parent: JobSnapshot, changed_photo_ids: Sequence[int]) -> dict[str, Any] | None:
        return {"incremental": True, "after_job": parent.id} if changed_photo_ids else None

    def review_view(self, result: Mapping[str, Any]) -> str | None:
        return SmartView.DUPLICATES.value if result.get("groups") else None

    def summarize(self, result: Mapping[str, Any]) -> str:
        r = result
        groups = r.get('groups', 0)
        text = (f"{groups:,} group{'' if groups == 1 else 's'}: {r.get('identical', 0):,} identical, "
                f"{r.get('same_picture', 0):,} same picture, {r.get('near_copy', 0):,} near copies")
        if r.get("incremental"):
            text += f" ({r.get('new_photos') or 0:,} new photos checked)"
        return text

    def discover(self, ctx: JobContext) -> Iterator[Any]:
        tx = ctx.tx
        params: DuplicatesParams = ctx.params
        catalog_id = ctx.job.catalog_id
        assert catalog_id is not None  # needs_catalog: the engine refuses a job without one
        previous = self.repo.current_run(tx, catalog_id)
        incremental = params.incremental and previous is not None
        index = DuplicateIndex()
        if incremental:
            assert previous is not None
            # the pHashes alone, as arrays; the exact-hash cliques of the photos the search
            # reaches come from the database's hash indexes (no 1M row objects, no 1M hash keys)
            hashes = self.repo.hash_arrays(tx, catalog_id)
            n_photos, high_water = len(hashes), hashes.high_water
            ctx.progress(0, n_photos, f"Indexing {n_photos:,} photos")
            index.add_arrays(hashes.ids, hashes.phashes, np.zeros(n_photos, np.uint64), np.zeros(n_photos, np.uint64))
            new_ids = hashes.analysed_after(previous["high_water"]).tolist()
            del hashes
            ctx.check_cancelled()
            # the part of the graph reachable from the new photos (index queries, not a full join)
            adjacency: dict[int, Any] = {}
            frontier = sorted(new_ids)
            while frontier:
                ctx.check_cancelled()
                found = index.neighbours(frontier, same_hash=self.repo.same_hash(tx, catalog_id, frontier))
                adjacency.update(found)
                frontier = sorted({n for nb in found.values() for n in nb} - adjacency.keys())
            affected = sorted(adjacency)
            parts = _adjacency_parts(adjacency)
            ctx.discovery.update({"new_photos": len(new_ids), "affected": affected})
        else:
            rows = self.repo.hash_rows(tx, catalog_id)
            n_photos = len(rows)
            high_water = max((r.analysed_at for r in rows if r.analysed_at is not None), default=None)
            ctx.progress(0, n_photos, f"Indexing {n_photos:,} photos")
            index.add(rows)
            del rows
            ctx.check_cancelled()
            graph = index.candidate_graph(ctx.check_cancelled)
            parts = list(_components(graph))
            affected = []
        self.repo.start_run(tx, ctx.job.id, catalog_id, incremental=incremental, photos=n_photos,
                            high_water=high_water)
        ctx.discovery.update({"photos": n_photos, "parts": len(parts), "incremental": incremental,
                              "previous_run": previous["job_id"] if incremental and previous else None})
        yield from parts

    def item_key(self, item: Any) -> str:
        return f"part of photos {item[0]}…{item[-1]} ({len(item)})"

    def open(self, env: JobEnv, params: DuplicatesParams) -> ItemRunner:
        rules = rules_from_strings(list(params.rules) or DEFAULT_RULES)

        def run(ictx: ItemContext, item: Any) -> Any:
            with env.read() as tx:
                photos = self.repo.fingerprints(tx, item)
            ictx.check_cancelled()
            return dup.find_duplicate_groups(photos, rules=rules)

        return run

    def store(self, tx: Any, job: JobSnapshot, batch: BatchInfo, results: list[tuple[Any, Any]]) -> Stored:
        counts = {"groups": 0, "suspicious": 0, "unverified": 0}
        assert job.catalog_id is not None
        for part, groups in results:
            for g in groups:
                counts["suspicious"] += int(g.is_suspicious)
                counts["unverified"] += int(g.has_unverified)
            counts["groups"] += self.repo.replace_component_groups(tx, job.id, job.catalog_id, part[0], groups)
        return Stored(counts)

    def finalize(self, ctx: JobContext) -> dict[str, Any]:
        d = ctx.discovery
        assert ctx.job.catalog_id is not None
        totals = ctx.env.store.batch_totals(ctx.job.id)
        with ctx.env.transaction() as tx:
            self.repo.finish_run(tx, ctx.job.id, ctx.job.catalog_id, carry_from=d.get("previous_run"),
                                 affected_ids=d.get("affected", []))
        with ctx.env.read() as tx:
            groups = read_groups(self.repo, tx, ctx.job.catalog_id)
        by_tier = {t: sum(1 for g in groups if g.tier == t) for t in TIERS}
        return {"photos": d.get("photos", 0), "parts": d.get("parts", 0), "incremental": d.get("incremental", False),
                "new_photos": d.get("new_photos"), "groups": len(groups), **by_tier,
                "suspicious": totals.get("suspicious", 0), "unverified": totals.get("unverified", 0)}


def _adjacency_parts(adjacency: dict[int, Any]) -> list[list[int]]:
    """Connected parts of the graph reachable from an incremental run's new photos."""
    return list(_parts([v for v in sorted(adjacency) if adjacency[v]], lambda v: adjacency.get(v, ())))


def load_groups(db: Any, catalog_id: int) -> list[StoredGroup]:
    """The catalog's current groups with the user's decisions applied (any non-GUI thread)."""
    with db.connection() as conn:
        return read_groups(DuplicatesRepository(), conn, catalog_id)


def burst_siblings(groups: Sequence[StoredGroup], burst_of: Mapping[int, int]) -> list[NotDuplicate]:
    """Frames of one burst are different moments, not copies: a "not duplicates" pair for every
    two photos of a group that lie in the same burst (``burst_of``: photo id → burst id)."""
    out = []
    for sg in groups:
        g = sg.group
        hashes = {g.keeper_id: g.keeper_content_hash, **{m.photo_id: m.content_hash for m in g.members}}
        by_burst: dict[int, list[str]] = {}
        for pid, h in hashes.items():
            if pid in burst_of:
                by_burst.setdefault(burst_of[pid], []).append(h)
        for hs in by_burst.values():
            out.extend(NotDuplicate(a, b) for i, a in enumerate(hs) for b in hs[i + 1:] if a != b)
    return out


def drop_trashed(groups: Sequence[StoredGroup], trashed_among: Callable[[Any, Sequence[int]], set[int]] | None,
                 tx: Any = None) -> list[tuple[StoredGroup, Any]]:
    """The groups without their trashed photos: a trashed copy leaves its group (a group left
    without copies goes); a group whose keeper was trashed goes until the next run regroups it."""
    if trashed_among is None:
        return [(sg, sg.group) for sg in groups]
    gone = trashed_among(tx, [i for sg in groups for i in sg.group.photo_ids]) if groups else set()
    out = []
    for sg in groups:
        g = sg.group
        if g.keeper_id in gone:
            continue
        members = tuple(m for m in g.members if m.photo_id not in gone)
        if not members:
            continue
        out.append((sg, g if len(members) == len(g.members) else dup.with_members(g, members)))
    return out


def read_groups(repo: Any, tx: Any, catalog_id: int) -> list[StoredGroup]:
    """The stored groups with the user's decisions applied (a decision only removes photos from
    their group or swaps its keeper, so each result keeps its stored group's id).  Frames of one
    burst never stay copies of each other (the bursts review is where they are culled)."""
    stored = drop_trashed(repo.current_groups(tx, catalog_id), repo.trashed_among, tx)
    stored = [StoredGroup(sg.id, g, sg.paths, sg.sizes) for sg, g in stored]
    by_photo = {photo_id: sg for sg in stored for photo_id in sg.group.photo_ids}
    siblings = burst_siblings(stored, repo.burst_of_photos(tx, sorted(by_photo)))
    decisions = repo.decisions(tx, catalog_id)
    # "keep this file" among byte-identical files: the newest choice per content wins
    keep_file = {d.content_hash: d.path for d in decisions if isinstance(d, KeepThis) and d.path}
    out = []
    for group in dup.apply_decisions([sg.group for sg in stored], [*decisions, *siblings]):
        sg = by_photo[group.keeper_id]
        want = keep_file.get(group.keeper_content_hash)
        if want and sg.paths.get(group.keeper_id) != want:
            pick = next((m.photo_id for m in group.members if m.content_hash == group.keeper_content_hash
                         and sg.paths.get(m.photo_id) == want), None)
            if pick is not None:
                group = dup.keep_file_instead(group, pick)
        out.append(StoredGroup(sg.id, group, sg.paths, sg.sizes))
    return out
