"""``lumina-desktop duplicates find|list|stats|not-duplicate|keep`` (main thread)."""
from __future__ import annotations

import argparse
import csv
import json
import sys

from lumina_desktop.cli.scan_cmd import DEFAULT_CATALOG
from lumina_desktop.cli.common import database, print_table
from lumina_desktop.core.errors import LuminaError
from lumina_desktop.core.jobs import JobState

TIER_TITLES = {"identical": "identical files", "same_picture": "same picture, other metadata",
               "near_copy": "resized / re-encoded / converted copies"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("duplicates", help="find and review duplicate photos")
    s = p.add_subparsers(dest="duplicates_command", metavar="ACTION", required=True)
    f = s.add_parser("find", help="run duplicate detection on a catalog (a background job, with progress)")
    f.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")
    f.add_argument("--incremental", action="store_true", help="only match photos added since the last run")
    f.add_argument("--rules", help="keeper rules, comma-separated, best first "
                   "(default raw,pixels,camera_exif,format,file_size,earliest,path)")
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
    k = s.add_parser("keep", help="remember to keep this file in its group (by content)")
    k.add_argument("path")
    k.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")
    k.set_defaults(handler=_keep)


def _find(args: argparse.Namespace) -> int:
    from lumina_desktop.analysis.dup_keeper import rules_from_strings
    from lumina_desktop.cli import settings_from_args
    from lumina_desktop.cli.jobs_cmd import run_job_here
    from lumina_desktop.db import catalogs

    params: dict[str, object] = {"incremental": args.incremental}
    if args.rules:
        try:
            params["rules"] = list(rules_from_strings(r.strip() for r in args.rules.split(",")))
        except (ValueError, KeyError) as exc:
            raise LuminaError(f"bad --rules: {exc}") from None
    settings = settings_from_args(args)
    with database(args, pool_size=settings.background_workers + 4) as db:
        with db.connection() as conn:
            cat = catalogs.get_catalog(conn, args.catalog)
        job = run_job_here(db, settings, lambda co: co.submit("duplicates", params, catalog_id=cat.id))
    r = job.result or {}
    print(f"duplicates in {cat.name!r}: {job.state.value}; {r.get('groups', 0):,} groups "
          f"({r.get('identical', 0):,} identical, {r.get('same_picture', 0):,} same picture, "
          f"{r.get('near_copy', 0):,} near copies) among {r.get('photos', 0):,} photos"
          + (f"; {r['suspicious']} suspiciously large group(s), see the log" if r.get("suspicious") else ""))
    return 0 if job.state == JobState.SUCCEEDED else 1


def _groups(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from lumina_desktop.db import catalogs
    from lumina_desktop.jobs.kinds.duplicates import load_groups

    with database(args) as db:
        with db.connection() as conn:
            cat = catalogs.get_catalog(conn, args.catalog)
        return cat, load_groups(db, cat.id)


def _list(args: argparse.Namespace) -> int:
    cat, groups = _groups(args)
    rows = []
    for sg in groups:
        g = sg.group
        if args.tier and g.tier != args.tier:
            continue
        rows.append({"group_id": sg.id, "tier": g.tier, "path": sg.paths.get(g.keeper_id, ""), "is_keeper": True,
                     "reason": "suggested keeper" + (" (your choice)" if g.is_keeper_forced else ""),
                     "similarity": None, "match": "", "bytes": sg.sizes.get(g.keeper_id, 0)})
        for m in g.members:
            rows.append({"group_id": sg.id, "tier": m.tier, "path": sg.paths.get(m.photo_id, ""), "is_keeper": False,
                         "reason": m.reason, "similarity": round(m.similarity, 4) if m.similarity is not None else None,
                         "match": m.match, "bytes": sg.sizes.get(m.photo_id, 0)})
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=1)
        print()
    elif args.format == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=["group_id", "tier", "path", "is_keeper", "reason", "similarity",
                                                   "match", "bytes"])
        w.writeheader()
        w.writerows(rows)
    elif not rows:
        print(f"no duplicate groups in {cat.name!r}" + ("" if groups else "; run: lumina-desktop duplicates find"))
    else:
        print_table([(r["group_id"], r["tier"], "keep" if r["is_keeper"] else "copy", r["path"], r["reason"])
                     for r in rows], ("group", "tier", "role", "path", "why"))
    return 0


def _stats(args: argparse.Namespace) -> int:
    cat, groups = _groups(args)
    table = []
    for tier, title in TIER_TITLES.items():
        gs = [g for g in groups if g.tier == tier]
        table.append((tier, title, len(gs), sum(len(g.group.members) for g in gs),
                      f"{sum(g.reclaimable_bytes for g in gs) / 1e6:,.1f} MB"))
    print(f"duplicates in {cat.name!r}:")
    print_table(table, ("tier", "what", "groups", "copies", "reclaimable"))
    return 0


def _decide(args: argparse.Namespace, decision: str, paths: list[str]) -> int:
    import os

    from lumina_desktop.db import catalogs
    from lumina_desktop.db import duplicates as dup_db

    with database(args) as db, db.connection() as conn:
        cat = catalogs.get_catalog(conn, args.catalog)
        hashes = []
        for p in paths:
            h = dup_db.content_hash_of(conn, cat.id, os.path.abspath(p))
            if not h:
                raise LuminaError(f"{p} is not an analysed photo of catalog {cat.name!r}")
            hashes.append(h)
        dup_db.add_decision(conn, cat.id, decision, *hashes)
    print(f"remembered ({decision.replace('_', ' ')}); it holds across rescans, moves and renames")
    return 0


def _not_duplicate(args: argparse.Namespace) -> int:
    return _decide(args, "not_duplicate", [args.path_a, args.path_b])


def _keep(args: argparse.Namespace) -> int:
    return _decide(args, "keep", [args.path])
