"""Headless command line (no Qt): argument parsing and dispatch to command modules (main thread).

Every user mistake ends as one line on stderr and a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import logging
import sys
from types import ModuleType
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


def command_modules() -> tuple[ModuleType, ...]:
    """The command groups, imported by name so a frozen bundle (PyInstaller) sees every one.

    A new ``cli/<name>_cmd.py`` is one import and one entry here; a test checks the list is complete.
    """
    from lumina_desktop.cli import (catalog_cmd, culling_cmd, db_cmd, duplicates_cmd, jobs_cmd,
                                    operations_cmd, scan_cmd, tags_cmd, thumbnails_cmd)

    return (db_cmd, catalog_cmd, jobs_cmd, scan_cmd, duplicates_cmd, thumbnails_cmd, culling_cmd,
            operations_cmd, tags_cmd)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="lumina-desktop", description="Lumina Desktop photo manager. "
                "Without a command, opens the window.")
    p.add_argument("--version", action="version", version=f"lumina-desktop {__version__}")
    p.add_argument("--data-dir", help="data folder (catalog database, thumbnails, logs)")
    p.add_argument("--database-url", help="use this PostgreSQL server instead of the embedded one")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    entry = p.add_mutually_exclusive_group()
    entry.add_argument("--install-desktop-entry", action="store_true",
                       help="add Lumina Desktop to your desktop's application menu (for you only)")
    entry.add_argument("--uninstall-desktop-entry", action="store_true",
                       help="remove what --install-desktop-entry added")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    cfg = sub.add_parser("config", help="show the effective configuration")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    cfg_sub.add_parser("show", help="print effective settings and where each comes from").set_defaults(handler=_config_show)

    for module in command_modules():
        module.register(sub)
    return p


def _desktop_entry(args: argparse.Namespace) -> int:
    from lumina_desktop import desktop_entry

    try:
        if args.install_desktop_entry:
            for path in desktop_entry.install():
                print(f"wrote {path}")
            print("Lumina Desktop is in your application menu; undo with --uninstall-desktop-entry")
        else:
            removed = desktop_entry.uninstall()
            for path in removed:
                print(f"removed {path}")
            if not removed:
                print("no desktop entry of Lumina Desktop was installed for you")
    except OSError as exc:
        print(f"lumina-desktop: error: {exc.strerror or exc}: {exc.filename or desktop_entry.data_home()}",
              file=sys.stderr)
        return EXIT_ERROR
    return 0


def settings_from_args(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from lumina_desktop.cli.common import settings_from_args as from_args  # warns of a password in argv

    return from_args(args)


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
    if args.install_desktop_entry or args.uninstall_desktop_entry:   # no data folder, no log file
        if getattr(args, "handler", None) is not None:
            parser.error("--install-desktop-entry and --uninstall-desktop-entry take no command")
        return _desktop_entry(args)
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
