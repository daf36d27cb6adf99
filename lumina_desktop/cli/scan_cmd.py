"""``lumina-desktop scan PATH… [--catalog NAME] [--full] [--all]`` (main thread)."""
from __future__ import annotations

import argparse

from lumina_desktop.cli.common import services
from lumina_desktop.core.jobs import JobState
from lumina_desktop.services.library import DEFAULT_CATALOG

__all__ = ["DEFAULT_CATALOG", "register"]


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
    from lumina_desktop.cli.jobs_cmd import report_follow_ons, run_job_here
    from lumina_desktop.services.library import SCAN_KIND, scan_params

    settings = settings_from_args(args)
    with services(args, settings=settings, pool_size=settings.background_workers + 4) as app:
        cat, folders = app.library.add_folders_to(args.catalog, args.paths)
        params = scan_params(folders, full=args.full, catalog_name=cat.name)
        job = run_job_here(app, lambda co: co.submit(SCAN_KIND, params, catalog_id=cat.id))
        print(f"scan of {', '.join(f.path for f in folders)} into {cat.name!r}: {job.state.value}")
        print("  " + app.wording.result(job))
        if (job.result or {}).get("errors"):
            print(f"  see the errors with: lumina-desktop jobs show {job.id} --errors 50")
        ok = report_follow_ons(app, job, run_them=args.all) and job.state == JobState.SUCCEEDED
    return 0 if ok else 1
