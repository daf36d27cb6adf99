"""``lumina-desktop catalog create|list|rename|delete|folders|add-folder|remove-folder`` (main thread)."""
from __future__ import annotations

import argparse

from lumina_desktop.cli.common import print_table, services
from lumina_desktop.services.library import DEFAULT_CATALOG


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("catalog", help="create and manage catalogs and their folders")
    s = p.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    c = s.add_parser("create", help="create a catalog")
    c.add_argument("name")
    c.set_defaults(handler=_create)
    s.add_parser("list", help="list catalogs").set_defaults(handler=_list)
    r = s.add_parser("rename", help="rename a catalog")
    r.add_argument("name")
    r.add_argument("new_name")
    r.set_defaults(handler=_rename)
    d = s.add_parser("delete", help="forget a catalog (photo files are never touched)")
    d.add_argument("name")
    d.add_argument("--yes", action="store_true", help="do not ask")
    d.set_defaults(handler=_delete)
    f = s.add_parser("folders", help="list a catalog's folders")
    f.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")
    f.set_defaults(handler=_folders)
    a = s.add_parser("add-folder", help="add folders to a catalog (created if missing)")
    a.add_argument("paths", nargs="+")
    a.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r}; created if missing)")
    a.set_defaults(handler=_add_folder)
    rm = s.add_parser("remove-folder", help="remove a folder (its files are never touched)")
    rm.add_argument("path")
    rm.add_argument("--catalog", default=DEFAULT_CATALOG, help=f"catalog name (default {DEFAULT_CATALOG!r})")
    rm.set_defaults(handler=_remove_folder)


def _create(args: argparse.Namespace) -> int:
    with services(args) as app:
        cat = app.library.create_catalog(args.name)
    print(f"created catalog {cat.name!r} (id {cat.id})")
    return 0


def _list(args: argparse.Namespace) -> int:
    with services(args) as app:
        rows = app.library.catalogs()
    if not rows:
        print("no catalogs yet; create one with: lumina-desktop catalog create NAME")
        return 0
    print_table([(c.id, c.name, c.folder_count, c.photo_count, c.created_at.strftime("%Y-%m-%d %H:%M"))
                 for c in rows], ("id", "name", "folders", "photos", "created"))
    return 0


def _rename(args: argparse.Namespace) -> int:
    with services(args) as app:
        cat = app.library.catalog(args.name)
        cat = app.library.rename_catalog(cat.id, args.new_name)
    print(f"renamed to {cat.name!r}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    import sys

    from lumina_desktop.core.errors import LuminaError

    with services(args) as app:
        cat = app.library.catalog(args.name)
        if not args.yes:
            if not sys.stdin.isatty():
                raise LuminaError("refusing to delete without confirmation; add --yes")
            answer = input(f"Forget catalog {cat.name!r} ({cat.photo_count} photos)? Files stay on disk. [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing deleted")
                return 1
        app.library.delete_catalog(cat.id)
    print(f"deleted catalog {cat.name!r}; no photo file was touched")
    return 0


def _folders(args: argparse.Namespace) -> int:
    with services(args) as app:
        cat = app.library.catalog(args.catalog)
        rows = app.library.folders(cat.id)
    print_table([(f.id, f.path, f.photo_count, f"{f.last_scan_at.astimezone():%Y-%m-%d %H:%M}" if f.last_scan_at else "never") for f in rows],
                ("id", "path", "photos", "last scan"))
    return 0


def _add_folder(args: argparse.Namespace) -> int:
    with services(args) as app:
        cat, folders = app.library.add_folders_to(args.catalog, args.paths)
    for folder in folders:
        print(f"added {folder.path} to {cat.name!r}")
    return 0


def _remove_folder(args: argparse.Namespace) -> int:
    with services(args) as app:
        cat = app.library.catalog(args.catalog)
        n = app.library.remove_folder(cat.id, args.path)
    print(f"removed {args.path} from {cat.name!r} ({n} photos forgotten; files untouched)")
    return 0
