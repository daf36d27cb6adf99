"""The ``thumbnails`` job kind: previews (1280 px) for photos that lack them, made in the background.

A scan makes the grid thumbnail only (unless ``previews = "scan"``); this kind follows it at low
priority and makes the previews the details panel and the viewer show, one per content hash
(copies share the file).  A photo opened large before the job reaches it still gets its preview
made on the spot (``services.images``).  Each preview is made from the original only if the file
still has the content the catalog knows (an edited file waits for the next scan), written through
the thumbnail store, and recorded in ``photos.thumb_sizes`` with the batch.

Items are content hashes; cancel and resume work at item granularity like every kind.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from lumina_desktop.analysis.memory import shared_gate
from lumina_desktop.analysis.previews import make_preview
from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.jobs import JobSnapshot
from lumina_desktop.core.media import PREVIEW_PX
from lumina_desktop.db.thumbnails import ThumbnailsRepository
from lumina_desktop.jobs.engine.context import BatchInfo, ItemContext, JobContext, JobEnv
from lumina_desktop.jobs.engine.kind import ItemFailure, ItemRunner, Lane, Phase, Stored
from lumina_desktop.jobs.kinds.after_scan import AfterScanKind
from lumina_desktop.storage.thumbnails import ThumbnailStore

ON_DEMAND = "on_demand"   # the ``previews`` setting that leaves previews to the moment they are shown


@dataclass(frozen=True)
class ThumbnailsParams:
    after_job: int | None = None     # only the photos this job changed (a scan's follow-on)
    regenerate: bool = False         # make them again even where they exist


class ThumbnailsKind(AfterScanKind[ThumbnailsParams]):
    name = "thumbnails"
    title = "Make previews"
    phases = (Phase("discover", 0.03, "Finding photos without previews"), Phase("process", 0.95, "Making previews"),
              Phase("finalize", 0.02, "Finishing"))
    params_type = ThumbnailsParams
    lane = Lane.CPU
    is_low_priority = True            # scans and the window's own work go first
    batch_size = 16                   # a preview costs tens of ms: commit often enough to resume finely
    menu_label = "Make &previews"
    change_aspects = frozenset({Aspect.THUMBNAIL})

    def __init__(self, repo: Any = None) -> None:
        self.repo = repo if repo is not None else ThumbnailsRepository()

    def summarize(self, result: Mapping[str, Any]) -> str:
        r = result
        text = f"{r.get('made', 0):,} previews made"
        if r.get("present"):
            text += f", {r['present']:,} there already"
        if r.get("changed"):
            text += f", {r['changed']:,} files changed since the scan (the next scan updates them)"
        if r.get("pruned"):
            text += f"; {r['pruned']:,} least recently used thumbnails removed to stay within the cache size"
        if r.get("skipped_setting"):
            text = "previews are made when a photo is first shown (setting)"
        return text

    def discover(self, ctx: JobContext) -> Iterator[Any]:
        params: ThumbnailsParams = ctx.params
        catalog_id = ctx.job.catalog_id
        assert catalog_id is not None
        if ctx.env.settings.previews == ON_DEMAND and not params.regenerate:
            ctx.discovery["skipped_setting"] = 1
            return
        ids = self.photos_of_parent(ctx)
        if ids is not None and not ids:
            return
        rows = self.repo.photos_without(ctx.tx, catalog_id, PREVIEW_PX, photo_ids=ids, everything=params.regenerate)
        ctx.discovery["photos"] = sum(len(r[2]) for r in rows)
        for content_hash, path, photo_ids in rows:
            yield {"h": content_hash, "p": path, "i": photo_ids}

    def item_key(self, item: Any) -> str:
        return str(item["p"])

    def open(self, env: JobEnv, params: ThumbnailsParams) -> ItemRunner:
        store = ThumbnailStore(env.settings.thumbnails_dir)
        gate = shared_gate(env.settings.memory_budget_mb << 20)

        def run(ictx: ItemContext, item: Any) -> Any:
            h = item["h"]
            if not params.regenerate and store.open_path(h, PREVIEW_PX) is not None:
                return "present"                      # another catalog's copy, or on demand meanwhile
            data = make_preview(item["p"], h, PREVIEW_PX, gate=gate)
            if data is None:
                raise ItemFailure("no_preview", "no preview: the file changed since the scan, or is gone or "
                                  "unreadable (the next scan updates it)")
            try:
                store.write(h, PREVIEW_PX, data, record=False)   # recorded by store(), in the batch
            except OSError as exc:
                raise ItemFailure("cache_unwritable", f"cannot write the preview: {exc}") from None
            return "made"

        return run

    def store(self, tx: Any, job: JobSnapshot, batch: BatchInfo, results: list[tuple[Any, Any]]) -> Stored:
        counts = {"made": 0, "present": 0, "changed": 0}
        changed: list[int] = []
        for item, outcome in results:
            if isinstance(outcome, ItemFailure):
                counts["changed"] += 1
                continue
            counts[outcome] += 1
            self.repo.add_sizes(tx, item["h"], [PREVIEW_PX])
            changed.extend(item["i"])
        return Stored(counts, tuple(changed))

    def finalize(self, ctx: JobContext) -> dict[str, Any]:
        """The counts, and the store kept to its budget (``thumbnail_cache_mb``): least recently
        used files go first, never the grid thumbnail of a catalogued photo."""
        totals = ctx.env.store.batch_totals(ctx.job.id)
        result = {**{k: totals.get(k, 0) for k in ("made", "present", "changed")},
                  "skipped_setting": ctx.discovery.get("skipped_setting", 0)}
        budget = ctx.env.settings.thumbnail_cache_mb * 1024 * 1024
        store = ThumbnailStore(ctx.env.settings.thumbnails_dir)
        if store.usage() > budget:
            with ctx.env.transaction() as tx:
                keep = self.repo.grid_hashes(tx)
            pruned = store.prune_keeping_grid(budget, keep)
            with ctx.env.transaction() as tx:      # the catalog forgets what went, in one transaction
                for h, sizes in pruned.removed.items():
                    self.repo.remove_sizes(tx, h, sizes)
            result["pruned"] = pruned.files_removed
        return result
