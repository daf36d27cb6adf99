"""LibraryController: catalog and folder actions run on the interactive lane; results come back as signals.

The GUI calls methods (which only submit work to the :class:`Library` service on ``io``); the
outcome reaches widgets through this object's signals, carrying immutable values.  A user
mistake (a folder that does not exist, a duplicate name) arrives as ``failed(message)``.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject, Signal

from lumina_desktop.core.errors import LuminaError
from lumina_desktop.services.library import Library

log = logging.getLogger(__name__)


class LibraryController(QObject):
    state_loaded = Signal(object)   # LibraryState
    failed = Signal(str)
    scan_started = Signal(object)   # ScanStarted: folders handed to a new scan job

    def __init__(self, library: Library, io: ThreadPoolExecutor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.io = io
        self.catalog_id: int | None = None
        self.loads = 0     # state reads started (tests, benchmarks)
        self.last_load_s = 0.0   # how long the last state read took (set on the worker; a float)

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
        self.loads += 1
        t = time.perf_counter()
        state = self.library.state(catalog_id if catalog_id is not None else self.catalog_id)
        self.last_load_s = time.perf_counter() - t
        self.catalog_id = state.current.id if state.current else None
        self.state_loaded.emit(state)

    # -- actions (called on the GUI thread; they only submit)
    def load(self, catalog_id: int | None = None) -> Future[Any]:
        return self._submit(lambda: self._reload(catalog_id))

    def create_catalog(self, name: str) -> Future[Any]:
        return self._submit(lambda: self.library.create_catalog(name).id, lambda cid: self._reload(cid))

    def rename_catalog(self, catalog_id: int, name: str) -> Future[Any]:
        return self._submit(lambda: self.library.rename_catalog(catalog_id, name), lambda _: self._reload(catalog_id))

    def delete_catalog(self, catalog_id: int) -> Future[Any]:
        """Forgets the catalog; photo files are never touched."""

        def op() -> None:
            self.library.delete_catalog(catalog_id)
            self.catalog_id = None

        return self._submit(op, lambda _: self._reload(None))

    def add_folders(self, paths: Sequence[str]) -> Future[Any]:
        """Add folders (checked on the worker) and start their scan: one use case of the service."""
        catalog_id = self.catalog_id

        def op() -> Any:
            if catalog_id is None:
                raise LuminaError("no catalog is open")
            return self.library.add_folders_and_scan(catalog_id, list(paths))

        def then(started: Any) -> None:
            self.scan_started.emit(started)
            self._reload(catalog_id)

        return self._submit(op, then)

    def remove_folder(self, folder_id: int, path: str) -> Future[Any]:
        catalog_id = self.catalog_id

        def op() -> int:
            if catalog_id is None:
                raise LuminaError("no catalog is open")
            return self.library.remove_folder(catalog_id, path)

        return self._submit(op, lambda _: self._reload(catalog_id))

    def rescan(self, folder_ids: Sequence[int]) -> Future[Any]:
        catalog_id = self.catalog_id

        def op() -> Any:
            if catalog_id is None:
                raise LuminaError("no catalog is open")
            return self.library.rescan(catalog_id, tuple(folder_ids))

        return self._submit(op, self.scan_started.emit)
