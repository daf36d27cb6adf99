"""Catalog and folder repository (psycopg only here; any non-GUI thread)."""
from __future__ import annotations

import os

import psycopg
from psycopg.rows import class_row

from lumina_desktop.core.errors import LuminaError, NotFoundError
from lumina_desktop.core.models import Catalog, CatalogFolder
from lumina_desktop.core.paths import path_for_db

_CATALOG_SELECT = """
SELECT c.id, c.name, c.created_at,
       (SELECT count(*) FROM catalog_folders f WHERE f.catalog_id = c.id)::int AS folder_count,
       (SELECT count(*) FROM photos p WHERE p.catalog_id = c.id)::int AS photo_count
FROM catalogs c
"""


def list_catalogs(conn: psycopg.Connection) -> list[Catalog]:
    with conn.cursor(row_factory=class_row(Catalog)) as cur:
        return cur.execute(_CATALOG_SELECT + " ORDER BY lower(c.name)").fetchall()


def get_catalog(conn: psycopg.Connection, name_or_id: str | int) -> Catalog:
    with conn.cursor(row_factory=class_row(Catalog)) as cur:
        if isinstance(name_or_id, int):
            row = cur.execute(_CATALOG_SELECT + " WHERE c.id = %s", (name_or_id,)).fetchone()
        else:
            row = cur.execute(_CATALOG_SELECT + " WHERE lower(c.name) = lower(%s)", (name_or_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no catalog named {name_or_id!r}")
    return row


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise LuminaError("a catalog name cannot be empty")
    if len(name) > 200:
        raise LuminaError("a catalog name must be at most 200 characters")
    return name


def create_catalog(conn: psycopg.Connection, name: str) -> Catalog:
    name = _clean_name(name)
    try:
        with conn.transaction():
            row = conn.execute("INSERT INTO catalogs (name) VALUES (%s) RETURNING id", (name,)).fetchone()
    except psycopg.errors.UniqueViolation:
        raise LuminaError(f"a catalog named {name!r} already exists") from None
    assert row is not None
    return get_catalog(conn, int(row[0]))


def ensure_catalog(conn: psycopg.Connection, name: str) -> Catalog:
    """The catalog of this name, created if missing: an idempotent upsert, so any number of
    processes may ensure the same new catalog at once (one creates it, the others find it)."""
    name = _clean_name(name)
    with conn.transaction():
        row = conn.execute("INSERT INTO catalogs (name) VALUES (%s) ON CONFLICT ((lower(name))) DO NOTHING "
                           "RETURNING id", (name,)).fetchone()
    return get_catalog(conn, int(row[0]) if row is not None else name)


def rename_catalog(conn: psycopg.Connection, catalog_id: int, new_name: str) -> Catalog:
    new_name = _clean_name(new_name)
    try:
        with conn.transaction():
            cur = conn.execute("UPDATE catalogs SET name = %s WHERE id = %s", (new_name, catalog_id))
    except psycopg.errors.UniqueViolation:
        raise LuminaError(f"a catalog named {new_name!r} already exists") from None
    if cur.rowcount == 0:
        raise NotFoundError(f"no catalog with id {catalog_id}")
    return get_catalog(conn, catalog_id)


def delete_catalog(conn: psycopg.Connection, catalog_id: int) -> None:
    """Forget a catalog and everything recorded about it; photo files are never touched."""
    with conn.transaction():
        cur = conn.execute("DELETE FROM catalogs WHERE id = %s", (catalog_id,))
    if cur.rowcount == 0:
        raise NotFoundError(f"no catalog with id {catalog_id}")


_FOLDER_SELECT = """
SELECT f.id, f.catalog_id, f.path, f.added_at, f.last_scan_at,
       (SELECT count(*) FROM photos p WHERE p.folder_id = f.id)::int AS photo_count
FROM catalog_folders f
"""
_FOLDER_SELECT_UNCOUNTED = """
SELECT f.id, f.catalog_id, f.path, f.added_at, f.last_scan_at
FROM catalog_folders f
"""


def list_folders(conn: psycopg.Connection, catalog_id: int, *, counted: bool = True) -> list[CatalogFolder]:
    """The catalog's folders by path.  ``counted=False`` leaves ``photo_count`` at 0, for callers
    that need only the folders (a scan): counting them reads an index entry per photo, 40–100 ms
    at a million photos each time."""
    with conn.cursor(row_factory=class_row(CatalogFolder)) as cur:
        select = _FOLDER_SELECT if counted else _FOLDER_SELECT_UNCOUNTED
        return cur.execute(select + " WHERE f.catalog_id = %s ORDER BY f.path", (catalog_id,)).fetchall()


def normalise_folder(path: str | bytes) -> str | bytes:
    """Absolute, normalised folder path; a clear error when it is not a readable folder."""
    full = os.path.abspath(os.path.expanduser(path))  # type: ignore[type-var]
    shown = os.fsdecode(full)
    if not os.path.exists(full):
        raise LuminaError(f"folder {shown} does not exist")
    if not os.path.isdir(full):
        raise LuminaError(f"{shown} is not a folder")
    if not os.access(full, os.R_OK | os.X_OK):
        raise LuminaError(f"folder {shown} cannot be read (permission denied)")
    return full


def add_folder(conn: psycopg.Connection, catalog_id: int, path: str | bytes) -> CatalogFolder:
    """Add a folder (idempotent).  Folders inside an existing one are refused, clearly."""
    full = normalise_folder(path)
    text, raw = path_for_db(full)
    for existing in list_folders(conn, catalog_id, counted=False):
        if existing.path == text:
            return next(f for f in list_folders(conn, catalog_id) if f.id == existing.id)   # (with its count)
        if text.startswith(existing.path.rstrip("/") + "/"):
            raise LuminaError(f"{text} is already inside the catalog's folder {existing.path}")
    with conn.transaction():
        # an upsert: another process adding the same folder at the same moment is not an error
        conn.execute(
            "INSERT INTO catalog_folders (catalog_id, path, path_bytes) VALUES (%s, %s, %s) "
            "ON CONFLICT (catalog_id, path) DO NOTHING",
            (catalog_id, text, raw),
        )
        # photos already catalogued below the new folder (it contains older folders) move to it
        conn.execute(
            "DELETE FROM catalog_folders WHERE catalog_id = %s AND starts_with(path, %s)",
            (catalog_id, text.rstrip("/") + "/"),
        )
    folder = next(f for f in list_folders(conn, catalog_id) if f.path == text)
    with conn.transaction():
        conn.execute(
            "UPDATE photos SET folder_id = %s WHERE catalog_id = %s AND starts_with(path, %s)",
            (folder.id, catalog_id, text.rstrip("/") + "/"),
        )
    return folder


def remove_folder(conn: psycopg.Connection, catalog_id: int, path: str) -> int:
    """Remove a folder and forget its photos (files untouched); returns photos forgotten."""
    text, _ = path_for_db(os.path.abspath(os.path.expanduser(path)))
    with conn.transaction():
        # FOR UPDATE waits for a scan batch that is storing into this folder (it holds the row
        # FOR KEY SHARE) and makes the next one see the folder gone, so no photo is left behind
        row = conn.execute("SELECT id FROM catalog_folders WHERE catalog_id = %s AND path = %s FOR UPDATE",
                           (catalog_id, text)).fetchone()
        if row is None:
            raise NotFoundError(f"{text} is not a folder of this catalog")
        cur = conn.execute("DELETE FROM photos WHERE folder_id = %s", (row[0],))
        conn.execute("DELETE FROM catalog_folders WHERE id = %s", (row[0],))
    return cur.rowcount
