"""``lumina-desktop operations list`` and ``lumina-desktop undo [OPERATION | --all]``, and the
trash step shared by ``duplicates resolve`` and ``bursts resolve`` (main thread)."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from lumina_desktop.cli.common import print_table, services
from lumina_desktop.core.errors import LuminaError
from lumina_desktop.core.jobs import JobState
from lumina_desktop.core.text import printable
from lumina_desktop.services.describe import format_bytes
from lumina_desktop.services.trash import TRASH_KIND

if TYPE_CHECKING:
    from lumina_desktop.services.app import AppServices
    from lumina_desktop.services.trash import Plan


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("operations", help="what was moved to the trash, and what can be undone")
    s = p.add_subparsers(dest="operations_command", metavar="ACTION", required=True)
    ls = s.add_parser("list", help="the latest operations, newest first")
    ls.add_argument("--limit", type=int, default=20)
    ls.set_defaults(handler=_list)
    u = sub.add_parser("undo", help="put the files of an operation (or of all of them) back where they were")
    u.add_argument("operation", nargs="?", type=int, help="operation id (see: lumina-desktop operations list)")
    u.add_argument("--all", action="store_true", help="undo every operation with files in the trash")
    u.set_defaults(handler=_undo)


def trash_plan(app: AppServices, catalog_id: int, catalog_name: str, plan: Plan, description: str,
               dry_run: bool) -> int:
    """Show what ``plan`` moves; unless ``dry_run``, journal it and move the files here, with a bar."""
    from lumina_desktop.cli.jobs_cmd import run_job_here

    print(f"{len(plan.photo_ids):,} files ({format_bytes(plan.bytes)}) to the trash from {catalog_name!r}; "
          f"{plan.kept:,} kept")
    if dry_run:
        for path in plan.paths:
            print(f"  would move {printable(path)}")
        return 0
    if not plan.photo_ids:
        return 0
    op = app.trash.journal(catalog_id, plan, description)
    job = run_job_here(app, lambda co: co.submit(TRASH_KIND, app.trash.job_params(op), catalog_id=catalog_id))
    print(f"operation {op}: {printable(app.wording.result(job))}")
    print(f"  undo with: lumina-desktop undo {op}")
    for path, error in app.trash.item_errors(op):
        print(f"  left {printable(path)}: {printable(error)}")
    return 0 if job.state == JobState.SUCCEEDED else 1


def _list(args: argparse.Namespace) -> int:
    with services(args) as app:
        rows = app.trash.operations(limit=args.limit)
    if not rows:
        print("no operations yet")
        return 0
    table = []
    for r in rows:
        state = ("undone" if r.undone_at else ", ".join(f"{n:,} {k}" for k, n in sorted(r.counts.items())))
        table.append((r.id, f"{r.created_at:%Y-%m-%d %H:%M}", r.files, format_bytes(r.bytes_trashed), state,
                      printable(r.description)))
    print_table(table, ("id", "when", "files", "in trash", "state", "what"))
    return 0


def _undo(args: argparse.Namespace) -> int:
    from lumina_desktop.cli.jobs_cmd import run_job_here

    if (args.operation is None) == (not args.all):
        raise LuminaError("name an operation (see: lumina-desktop operations list) or use --all")
    code = 0
    with services(args) as app:
        if args.all:
            ops = app.trash.undoable()
        else:
            app.trash.operation_catalog(args.operation)          # a clear error for an unknown id
            ops = [args.operation] if args.operation in app.trash.undoable() else []
        if not ops:
            print("nothing to undo: " + ("no operation has files in the trash" if args.all else
                                         f"operation {args.operation} has no files in the trash (undone already?)"))
            return 0
        for op in ops:
            catalog_id = app.trash.operation_catalog(op)
            job = run_job_here(app, lambda co, op=op, cid=catalog_id: co.submit(
                TRASH_KIND, app.trash.job_params(op, undo=True), catalog_id=cid))
            print(f"operation {op}: {printable(app.wording.result(job))}")
            refused = [(p, e) for p, e in app.trash.item_errors(op) if e]
            for path, error in refused if job.result and job.result.get("refused") else []:
                print(f"  kept in the trash: {printable(path)}: {printable(error)}")
            if job.state != JobState.SUCCEEDED or (job.result or {}).get("refused"):
                code = 1
    return code
