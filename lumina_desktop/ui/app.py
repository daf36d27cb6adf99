"""Composition root (GUI thread): QApplication, settings, service start-up off the GUI thread, window.

The window appears at once; the services (embedded server start, migrations, job engine) are
built on a worker thread and arrive as a signal.  The window hands each widget the service
protocol it needs; no widget sees the database.  Nothing here is created at import time.
"""
from __future__ import annotations

import argparse
import logging
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from lumina_desktop import APP_ID, APP_NAME, __version__
from lumina_desktop.config import Settings, load_settings
from lumina_desktop.core.errors import LuminaError
from lumina_desktop.jobs.engine.registry import KindRegistry
from lumina_desktop.services.app import AppServices, open_services, services_on

if TYPE_CHECKING:
    from lumina_desktop.ui.windows.main_window import MainWindow

log = logging.getLogger(__name__)


class StartupBridge(QObject):
    """Carries the result of starting the services from the worker to the GUI thread."""

    database_opened = Signal(object)   # AppServices
    database_failed = Signal(str)


class AppContext:
    """The object graph of one running app; passed down, never global."""

    def __init__(self, settings: Settings, registry: KindRegistry | None = None) -> None:
        from lumina_desktop.jobs.kinds import BUILTIN_KINDS

        self.settings = settings
        self.registry = registry or BUILTIN_KINDS
        self.services: AppServices | None = None
        self.io = ThreadPoolExecutor(max_workers=settings.interactive_workers, thread_name_prefix="lumina-ui-io")
        # reads over a whole catalog the window can wait for (the filter choices): never ahead of
        # a page of the grid on ``io``
        self.slow_io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lumina-ui-slow")

    def adopt(self, services: AppServices) -> None:
        self.services = services

    def stop_jobs(self, *, cancel: bool, timeout_s: float = 5.0) -> bool:
        """Stop the job engine (blocking; call off the GUI thread).  True if it ended in time."""
        return self.services.stop_engine(cancel=cancel, timeout_s=timeout_s) if self.services is not None else True

    def shutdown(self) -> None:
        self.stop_jobs(cancel=True)
        self.io.shutdown(wait=True, cancel_futures=True)
        self.slow_io.shutdown(wait=True, cancel_futures=True)
        if self.services is not None:
            self.services.close()
            self.services = None


def connect_services(ctx: AppContext, db: object, *, pickup: bool = True) -> AppServices:
    """The window's services on a database opened elsewhere (benchmarks and tests share one)."""
    services = services_on(ctx.settings, db, ctx.registry)
    services.start_engine(pickup=pickup)
    return services


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="lumina-desktop")
    p.add_argument("--data-dir")
    p.add_argument("--database-url")
    p.add_argument("-v", "--verbose", action="count", default=0)
    args, _unknown = p.parse_known_args(list(argv))
    return args


def create_application(argv: Sequence[str] = ()) -> QApplication:
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "lumina-desktop", *argv])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("Lumina")
    app.setOrganizationDomain("lumina-desktop.github.io")
    QGuiApplication.setDesktopFileName(APP_ID)
    from lumina_desktop.ui.icons import app_icon

    icon = app_icon()
    if not icon.isNull():
        app.setWindowIcon(icon)
    return app


def start_database(ctx: AppContext, bridge: StartupBridge) -> Future[AppServices]:
    """Open the database and start the job engine on a worker thread; the outcome arrives
    through ``bridge.database_opened(AppServices)`` or ``bridge.database_failed(message)``."""

    def work() -> AppServices:
        services = open_services(ctx.settings, registry=ctx.registry)
        try:
            services.start_engine(pickup=True)   # the window runs queued jobs too (follow-ons of a CLI scan)
            return services
        except BaseException:
            services.close()
            raise

    def done(fut: Future[AppServices]) -> None:
        # A failure reaches the window (which shows it in place of the catalog) and the log,
        # so a window started from a menu or a bundle never opens on nothing without a trace.
        exc = fut.exception()
        if exc is None:
            bridge.database_opened.emit(fut.result())
        elif isinstance(exc, LuminaError):
            log.error("the catalog database could not be opened: %s", exc)
            bridge.database_failed.emit(str(exc))
        else:
            log.error("database start-up failed", exc_info=exc)
            where = ctx.settings.data_dir / "logs" / "lumina.log"
            bridge.database_failed.emit(f"unexpected error ({type(exc).__name__}): {exc}\n\nDetails are in {where}")

    log.info("opening the catalog database (%s)",
             "external server" if ctx.settings.database_url else f"embedded server, data folder {ctx.settings.data_dir}")

    fut = ctx.io.submit(work)
    fut.add_done_callback(done)
    return fut


def _quit_on_signals(window: MainWindow) -> None:
    """SIGINT/SIGTERM quit cleanly: running jobs are left resumable and the server is stopped.

    Python runs signal handlers only between bytecodes, so a light timer gives it the chance
    while Qt's event loop runs.
    """
    import signal

    from PySide6.QtCore import QTimer

    def handler(signum: int, _frame: object) -> None:
        log.info("signal %d: quitting", signum)
        QTimer.singleShot(0, lambda: window.quit_now(cancel_jobs=False))

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    tick = QTimer(window)
    tick.setInterval(250)
    tick.timeout.connect(lambda: None)
    tick.start()


def run(argv: Sequence[str]) -> int:
    """Open the main window; returns the exit code."""
    from lumina_desktop.log import setup_logging
    from lumina_desktop.ui.collector import install_idle_collector
    from lumina_desktop.ui.gil import shorten_switch_interval
    from lumina_desktop.ui.theme import apply_theme
    from lumina_desktop.ui.windows.main_window import MainWindow

    args = _parse(argv)
    app = create_application()
    shorten_switch_interval()   # (the workers' many short C calls get the GIL back sooner)
    try:
        settings = load_settings({"data_dir": args.data_dir, "database_url": args.database_url})
    except LuminaError as exc:
        print(f"lumina-desktop: error: {exc}", file=sys.stderr)
        QMessageBox.critical(None, APP_NAME, str(exc))
        return 1
    apply_theme(app, settings.theme)   # before the first window: no flash of the other colours
    setup_logging(verbose=args.verbose, log_dir=settings.data_dir / "logs")
    # an exception in a slot reaches the app's log, not only stderr
    sys.excepthook = lambda kind, exc, tb: log.error("unhandled exception", exc_info=(kind, exc, tb))
    ctx = AppContext(settings)
    bridge = StartupBridge()
    window = MainWindow(ctx)
    bridge.database_opened.connect(window.on_database_opened)
    bridge.database_failed.connect(window.on_database_failed)
    window.show()
    install_idle_collector(app)   # (after the window is built: what exists now is frozen)
    start_database(ctx, bridge)
    _quit_on_signals(window)
    code = app.exec()
    ctx.shutdown()
    return code if window.exit_code is None else window.exit_code
