"""``lumina-desktop scan PATH… [--catalog NAME] [--full] [--all]`` (main thread)."""
from __future__ import annotations

import argparse

from lumina_desktop.cli.common import database
from lumina_desktop.core.jobs import JobState

DEFAULT_CATALOG = "Photos"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("scan", help="add folders to a catalog and scan them (metadata, hashes, thumbnails)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r}; created if missing)")
    p.add_argument("--full", action="store_true", help="re-analyse unchanged files too")
    p.add_argument("--all", action="store_true",
                   help="also run the jobs that follow a scan (duplicates, …) here, each with its own progress bar")
    p.set_defaults(handler=_scan)


def _scan(args: argparse.Namespace) -> int:
    from lumina_desktop.cli import settings_from_args
    from lumina_desktop.cli.jobs_cmd import report_follow_ons, run_job_here, wording
    from lumina_desktop.db import catalogs

    settings = settings_from_args(args)
    w = wording()
    with database(args, pool_size=settings.background_workers + 4) as db:
        with db.connection() as conn:
            cat = catalogs.ensure_catalog(conn, args.catalog)
            folders = [catalogs.add_folder(conn, cat.id, p) for p in args.paths]
        params = {"folder_ids": [f.id for f in folders], "folder_paths": [f.path for f in folders], "full": args.full}
        job = run_job_here(db, settings, lambda co: co.submit("scan", params, catalog_id=cat.id))
        print(f"scan of {', '.join(f.path for f in folders)} into {cat.name!r}: {job.state.value}")
        print("  " + w.result(job))
        if (job.result or {}).get("errors"):
            print(f"  see the errors with: lumina-desktop jobs show {job.id} --errors 50")
        ok = report_follow_ons(db, settings, job, run_them=args.all) and job.state == JobState.SUCCEEDED
    return 0 if ok else 1
