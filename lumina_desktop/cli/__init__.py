"""Headless command line (no Qt): argument parsing and dispatch to command modules (main thread).

Every user mistake ends as one line on stderr and a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable, Sequence

from lumina_desktop import __version__
from lumina_desktop.core.errors import LuminaError

log = logging.getLogger(__name__)
Handler = Callable[[argparse.Namespace], int]
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from lumina_desktop.cli import catalog_cmd, db_cmd

    p = _Parser(prog="lumina-desktop", description="Lumina Desktop photo manager. "
                "Without a command, opens the window.")
    p.add_argument("--version", action="version", version=f"lumina-desktop {__version__}")
    p.add_argument("--data-dir", help="data folder (catalog database, thumbnails, logs)")
    p.add_argument("--database-url", help="use this PostgreSQL server instead of the embedded one")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    cfg = sub.add_parser("config", help="show the effective configuration")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    cfg_sub.add_parser("show", help="print effective settings and where each comes from").set_defaults(handler=_config_show)

    db_cmd.register(sub)
    catalog_cmd.register(sub)
    for register in _extra_registrars():
        register(sub)
    return p


def _extra_registrars() -> list[Callable[[argparse._SubParsersAction], None]]:  # type: ignore[type-arg]
    """Command groups added by later features (scan, jobs, worker, duplicates)."""
    import importlib

    out = []
    for name in ("jobs_cmd", "scan_cmd", "duplicates_cmd", "thumbnails_cmd", "culling_cmd", "operations_cmd"):
        try:
            mod = importlib.import_module(f"lumina_desktop.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lumina_desktop.cli.{name}":
                raise
            continue
        out.append(mod.register)
    return out


def settings_from_args(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from lumina_desktop.config import load_settings

    return load_settings({"data_dir": args.data_dir, "database_url": args.database_url})


def _config_show(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    width = max(len(k) for k, _, _ in settings.describe())
    print(f"settings file: {settings.settings_path}")
    for key, value, source in settings.describe():
        print(f"{key:<{width}}  {value}   [{source}]")
    return 0


def run_cli(argv: Sequence[str]) -> int:
    """Run a headless command; returns the exit code."""
    from lumina_desktop.log import setup_logging

    parser = build_parser()
    args = parser.parse_args(list(argv))
    try:  # the CLI logs to the same file as the window (<data_dir>/logs/lumina.log)
        log_dir = settings_from_args(args).data_dir / "logs"
    except LuminaError:
        log_dir = None  # the command reports the bad setting itself
    setup_logging(verbose=args.verbose, log_dir=log_dir)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args)
    except LuminaError as exc:
        print(f"lumina-desktop: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("lumina-desktop: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
