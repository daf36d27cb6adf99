"""The ``tags`` job kind: offline AI tags for photos that lack tags of the current version.

It follows every scan (for the photos the scan changed; Settings can switch it off like any
stage).  Each worker thread loads the classifier (EfficientNet-Lite0 on onnxruntime, from weights
an installed package ships: no network, ever) and the face detector once, in ``open``.  Each
content hash is looked at once, from the stored 1280 px preview when there is one (decoded at a
reduced DCT scale), else from the 256 px grid thumbnail every catalogued photo has, else from the
original; the tags (the classifier's words and the words above them, rule-based tags, "people")
and face boxes are stored for every photo with that content.  The user's own tags are never
touched.  A file that cannot be read is a per-item error; the batch goes on.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from PIL import Image

from lumina_desktop.analysis.previews import make_preview
from lumina_desktop.analysis.tag_heuristics import FileFacts
from lumina_desktop.analysis.tagging import TAGS_VERSION, Tagger
from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.jobs import JobSnapshot
from lumina_desktop.core.media import GRID_PX, PREVIEW_PX
from lumina_desktop.db.tags import TagResult, TagsRepository
from lumina_desktop.jobs.engine.context import BatchInfo, ItemContext, JobContext, JobEnv
from lumina_desktop.jobs.engine.kind import ItemFailure, ItemRunner, Lane, Phase, Stored
from lumina_desktop.jobs.kinds.after_scan import AfterScanKind
from lumina_desktop.storage.thumbnails import ThumbnailStore

DECODE_SHORT_PX = 256    # the classifier's short side
DECODE_LONG_PX = 400     # the face detector's long edge


@dataclass(frozen=True)
class TagsParams:
    after_job: int | None = None     # only the photos this job changed (a scan's follow-on)
    everything: bool = False         # tag again even where tags of this version exist
    faces: bool = True               # look for faces ("people" and face boxes)


def decode_for_tagging(data: bytes) -> Image.Image:
    """A stored JPEG (preview or grid thumbnail, already upright and sRGB) decoded at the smallest
    DCT scale that keeps the short side ≥ 256 px and the long side ≥ 400 px."""
    with Image.open(io.BytesIO(data)) as im:
        w, h = im.size
        want = (DECODE_LONG_PX, DECODE_SHORT_PX) if w >= h else (DECODE_SHORT_PX, DECODE_LONG_PX)
        im.draft("RGB", want)
        return im.convert("RGB")


class TagsKind(AfterScanKind[TagsParams]):
    name = "tags"
    title = "Tag photos"
    phases = (Phase("discover", 0.03, "Finding photos to tag"), Phase("process", 0.95, "Tagging photos"),
              Phase("finalize", 0.02, "Finishing"))
    params_type = TagsParams
    lane = Lane.CPU
    batch_size = 32
    menu_label = "&Tag photos"
    change_aspects = frozenset({Aspect.TAGS})

    def __init__(self, repo: Any = None) -> None:
        self.repo = repo if repo is not None else TagsRepository()

    def summarize(self, result: Mapping[str, Any]) -> str:
        r = result
        text = f"{r.get('tagged', 0):,} photos tagged"
        if r.get("with_people"):
            text += f", {r['with_people']:,} with people"
        if r.get("unreadable"):
            text += f", {r['unreadable']:,} could not be read as scanned (the next scan updates them)"
        if r.get("no_faces"):
            text += "; faces not looked for (no face detector installed)"
        return text

    def discover(self, ctx: JobContext) -> Iterator[Any]:
        params: TagsParams = ctx.params
        catalog_id = ctx.job.catalog_id
        assert catalog_id is not None
        ids = self.photos_of_parent(ctx)
        if ids is not None and not ids:
            return
        work = self.repo.photos_to_tag(ctx.tx, catalog_id, TAGS_VERSION, photo_ids=ids, everything=params.everything)
        ctx.discovery["photos"] = sum(len(w.photo_ids) for w in work)
        for w in work:
            yield {"h": w.content_hash, "p": w.path, "n": len(w.photo_ids),
                   "f": [w.file_format, w.width, w.height, w.camera_make, w.iso, w.shutter_s]}

    def item_key(self, item: Any) -> str:
        return str(item["p"])

    def open(self, env: JobEnv, params: TagsParams) -> ItemRunner:
        store = ThumbnailStore(env.settings.thumbnails_dir)
        tagger = Tagger(detect_faces=params.faces)      # loaded once per worker thread

        def run(ictx: ItemContext, item: Any) -> Any:
            h = item["h"]
            data = store.read(h, PREVIEW_PX) or store.read(h, GRID_PX)
            if data is None:
                data = make_preview(item["p"], h, PREVIEW_PX)
                if data is None:
                    raise ItemFailure("no_picture", "not tagged: the file changed since the scan, or is gone or "
                                      "unreadable (the next scan updates it)")
            try:
                im = decode_for_tagging(data)
            except Exception as exc:   # a damaged stored thumbnail: say so, the next scan makes it again
                raise ItemFailure("no_picture", f"not tagged: the stored thumbnail could not be decoded ({exc})") from None
            ictx.check_cancelled()
            f = item["f"]
            result = tagger.tag(im, FileFacts(f[0], f[1], f[2], f[3], f[4], f[5]))
            return TagResult(h, result.tags, result.faces), params.faces and not tagger.has_faces

        return run

    def store(self, tx: Any, job: JobSnapshot, batch: BatchInfo, results: list[tuple[Any, Any]]) -> Stored:
        counts = {"tagged": 0, "unreadable": 0, "with_people": 0, "no_faces": 0}
        rows: list[TagResult] = []
        for item, outcome in results:
            if isinstance(outcome, ItemFailure):
                counts["unreadable"] += 1
                continue
            result, faces_missing = outcome
            rows.append(result)
            counts["tagged"] += int(item["n"])
            if result.faces:
                counts["with_people"] += int(item["n"])
            if faces_missing:
                counts["no_faces"] = 1
        assert batch.catalog_id is not None
        changed = self.repo.store_results(tx, batch.catalog_id, TAGS_VERSION, rows)
        return Stored(counts, tuple(changed))

    def finalize(self, ctx: JobContext) -> dict[str, Any]:
        totals = ctx.env.store.batch_totals(ctx.job.id)
        out = {k: totals.get(k, 0) for k in ("tagged", "unreadable", "with_people")}
        if totals.get("no_faces"):
            out["no_faces"] = 1
        return out
