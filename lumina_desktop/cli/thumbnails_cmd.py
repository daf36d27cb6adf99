"""``lumina-desktop thumbnails status|prune|regenerate`` (main thread, no Qt)."""
from __future__ import annotations

import argparse

from lumina_desktop.cli.common import services
from lumina_desktop.core.jobs import JobState
from lumina_desktop.services.describe import format_bytes
from lumina_desktop.services.library import DEFAULT_CATALOG

THUMBNAILS_KIND = "thumbnails"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("thumbnails", help="the thumbnail store: how big it is, and pruning it to its budget")
    s = p.add_subparsers(dest="thumbnails_command", metavar="ACTION", required=True)
    s.add_parser("status", help="where the thumbnails are and how much room they take").set_defaults(handler=_status)
    pr = s.add_parser("prune", help="remove least recently used thumbnails until the store fits its budget "
                                    "(a catalogued photo's grid thumbnail is never removed)")
    pr.add_argument("--mb", type=int, help="budget in MB (default: the thumbnail_cache_mb setting)")
    pr.set_defaults(handler=_prune)
    rg = s.add_parser("regenerate", help="make every preview of a catalog again, here, with a progress bar")
    rg.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")
    rg.set_defaults(handler=_regenerate)


def _status(args: argparse.Namespace) -> int:
    with services(args) as app:
        used = app.thumbnails.usage()
        print(f"thumbnails: {app.thumbnails.root}")
        print(f"size:       {format_bytes(used)} of a {app.settings.thumbnail_cache_mb:,} MB budget")
    return 0


def _prune(args: argparse.Namespace) -> int:
    if args.mb is not None and args.mb < 0:
        raise SystemExit("lumina-desktop: error: --mb must be 0 or more")
    with services(args) as app:
        r = app.prune_thumbnails(args.mb)
        budget = args.mb if args.mb is not None else app.settings.thumbnail_cache_mb
    print(f"removed {r.files_removed:,} thumbnails ({format_bytes(r.bytes_freed)}); "
          f"{format_bytes(r.bytes_kept)} kept of a {budget:,} MB budget")
    if r.over_budget:
        print("  still over budget: what is left is the grid thumbnails of catalogued photos")
    return 0


def _regenerate(args: argparse.Namespace) -> int:
    from lumina_desktop.cli.jobs_cmd import run_job_here

    with services(args) as app:
        cat = app.library.catalog(args.catalog)
        job = run_job_here(app, lambda co: co.submit(THUMBNAILS_KIND, {"regenerate": True}, catalog_id=cat.id))
        print(f"previews of {cat.name!r}: {job.state.value}")
        print("  " + app.wording.result(job))
        if job.item_errors:
            print(f"  see why with: lumina-desktop jobs show {job.id} --errors 50")
    return 0 if job.state == JobState.SUCCEEDED else 1
