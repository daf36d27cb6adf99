"""``lumina-desktop quality run|list`` and ``lumina-desktop bursts find|list|pick`` (main thread)."""
from __future__ import annotations

import argparse

from lumina_desktop.cli.common import emit_rows, services
from lumina_desktop.core.text import printable
from lumina_desktop.core.jobs import JobState
from lumina_desktop.services.culling import BURSTS_KIND, DECISIONS, QUALITY_KIND, SUB_SCORES
from lumina_desktop.services.library import DEFAULT_CATALOG

QUALITY_COLUMNS = ("path", "score", *SUB_SCORES, "reasons")
BURST_COLUMNS = ("burst_id", "path", "is_best", "rank", "score", "reason", "decision")


def _catalog_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    q = sub.add_parser("quality", help="quality scores from pixels: sharpness, blur, noise, exposure, JPEG blocking")
    qs = q.add_subparsers(dest="quality_command", metavar="ACTION", required=True)
    r = qs.add_parser("run", help="score the photos of a catalog that have no current score (a job, with progress)")
    _catalog_arg(r)
    r.add_argument("--all", action="store_true", help="score every photo again")
    r.set_defaults(handler=_quality_run)
    ls = qs.add_parser("list", help="one row per scored photo, worst first")
    _catalog_arg(ls)
    ls.add_argument("--format", choices=("table", "csv", "json"), default="table")
    ls.set_defaults(handler=_quality_list)

    b = sub.add_parser("bursts", help="find bursts (frames shot in quick succession) and their best frames")
    bs = b.add_subparsers(dest="bursts_command", metavar="ACTION", required=True)
    f = bs.add_parser("find", help="group a catalog's photos into bursts and pick the best of each (a job)")
    _catalog_arg(f)
    f.add_argument("--gap", type=float, help="longest pause between two frames, seconds (default: the "
                                              "burst_gap_s setting, 1.0)")
    f.set_defaults(handler=_bursts_find)
    bl = bs.add_parser("list", help="one row per frame: burst, path, best, rank, score, reason")
    _catalog_arg(bl)
    bl.add_argument("--format", choices=("table", "csv", "json"), default="table")
    bl.set_defaults(handler=_bursts_list)
    rs = bs.add_parser("resolve", help="keep the best frame of each burst (and your picks), move the rest to the "
                                       "trash as one operation you can undo")
    _catalog_arg(rs)
    rs.add_argument("--dry-run", action="store_true", help="only list what would move")
    rs.set_defaults(handler=_bursts_resolve)
    pk = bs.add_parser("pick", help="remember your decision on a photo (by content: it survives rescans and moves)")
    pk.add_argument("path")
    pk.add_argument("--as", dest="decision", choices=(*DECISIONS, "none"), default="best",
                    help="best (of its burst), pick, reject, or none to forget the decision (default best)")
    _catalog_arg(pk)
    pk.set_defaults(handler=_bursts_pick)


def _run(args: argparse.Namespace, kind: str, params: dict[str, object], what: str) -> int:
    from lumina_desktop.cli import settings_from_args
    from lumina_desktop.cli.jobs_cmd import run_job_here

    settings = settings_from_args(args)
    with services(args, settings=settings, pool_size=settings.background_workers + 4) as app:
        cat = app.library.catalog(args.catalog)
        job = run_job_here(app, lambda co: co.submit(kind, params, catalog_id=cat.id))
        print(f"{what} in {cat.name!r}: {job.state.value}")
        print("  " + printable(app.wording.result(job)))
        if job.item_errors:
            print(f"  see why with: lumina-desktop jobs show {job.id} --errors 50")
    return 0 if job.state == JobState.SUCCEEDED else 1


def _quality_run(args: argparse.Namespace) -> int:
    return _run(args, QUALITY_KIND, {"everything": bool(args.all)}, "quality")


def _bursts_find(args: argparse.Namespace) -> int:
    if args.gap is not None and not 0.1 <= args.gap <= 30:
        raise SystemExit("lumina-desktop: error: --gap must be between 0.1 and 30 seconds")
    return _run(args, BURSTS_KIND, {"gap_s": args.gap} if args.gap is not None else {}, "bursts")


def _quality_list(args: argparse.Namespace) -> int:
    with services(args) as app:
        cat = app.library.catalog(args.catalog)
        rows = app.quality.rows(cat.id)
    if not rows and args.format == "table":
        print(f"no quality scores in {cat.name!r}; run: lumina-desktop quality run --catalog {cat.name!r}")
        return 0
    emit_rows(rows, args.format, QUALITY_COLUMNS,
              table=lambda r: (r["score"], printable(r["path"]), printable(r["reasons"] or "—")),
              headers=("score", "path", "why"))
    return 0


def _bursts_list(args: argparse.Namespace) -> int:
    with services(args) as app:
        cat = app.library.catalog(args.catalog)
        rows = app.bursts.rows(cat.id)
    if not rows and args.format == "table":
        print(f"no bursts in {cat.name!r}; run: lumina-desktop bursts find --catalog {cat.name!r}")
        return 0
    emit_rows(rows, args.format, BURST_COLUMNS,
              table=lambda r: (r["burst_id"], "best" if r["is_best"] else (r["rank"] or "—"),
                               r["score"] if r["score"] is not None else "—", printable(r["path"]),
                               printable(r["reason"] or "")),
              headers=("burst", "rank", "score", "path", "why"))
    return 0


def _bursts_pick(args: argparse.Namespace) -> int:
    decision = None if args.decision == "none" else args.decision
    with services(args) as app:
        cat = app.library.catalog(args.catalog)
        app.bursts.decide(cat.id, args.path, decision)
    print("forgotten" if decision is None else
          f"remembered ({decision}); it holds across rescans, moves and re-detection")
    return 0


def _bursts_resolve(args: argparse.Namespace) -> int:
    from lumina_desktop.cli import settings_from_args
    from lumina_desktop.cli.operations_cmd import trash_plan

    settings = settings_from_args(args)
    with services(args, settings=settings, pool_size=settings.background_workers + 4) as app:
        cat = app.library.catalog(args.catalog)
        plan = app.trash.bursts_plan(cat.id)
        return trash_plan(app, cat.id, cat.name, plan, "bursts: all but the best frames and your picks",
                          args.dry_run)
