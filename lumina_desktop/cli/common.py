"""Helpers shared by CLI commands (main thread, no Qt)."""
from __future__ import annotations

import argparse
from contextlib import contextmanager
from typing import Iterator

from lumina_desktop.db.pool import Database


@contextmanager
def database(args: argparse.Namespace, *, pool_size: int | None = 4) -> Iterator[Database]:
    """Open (and afterwards close) the catalog database for one command."""
    from lumina_desktop.cli import settings_from_args
    from lumina_desktop.db.pool import open_database

    settings = settings_from_args(args)
    db = open_database(settings, pool_size=pool_size)
    try:
        yield db
    finally:
        db.close()


def print_table(rows: list[tuple[object, ...]], headers: tuple[str, ...]) -> None:
    cells = [tuple(str(c) for c in headers)] + [tuple("" if c is None else str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
