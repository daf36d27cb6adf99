"""``lumina-desktop scan PATH… [--catalog NAME] [--full]`` (main thread)."""
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
    p.set_defaults(handler=_scan)


def _scan(args: argparse.Namespace) -> int:
    from lumina_desktop.cli import settings_from_args
    from lumina_desktop.cli.jobs_cmd import run_job_here
    from lumina_desktop.db import catalogs

    settings = settings_from_args(args)
    with database(args, pool_size=settings.background_workers + 4) as db:
        with db.connection() as conn:
            cat = catalogs.ensure_catalog(conn, args.catalog)
            folders = [catalogs.add_folder(conn, cat.id, p) for p in args.paths]
        params = {"folder_ids": [f.id for f in folders], "folder_paths": [f.path for f in folders], "full": args.full}
        job = run_job_here(db, settings, lambda co: co.submit("scan", params, catalog_id=cat.id))
    r = job.result or {}
    print(f"scan of {', '.join(f.path for f in folders)} into {cat.name!r}: {job.state.value}")
    print("  files {files:,}   new {new:,}   changed {changed:,}   moved {moved:,}   unchanged {unchanged:,}   "
          "missing {missing:,}   errors {errors:,}".format(**{k: r.get(k, 0) for k in
                                                            ("files", "new", "changed", "moved", "unchanged", "missing", "errors")}))
    if r.get("refreshed"):
        print(f"  refreshed {r['refreshed']:,} unchanged files analysed by an older version of Lumina")
    if r.get("errors"):
        print(f"  see the errors with: lumina-desktop jobs show {job.id} --errors 50")
    return 0 if job.state == JobState.SUCCEEDED else 1
