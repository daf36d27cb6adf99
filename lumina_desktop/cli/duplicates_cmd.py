"""``lumina-desktop duplicates find|list|stats|not-duplicate|keep`` (main thread)."""
from __future__ import annotations

import argparse
import csv
import json
import sys

from lumina_desktop.cli.common import print_table, services
from lumina_desktop.core.text import printable
from lumina_desktop.core.errors import LuminaError
from lumina_desktop.core.jobs import JobState
from lumina_desktop.services.duplicates import DEFAULT_RULES
from lumina_desktop.services.library import DEFAULT_CATALOG

TIER_TITLES = {"identical": "identical files", "same_picture": "same picture, other metadata",
               "near_copy": "resized / re-encoded / converted copies"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("duplicates", help="find and review duplicate photos")
    s = p.add_subparsers(dest="duplicates_command", metavar="ACTION", required=True)
    f = s.add_parser("find", help="run duplicate detection on a catalog (a background job, with progress)")
    f.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")
    f.add_argument("--incremental", action="store_true", help="only match photos added since the last run")
    f.add_argument("--rules", help="keeper rules, comma-separated, best first "
                   f"(default {','.join(DEFAULT_RULES)})")
    f.set_defaults(handler=_find)
    ls = s.add_parser("list", help="one row per group member")
    ls.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")
    ls.add_argument("--format", choices=("table", "csv", "json"), default="table")
    ls.add_argument("--tier", choices=tuple(TIER_TITLES))
    ls.set_defaults(handler=_list)
    st = s.add_parser("stats", help="groups and reclaimable bytes per tier")
    st.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")
    st.set_defaults(handler=_stats)
    nd = s.add_parser("not-duplicate", help="remember that two files are not duplicates (by content)")
    nd.add_argument("path_a")
    nd.add_argument("path_b")
    nd.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")
    nd.set_defaults(handler=_not_duplicate)
    rs = s.add_parser("resolve", help="move every copy of a tier to the trash (keepers stay), as one operation "
                                      "you can undo")
    rs.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")
    rs.add_argument("--tier", choices=tuple(TIER_TITLES), required=True)
    rs.add_argument("--dry-run", action="store_true", help="only list what would move")
    rs.set_defaults(handler=_resolve)
    k = s.add_parser("keep", help="remember to keep this file in its group (by content)")
    k.add_argument("path")
    k.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")
    k.set_defaults(handler=_keep)


def _find(args: argparse.Namespace) -> int:
    from lumina_desktop.cli import settings_from_args
    from lumina_desktop.cli.jobs_cmd import run_job_here
    from lumina_desktop.services.duplicates import DUPLICATES_KIND, DuplicatesService

    try:
        params = DuplicatesService.find_params(
            incremental=args.incremental, rules=args.rules.split(",") if args.rules else None)
    except (ValueError, KeyError) as exc:
        raise LuminaError(f"bad --rules: {exc}") from None
    settings = settings_from_args(args)
    with services(args, settings=settings, pool_size=settings.background_workers + 4) as app:
        cat = app.library.catalog(args.catalog)
        job = run_job_here(app, lambda co: co.submit(DUPLICATES_KIND, params, catalog_id=cat.id))
    r = job.result or {}
    n = r.get('groups', 0)
    print(f"duplicates in {cat.name!r}: {job.state.value}; {n:,} group{'' if n == 1 else 's'} "
          f"({r.get('identical', 0):,} identical, {r.get('same_picture', 0):,} same picture, "
          f"{r.get('near_copy', 0):,} near copies) among {r.get('photos', 0):,} photos"
          + (f"; {r['suspicious']} suspiciously large group(s), see the log" if r.get("suspicious") else ""))
    return 0 if job.state == JobState.SUCCEEDED else 1


def _list(args: argparse.Namespace) -> int:
    from lumina_desktop.services.duplicates import member_rows

    with services(args) as app:
        cat = app.library.catalog(args.catalog)
        groups = app.duplicates.groups(cat.id)
    rows = [{"group_id": r.group_id, "tier": r.tier, "path": r.path, "is_keeper": r.is_keeper, "reason": r.reason,
             "similarity": r.similarity, "match": r.match, "bytes": r.size_bytes, "copy_of": r.copy_of}
            for r in member_rows(groups, args.tier)]
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=1)
        print()
    elif args.format == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=["group_id", "tier", "path", "is_keeper", "reason", "similarity",
                                                   "match", "bytes", "copy_of"])
        w.writeheader()
        w.writerows(rows)
    elif not rows:
        print(f"no duplicate groups in {cat.name!r}" + ("" if groups else "; run: lumina-desktop duplicates find"))
    else:
        print_table([(r["group_id"], r["tier"], "keep" if r["is_keeper"] else "copy", printable(r["path"]),
                      printable(r["reason"]))
                     for r in rows], ("group", "tier", "role", "path", "why"))
    return 0


def _stats(args: argparse.Namespace) -> int:
    with services(args) as app:
        cat = app.library.catalog(args.catalog)
        stats = app.duplicates.stats(cat.id)
    table = [(s.tier, TIER_TITLES.get(s.tier, s.tier.replace("_", " ")), s.groups, s.copies,
              f"{s.reclaimable_bytes / 1e6:,.1f} MB") for s in stats]
    print(f"duplicates in {cat.name!r}:")
    print_table(table, ("tier", "what", "groups", "copies", "reclaimable"))
    return 0


def _not_duplicate(args: argparse.Namespace) -> int:
    with services(args) as app:
        cat = app.library.catalog(args.catalog)
        app.duplicates.not_duplicates(cat.id, args.path_a, args.path_b)
    print("remembered (not duplicate); it holds across rescans, moves and renames")
    return 0


def _keep(args: argparse.Namespace) -> int:
    with services(args) as app:
        cat = app.library.catalog(args.catalog)
        app.duplicates.keep(cat.id, args.path)
    print("remembered (keep); it holds across rescans, moves and renames")
    return 0


def _resolve(args: argparse.Namespace) -> int:
    from lumina_desktop.cli import settings_from_args
    from lumina_desktop.cli.operations_cmd import trash_plan

    settings = settings_from_args(args)
    with services(args, settings=settings, pool_size=settings.background_workers + 4) as app:
        cat = app.library.catalog(args.catalog)
        plan = app.trash.duplicates_plan(cat.id, args.tier)
        return trash_plan(app, cat.id, cat.name, plan, f"{TIER_TITLES[args.tier]}: the copies of "
                          f"{plan.kept:,} groups", args.dry_run)
