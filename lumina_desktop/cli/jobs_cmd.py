"""``lumina-desktop jobs list|show|watch|cancel|resume|stats|run|prune`` and ``worker`` (main thread).

Every command sees a job the same way: the job service applies the liveness rule on each read,
so a job whose process died is ``interrupted`` in ``list``, ends ``watch`` and cancels at once.
A job run here whose database goes away ends the command with one line naming the cause and the
exact ``jobs resume`` command.  Names, paths and messages are printed through ``printable``.
"""
from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, Callable

from lumina_desktop.cli.common import print_table, services
from lumina_desktop.cli.progress_bar import watch
from lumina_desktop.config import mask_url
from lumina_desktop.services.describe import format_eta
from lumina_desktop.services.jobs import lost_message
from lumina_desktop.core.errors import DatabaseLost, LuminaError, NotFoundError
from lumina_desktop.core.jobs import JobSnapshot, JobState
from lumina_desktop.core.text import printable

if TYPE_CHECKING:
    from lumina_desktop.services.app import AppServices


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("jobs", help="list, watch, cancel and resume background jobs")
    s = p.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    ls = s.add_parser("list", help="recent and running jobs")
    ls.add_argument("--active", action="store_true", help="only pending/running jobs")
    ls.add_argument("--limit", type=int, default=20)
    ls.set_defaults(handler=_list)
    sh = s.add_parser("show", help="one job in detail")
    sh.add_argument("job_id", type=int)
    sh.add_argument("--errors", type=int, default=20, help="how many item errors to show")
    sh.set_defaults(handler=_show)
    w = s.add_parser("watch", help="live progress bar of a job (default: the newest running)")
    w.add_argument("job_id", type=int, nargs="?")
    w.set_defaults(handler=_watch)
    c = s.add_parser("cancel", help="cancel a job (works from any process)")
    c.add_argument("job_id", type=int)
    c.set_defaults(handler=_cancel)
    r = s.add_parser("resume", help="resume a cancelled/interrupted job (or start a queued one) here, with a progress bar")
    r.add_argument("job_id", type=int)
    r.add_argument("--detach", action="store_true", help="only mark it pending-resumable; do not run it here")
    r.set_defaults(handler=_resume)
    st = s.add_parser("stats", help="worker pool metrics: busy/idle, queue depth, items/s per kind")
    st.set_defaults(handler=_stats)
    from lumina_desktop.services.app import builtin_kinds

    kinds = builtin_kinds()

    run = s.add_parser("run", help="run a job of any registered kind here, with a progress bar",
                       description="kinds: " + "; ".join(f"{k.name}: {k.title}" for k in kinds))
    run.add_argument("kind", choices=kinds.names(), metavar="KIND")
    run.add_argument("--param", action="append", default=[], metavar="KEY=JSON", help="job parameter")
    run.add_argument("--catalog", help="catalog name (created if missing)")
    run.set_defaults(handler=_run)
    pr = s.add_parser("prune", help="delete finished jobs older than N days (history stays)")
    pr.add_argument("--older-than-days", type=float, default=30)
    pr.set_defaults(handler=_prune)
    wk = sub.add_parser("worker", help="join running jobs from this process: claim and run their batches")
    wk.add_argument("--threads", type=int, help="worker threads (default BACKGROUND_WORKERS)")
    wk.add_argument("--max-batches", type=int, help="exit after this many batches")
    wk.add_argument("--idle-exit", type=float, help="exit after this many idle seconds")
    wk.set_defaults(handler=_worker)


def _fmt_time(ts: Any) -> str:
    return ts.astimezone().strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def resume_command(app: AppServices, job_id: int) -> str:
    """The exact command line that resumes ``job_id`` on this catalog database (with the
    ``--data-dir`` / ``--database-url`` given here; a password never shows)."""
    parts = ["lumina-desktop"]
    settings = app.settings
    if settings.database_url:
        if settings.sources.get("database_url") == "command line":
            parts += ["--database-url", mask_url(settings.database_url)]
    elif settings.sources.get("data_dir", "default") != "default":
        parts += ["--data-dir", str(settings.data_dir)]
    return shlex.join([*parts, "jobs", "resume", str(job_id)])


def _stopped_hint(app: AppServices, job: JobSnapshot) -> str | None:
    """What to say about a job that stopped without finishing (None for any other state)."""
    if job.state == JobState.INTERRUPTED:
        return (f"job {job.id} was interrupted (the process running it stopped); "
                f"resume it with: {resume_command(app, job.id)}")
    if job.state == JobState.CANCELLED:
        return f"job {job.id} was cancelled; resume it with: {resume_command(app, job.id)}"
    return None


def _list(args: argparse.Namespace) -> int:
    with services(args) as app:
        jobs = app.jobs.recent(args.limit, active_only=args.active)  # a dead owner's job reads interrupted
        w = app.wording
    if not jobs:
        print("no jobs")
        return 0
    print_table([(j.id, j.kind, j.state.value, f"{j.fraction * 100:.0f}%",
                  f"{j.progress.done:,}/{j.progress.total:,}" if j.progress else "", j.item_errors,
                  _fmt_time(j.created_at), printable(w.name(j))) for j in jobs],
                ("id", "kind", "state", "progress", "items", "errors", "created", "what"))
    return 0


def _get(app: AppServices, job_id: int) -> JobSnapshot:
    job = app.jobs.get(job_id)  # after the liveness rule
    if job is None:
        raise NotFoundError(f"no job with id {job_id}")
    return job


def _show(args: argparse.Namespace) -> int:
    with services(args) as app:
        job = _get(app, args.job_id)
        errors = app.jobs.item_errors(job.id, args.errors)
        batches = app.jobs.batch_summary(job.id)
        w = app.wording
    p = job.progress
    print(f"job {job.id}: {printable(w.name(job))} ({job.kind}), {job.state.value}")
    print(f"  params:    {json.dumps(job.params)}")
    print(f"  created:   {_fmt_time(job.created_at)}   started: {_fmt_time(job.started_at)}   finished: {_fmt_time(job.finished_at)}")
    if p:
        running = job.state == JobState.RUNNING      # a rate and an ETA only while something runs
        stage = f"{w.phase(job)}  {p.done:,}/{p.total:,}  {printable(p.message)}" if running else f"{p.done:,}/{p.total:,}"
        print(f"  progress:  {job.fraction * 100:.1f}%  {stage}"
              + (f"  {p.rate:.1f}/s" if running and p.rate else "")
              + (f"  {format_eta(p.eta_s)}" if running and p.eta_s is not None else ""))
    print("  batches:   " + ", ".join(f"{k} {v[0]} ({v[1]:,} items)" for k, v in sorted(batches.items())))
    if job.error:
        print(f"  error:     {printable(job.error)}")
    if job.result:
        print(f"  result:    {printable(w.result(job) or json.dumps(job.result))}")
    print(f"  item errors: {job.item_errors}")
    for e in errors:
        print(f"    {printable(e.item)}: {printable(e.error_class)}: {printable(e.message)}")
    hint = _stopped_hint(app, job)
    if hint:
        print(f"  {hint}")
    return 0


def _watch(args: argparse.Namespace) -> int:
    with services(args) as app:
        job_id = args.job_id
        if job_id is None:
            active = app.jobs.recent(1, active_only=True)
            if not active:
                print("no running jobs")
                return 0
            job_id = active[0].id
        job = watch(app.jobs, job_id, out=sys.stdout, wording=app.wording)  # ends when its owner dies, too
        hint = _stopped_hint(app, job)
    if hint:
        print(hint, file=sys.stderr)
    return 0 if job.state == JobState.SUCCEEDED else 1


def _cancel(args: argparse.Namespace) -> int:
    with services(args) as app:
        state = app.jobs.request_cancel(args.job_id)  # NotFoundError: "no job with id N"
    print(f"job {args.job_id}: {state.value}")  # a dead owner's job: cancelled at once
    return 0


def run_job_here(app: AppServices, start: Callable[[Any], int]) -> JobSnapshot:
    """Run a job in this process with a live bar; Ctrl-C cancels it cleanly (exit 130).

    ``start`` gets the engine started here and returns the id of the job it submitted, resumed
    or started on it."""
    coordinator = app.start_engine(role="cli")
    interrupted = threading.Event()
    # a lost database: close the pool at once, so no thread here waits for a connection
    coordinator.guard.add_listener(lambda _lost: app.abandon_connections())
    job_id: int | None = None
    try:
        job_id = start(coordinator)
        previous = signal.getsignal(signal.SIGINT)

        def on_sigint(signum: int, frame: Any) -> None:
            if interrupted.is_set():
                raise KeyboardInterrupt
            interrupted.set()
            print("\ncancelling… (Ctrl-C again to leave it interrupted)", file=sys.stderr)
            threading.Thread(target=cancel, name="cli-cancel").start()

        def cancel() -> None:
            try:
                app.jobs.cancel(job_id)
            except Exception as exc:  # the database went away meanwhile: said once, by the guard
                if not coordinator.guard.is_lost_by(exc):
                    print(f"lumina-desktop: could not cancel job {job_id}: {exc}", file=sys.stderr)

        signal.signal(signal.SIGINT, on_sigint)
        try:
            job = watch(app.jobs, job_id, out=sys.stderr, wording=app.wording,
                        stop=lambda: coordinator.guard.is_lost)
        except DatabaseLost as exc:  # the listener or a read noticed first
            coordinator.guard.declare(exc.reason)
        finally:
            signal.signal(signal.SIGINT, previous)
        if not coordinator.guard.is_lost:
            job = coordinator.wait(job_id, timeout=30)
    except Exception as exc:  # e.g. while submitting: a lost database is said once, below
        if not coordinator.guard.is_lost_by(exc):
            raise
    finally:
        app.stop_engine(cancel=True, timeout_s=10)
    lost = coordinator.guard.lost
    if lost is not None:
        if job_id is not None and job_id not in lost.job_ids:
            lost = DatabaseLost(lost.reason, (*lost.job_ids, job_id))
        raise _lost_error(app, lost) from None
    if interrupted.is_set() and job.state == JobState.CANCELLED:
        print(f"job {job.id} cancelled; resume it with: {resume_command(app, job.id)}", file=sys.stderr)
        raise KeyboardInterrupt
    return job


def _lost_error(app: AppServices, lost: DatabaseLost) -> DatabaseLost:
    """The one line the CLI prints for a lost database: cause, stopped jobs, exact resume command."""
    err = DatabaseLost(lost.reason, lost.job_ids)
    err.args = (lost_message(lost, resume_command=lambda j: resume_command(app, j), embedded=app.embedded),)
    return err


def _engine_services(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Services for a command that runs jobs here: a connection for each worker thread."""
    from lumina_desktop.cli import settings_from_args

    settings = settings_from_args(args)
    return services(args, settings=settings, pool_size=settings.background_workers + 4)


def _resume(args: argparse.Namespace) -> int:
    with _engine_services(args) as app:
        if args.detach:
            if not app.jobs.requeue(args.job_id):
                raise LuminaError(f"job {args.job_id} cannot be resumed (only cancelled, interrupted or failed jobs)")
            print(f"job {args.job_id} is pending")
            return 0
        job = run_job_here(app, lambda co: (co.resume(args.job_id), args.job_id)[1])
        _print_summary(app, job)
        ok = report_follow_ons(app, job, run_them=False)
    return 0 if job.state == JobState.SUCCEEDED and ok else 1


def _run(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {}
    for kv in args.param:
        key, sep, raw = kv.partition("=")
        if not sep:
            raise LuminaError(f"--param needs KEY=VALUE, got {kv!r}")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    with _engine_services(args) as app:
        catalog_id = app.library.ensure_catalog(args.catalog).id if args.catalog else None
        job = run_job_here(app, lambda co: co.submit(args.kind, params, catalog_id=catalog_id))
        _print_summary(app, job)
        ok = report_follow_ons(app, job, run_them=False)
    return 0 if job.state == JobState.SUCCEEDED and ok else 1


def report_follow_ons(app: AppServices, job: JobSnapshot, *, run_them: bool) -> bool:
    """Say which jobs ``job`` queued after itself (and theirs), or run them here with a bar each.
    False if one that ran here did not succeed."""
    w = app.wording
    ok = True
    queue = [job.id]
    while queue:
        parent = queue.pop(0)
        children = sorted(app.jobs.recent(100, parent_job_id=parent), key=lambda j: j.id)
        for child in children:
            if not run_them:
                print(f"  queued: {printable(w.title(child))}; a running window or `lumina-desktop worker` runs it "
                      f"(or: {resume_command(app, child.id)})")
                continue
            done = run_job_here(app, lambda co, c=child.id: (co.start(c), c)[1])
            print("  " + printable(w.summary_line(done)))
            ok = ok and done.state == JobState.SUCCEEDED
            queue.append(child.id)
    return ok


def _print_summary(app: AppServices, job: JobSnapshot) -> None:
    print(printable(app.wording.summary_line(job)))


def _stats(args: argparse.Namespace) -> int:
    with services(args) as app:
        workers = app.jobs.processes(alive_within_s=30)
        kinds = app.jobs.throughput()
        running = app.jobs.recent(100, active_only=True)
    print("live processes:")
    if workers:
        print_table([(printable(w["worker_id"]), w["role"], w["threads"], w["busy"], max(0, w["threads"] - w["busy"]),
                      w["queued"], w["items_done"]) for w in workers],
                    ("worker", "role", "threads", "busy", "idle", "queued", "items done"))
    else:
        print("  none")
    print("\nrunning jobs:")
    if running:
        print_table([(j.id, j.kind, j.state.value, f"{j.progress.rate:.1f}" if j.progress and j.progress.rate else "")
                     for j in running], ("id", "kind", "state", "items/s"))
    else:
        print("  none")
    print("\nthroughput of finished jobs (last 30 days):")
    if kinds:
        print_table([(k["kind"], k["jobs"], k["items"], f"{k['items_per_s'] or 0:.1f}") for k in kinds],
                    ("kind", "jobs", "items", "items/s"))
    else:
        print("  none")
    return 0


def _worker(args: argparse.Namespace) -> int:
    import dataclasses

    from lumina_desktop.cli import settings_from_args

    settings = settings_from_args(args)
    if args.threads:
        settings = dataclasses.replace(settings, background_workers=args.threads)
    with services(args, settings=settings, pool_size=settings.background_workers + 4) as app:
        worker = app.worker()
        worker.start().guard.add_listener(lambda _lost: app.abandon_connections())
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: worker.stop_event.set())
        print(f"worker {printable(worker.worker_id)}: {worker.threads} threads; Ctrl-C to stop",
              file=sys.stderr, flush=True)
        try:
            n = worker.run(max_batches=args.max_batches, idle_exit_s=args.idle_exit)
        except DatabaseLost as lost:
            raise _lost_error(app, lost) from None
        finally:
            app.stop_engine(cancel=False)  # ends this process's worker pool (the worker stopped its engine)
    print(f"worker done: ran {worker.jobs_run} queued job(s); joined {n} batch(es) of jobs run elsewhere")
    return 0


def _prune(args: argparse.Namespace) -> int:
    with services(args) as app:
        n = app.jobs.prune_finished(args.older_than_days)
    print(f"pruned {n} finished job(s); their history rows remain")
    return 0
