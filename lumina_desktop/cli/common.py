"""Helpers shared by CLI commands (main thread, no Qt).  Commands reach the catalog database only
through the services (``services.app.AppServices``), never ``lumina_desktop.db``."""
from __future__ import annotations

import argparse
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from lumina_desktop.config import Settings
    from lumina_desktop.services.app import AppServices


PASSWORD_WARNING = (
    "lumina-desktop: warning: the password in --database-url can be read by every user of this computer "
    "(the process list shows command lines); keep it in ~/.pgpass (or the file PGPASSFILE names), "
    "PGPASSWORD, LUMINA_DATABASE_URL or the settings file (private to you) instead"
)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The command's settings: options > environment > settings file > defaults.  A password in
    ``--database-url`` works, with a warning (once per command) on stderr."""
    import sys

    from lumina_desktop.config import load_settings, url_has_password

    url = getattr(args, "database_url", None)
    if url and not getattr(args, "_password_warned", False) and url_has_password(url):
        args._password_warned = True
        print(PASSWORD_WARNING, file=sys.stderr)
    return load_settings({"data_dir": getattr(args, "data_dir", None), "database_url": url})


@contextmanager
def services(args: argparse.Namespace, *, pool_size: int | None = 4,
             settings: Settings | None = None) -> Iterator[AppServices]:
    """Open (and afterwards close) the services on the catalog database for one command
    (``settings``: instead of those of the command line, e.g. with another worker count)."""
    from lumina_desktop.services.app import open_services

    app = open_services(settings or settings_from_args(args), pool_size=pool_size)
    try:
        yield app
    finally:
        app.close()


def print_table(rows: list[tuple[object, ...]], headers: tuple[str, ...]) -> None:
    cells = [tuple(str(c) for c in headers)] + [tuple("" if c is None else str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def emit_rows(rows: list[dict[str, object]], fmt: str, columns: tuple[str, ...],
              table: Callable[[dict[str, object]], tuple[object, ...]] | None = None,
              headers: tuple[str, ...] | None = None) -> None:
    """Rows as JSON, CSV (``columns``, in that order) or a table for people."""
    import csv
    import json
    import sys

    if fmt == "json":
        json.dump([{c: r.get(c) for c in columns} for r in rows], sys.stdout, indent=1)
        print()
    elif fmt == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=list(columns), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    else:
        print_table([table(r) if table else tuple(r.get(c) for c in columns) for r in rows], headers or columns)
