"""``lumina-desktop tags run|list|search`` (main thread)."""
from __future__ import annotations

import argparse

from lumina_desktop.cli.common import emit_rows, services
from lumina_desktop.core.jobs import JobState
from lumina_desktop.core.text import printable
from lumina_desktop.services.library import DEFAULT_CATALOG
from lumina_desktop.services.tags import SHOW_CONFIDENCE, TAGS_KIND

TAG_COLUMNS = ("path", "tag", "confidence", "source")


def _catalog_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a confidence is between 0 and 1")
    return value


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    t = sub.add_parser("tags", help="offline AI tags (objects, animals, places, people, screenshots, …), "
                                    "searchable with synonyms")
    ts = t.add_subparsers(dest="tags_command", metavar="ACTION", required=True)
    r = ts.add_parser("run", help="tag the photos of a catalog that have no current tags (a job, with progress; "
                                  "no network)")
    _catalog_arg(r)
    r.add_argument("--all", action="store_true", help="tag every photo again (your own tags are kept)")
    r.add_argument("--no-faces", action="store_true", help="do not look for faces")
    r.set_defaults(handler=_tags_run)
    ls = ts.add_parser("list", help="one row per tag of each photo: path, tag, confidence, source "
                                    "(model, heuristic or user)")
    _catalog_arg(ls)
    ls.add_argument("--format", choices=("table", "csv", "json"), default="table")
    ls.add_argument("--min-confidence", type=_confidence, default=SHOW_CONFIDENCE,
                    help=f"also list less certain tags, down to this confidence (default {SHOW_CONFIDENCE}; "
                         "0 lists all)")
    ls.set_defaults(handler=_tags_list)
    se = ts.add_parser("search", help="the photos tagged with these words (synonyms and broader words work: "
                                      "'dog' finds every breed; commas separate alternatives)")
    se.add_argument("words")
    _catalog_arg(se)
    se.set_defaults(handler=_tags_search)


def _tags_run(args: argparse.Namespace) -> int:
    from lumina_desktop.cli import settings_from_args
    from lumina_desktop.cli.jobs_cmd import run_job_here

    settings = settings_from_args(args)
    params = {"everything": bool(args.all), "faces": not args.no_faces}
    with services(args, settings=settings, pool_size=settings.background_workers + 4) as app:
        cat = app.library.catalog(args.catalog)
        job = run_job_here(app, lambda co: co.submit(TAGS_KIND, params, catalog_id=cat.id))
        print(f"tags in {cat.name!r}: {job.state.value}")
        print("  " + printable(app.wording.result(job)))
        if job.item_errors:
            print(f"  see why with: lumina-desktop jobs show {job.id} --errors 50")
    return 0 if job.state == JobState.SUCCEEDED else 1


def _tags_list(args: argparse.Namespace) -> int:
    with services(args) as app:
        cat = app.library.catalog(args.catalog)
        found = app.tags.rows(cat.id, min_confidence=args.min_confidence)
    rows: list[dict[str, object]] = [{"path": r.path, "tag": r.tag, "confidence": round(r.confidence, 3),
                                      "source": r.source.value} for r in found]
    if not rows and args.format == "table":
        print(f"no tags in {cat.name!r}; run: lumina-desktop tags run --catalog {cat.name!r}")
        return 0
    emit_rows(rows, args.format, TAG_COLUMNS,
              table=lambda r: (printable(str(r["path"])), r["tag"], f"{r['confidence']:.2f}", r["source"]),
              headers=TAG_COLUMNS)
    return 0


def _tags_search(args: argparse.Namespace) -> int:
    with services(args) as app:
        cat = app.library.catalog(args.catalog)
        service = app.tags
        ids = service.search(cat.id, args.words)
        paths = app.photos.paths(ids) if ids else ()
    if not ids:
        print(f"no photos in {cat.name!r} are tagged {printable(args.words)!r}")
        return 1
    for path in paths:
        print(printable(path))
    return 0
