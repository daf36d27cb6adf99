"""The ``quality`` job kind: scores from pixels (sharpness, motion blur, noise, exposure, contrast,
JPEG blocking) for photos that lack a current score.

It follows every scan (for the photos the scan changed) and is followed by ``bursts``, whose best
pick ranks the scores.  Each content hash is decoded once, at a long edge of 1024 px or more and
never from the 256 px grid image: from the preview in the thumbnail store when there is one,
otherwise from the original at the DCT scale that lands in the preview band — and that preview
is then kept in the store (unless previews are made on demand only), so the thumbnails job that
also follows the scan finds it made.  A file edited since the scan is a per-item error (the next
scan updates it); copies share one measurement.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from PIL import Image

from lumina_desktop.analysis import quality
from lumina_desktop.analysis.previews import make_preview
from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.jobs import JobSnapshot
from lumina_desktop.core.media import PREVIEW_PX
from lumina_desktop.db.quality import QualityRepository
from lumina_desktop.jobs.engine.context import BatchInfo, ItemContext, JobContext, JobEnv
from lumina_desktop.jobs.engine.kind import ItemFailure, ItemRunner, Lane, Phase, Stored
from lumina_desktop.jobs.kinds.after_scan import AfterScanKind
from lumina_desktop.storage.thumbnails import ThumbnailStore

ON_DEMAND = "on_demand"   # the ``previews`` setting: previews only when shown, so none are kept here


@dataclass(frozen=True)
class QualityParams:
    after_job: int | None = None     # only the photos this job changed (a scan's follow-on)
    everything: bool = False         # score again even where a current score exists


def _picture(data: bytes) -> Image.Image:
    """The preview JPEG decoded to RGB (already upright and sRGB: previews are made so)."""
    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (quality.ANALYSIS_PX, quality.ANALYSIS_PX))
        return im.convert("RGB")


class QualityKind(AfterScanKind[QualityParams]):
    name = "quality"
    title = "Score quality"
    phases = (Phase("discover", 0.03, "Finding photos to score"), Phase("process", 0.95, "Scoring quality"),
              Phase("finalize", 0.02, "Finishing"))
    params_type = QualityParams
    lane = Lane.CPU
    batch_size = 32
    menu_label = "Score &quality"
    change_aspects = frozenset({Aspect.QUALITY})
    follow_ons = ("bursts",)

    def __init__(self, repo: Any = None) -> None:
        self.repo = repo if repo is not None else QualityRepository()

    def summarize(self, result: Mapping[str, Any]) -> str:
        r = result
        text = f"{r.get('scored', 0):,} photos scored"
        if r.get("changed"):
            text += f", {r['changed']:,} could not be read as scanned (the next scan updates them)"
        return text

    def discover(self, ctx: JobContext) -> Iterator[Any]:
        params: QualityParams = ctx.params
        catalog_id = ctx.job.catalog_id
        assert catalog_id is not None
        ids = self.photos_of_parent(ctx)
        if ids is not None and not ids:
            return
        rows = self.repo.photos_to_score(ctx.tx, catalog_id, quality.QUALITY_VERSION, photo_ids=ids,
                                         everything=params.everything)
        ctx.discovery["photos"] = sum(len(r[2]) for r in rows)
        for content_hash, path, photo_ids in rows:
            yield {"h": content_hash, "p": path, "i": photo_ids}

    def item_key(self, item: Any) -> str:
        return str(item["p"])

    def open(self, env: JobEnv, params: QualityParams) -> ItemRunner:
        store = ThumbnailStore(env.settings.thumbnails_dir)
        keep_previews = env.settings.previews != ON_DEMAND

        def run(ictx: ItemContext, item: Any) -> Any:
            h = item["h"]
            data = store.read(h, PREVIEW_PX)
            made = False
            if data is None:
                data = make_preview(item["p"], h, PREVIEW_PX)
                if data is None:
                    raise ItemFailure("no_picture", "not scored: the file changed since the scan, or is gone or "
                                      "unreadable (the next scan updates it)")
                if keep_previews:
                    try:
                        store.write(h, PREVIEW_PX, data, record=False)   # recorded by store(), in the batch
                        made = True
                    except OSError:
                        pass                                           # scoring does not need the cache
            try:
                im = _picture(data)
            except Exception as exc:  # a damaged cached preview: say so, the next run makes it again
                raise ItemFailure("no_picture", f"not scored: the preview could not be decoded ({exc})") from None
            measures, score = quality.assess(im)
            return score, measures.to_dict(), max(im.size), made

        return run

    def store(self, tx: Any, job: JobSnapshot, batch: BatchInfo, results: list[tuple[Any, Any]]) -> Stored:
        counts = {"scored": 0, "changed": 0, "previews_made": 0}
        rows = []
        for item, outcome in results:
            if isinstance(outcome, ItemFailure):
                counts["changed"] += 1
                continue
            score, measures, px, made = outcome
            rows.append((item["h"], score, measures, px))
            counts["scored"] += len(item["i"])
            if made:
                counts["previews_made"] += 1
                self.repo.add_sizes(tx, item["h"], [PREVIEW_PX])
        assert batch.catalog_id is not None
        changed = self.repo.store_scores(tx, batch.catalog_id, quality.QUALITY_VERSION, rows)
        return Stored(counts, tuple(changed))

    def finalize(self, ctx: JobContext) -> dict[str, Any]:
        totals = ctx.env.store.batch_totals(ctx.job.id)
        return {k: totals.get(k, 0) for k in ("scored", "changed", "previews_made")}
