"""Entry point: ``lumina-desktop`` opens the window; with a command it runs headless (main thread)."""
from __future__ import annotations

import multiprocessing
import sys

_GUI_ONLY_OPTIONS = ("--data-dir", "--database-url")


def _wants_gui(argv: list[str]) -> bool:
    """No command given: only global options (or nothing) → open the window."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _GUI_ONLY_OPTIONS:
            i += 2
            continue
        if arg.startswith(tuple(o + "=" for o in _GUI_ONLY_OPTIONS)) or arg in ("-v", "-vv", "--verbose"):
            i += 1
            continue
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    args = sys.argv[1:] if argv is None else argv
    if _wants_gui(args):
        return gui_main(args)
    from lumina_desktop.cli import run_cli

    return run_cli(args)


def gui_main(argv: list[str] | None = None) -> int:
    from lumina_desktop.ui.app import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
