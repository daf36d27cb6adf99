"""LibraryController: catalog and folder actions run on the interactive lane; results come back as signals.

The GUI calls methods (which only submit work); the work runs on ``io`` (DB and disk), and the
outcome reaches widgets through this object's signals, carrying immutable values.  A user
mistake (a folder that does not exist, a duplicate name) arrives as ``failed(message)``.
"""
from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject, Signal

from lumina_desktop.core.errors import LuminaError
from lumina_desktop.ui.widgets.catalog_sidebar import LibraryState

log = logging.getLogger(__name__)
DEFAULT_CATALOG = "Photos"


def read_library_state(db: Any, catalog_id: int | None) -> LibraryState:
    """Catalogs, the current one (creating the default on first run), its folders and counts."""
    from lumina_desktop.db import catalogs, photos

    with db.connection() as conn:
        cats = catalogs.list_catalogs(conn)
        if not cats:
            catalogs.create_catalog(conn, DEFAULT_CATALOG)
            cats = catalogs.list_catalogs(conn)
        current = next((c for c in cats if c.id == catalog_id), cats[0])
        folders = catalogs.list_folders(conn, current.id)
        counts = photos.count_status(conn, current.id)
    return LibraryState(tuple(cats), current, tuple(folders), counts)


class LibraryController(QObject):
    state_loaded = Signal(object)   # LibraryState
    failed = Signal(str)
    scan_requested = Signal(int, object)  # catalog id, tuple of (folder id, path)

    def __init__(self, db: Any, io: ThreadPoolExecutor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.io = io
        self.catalog_id: int | None = None

    def _submit(self, op: Callable[[], Any], then: Callable[[Any], None] | None = None) -> Future[Any]:
        def run() -> Any:
            try:
                result = op()
            except LuminaError as exc:
                self.failed.emit(str(exc))
                return None
            except Exception as exc:  # unexpected: logged with traceback, shown as one line
                log.exception("library action failed")
                self.failed.emit(f"Unexpected error: {exc}")
                return None
            if then is not None:
                then(result)
            return result

        try:
            return self.io.submit(run)
        except RuntimeError:  # the pool is shut down: the app is quitting
            log.debug("library action dropped: quitting")
            dropped: Future[Any] = Future()
            dropped.cancel()
            return dropped

    def _reload(self, catalog_id: int | None = None) -> None:
        state = read_library_state(self.db, catalog_id if catalog_id is not None else self.catalog_id)
        self.catalog_id = state.current.id if state.current else None
        self.state_loaded.emit(state)

    # -- actions (called on the GUI thread; they only submit)
    def load(self, catalog_id: int | None = None) -> Future[Any]:
        return self._submit(lambda: self._reload(catalog_id))

    def create_catalog(self, name: str) -> Future[Any]:
        from lumina_desktop.db import catalogs

        def op() -> int:
            with self.db.connection() as conn:
                return catalogs.create_catalog(conn, name).id

        return self._submit(op, lambda cid: self._reload(cid))

    def rename_catalog(self, catalog_id: int, name: str) -> Future[Any]:
        from lumina_desktop.db import catalogs

        def op() -> None:
            with self.db.connection() as conn:
                catalogs.rename_catalog(conn, catalog_id, name)

        return self._submit(op, lambda _: self._reload(catalog_id))

    def delete_catalog(self, catalog_id: int) -> Future[Any]:
        """Forgets the catalog; photo files are never touched."""
        from lumina_desktop.db import catalogs

        def op() -> None:
            with self.db.connection() as conn:
                catalogs.delete_catalog(conn, catalog_id)
            self.catalog_id = None

        return self._submit(op, lambda _: self._reload(None))

    def add_folders(self, paths: Sequence[str]) -> Future[Any]:
        """Add folders (validated on the worker) and ask for their scan."""
        from lumina_desktop.db import catalogs

        catalog_id = self.catalog_id

        def op() -> tuple[tuple[int, str], ...]:
            if catalog_id is None:
                raise LuminaError("no catalog is open")
            with self.db.connection() as conn:
                added = [catalogs.add_folder(conn, catalog_id, p) for p in paths]
            return tuple((f.id, f.path) for f in added)

        def then(folders: tuple[tuple[int, str], ...]) -> None:
            self._reload(catalog_id)
            self.scan_requested.emit(catalog_id, folders)

        return self._submit(op, then)

    def remove_folder(self, folder_id: int, path: str) -> Future[Any]:
        from lumina_desktop.db import catalogs

        catalog_id = self.catalog_id

        def op() -> None:
            with self.db.connection() as conn:
                catalogs.remove_folder(conn, catalog_id, path)  # type: ignore[arg-type]

        return self._submit(op, lambda _: self._reload(catalog_id))

    def rescan(self, folder_ids: Sequence[int]) -> Future[Any]:
        from lumina_desktop.db import catalogs

        catalog_id = self.catalog_id

        def op() -> tuple[tuple[int, str], ...]:
            with self.db.connection() as conn:
                folders = catalogs.list_folders(conn, catalog_id)  # type: ignore[arg-type]
            chosen = [f for f in folders if not folder_ids or f.id in folder_ids]
            if not chosen:
                raise LuminaError("there is no folder to rescan; add one first")
            return tuple((f.id, f.path) for f in chosen)

        return self._submit(op, lambda folders: self.scan_requested.emit(catalog_id, folders))
