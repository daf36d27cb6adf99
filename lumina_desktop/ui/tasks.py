"""One-off reads off the GUI thread: ``run_query(executor, op, on_done, on_error)``.

Called on the GUI thread.  ``op`` runs on ``executor`` (the interactive lane); its result or
exception comes back to the GUI thread through a queued signal of a small dispatcher QObject
that lives as long as the application (created on first use, parented to the
QCoreApplication, never at import time).  Workers touch nothing but that signal, so a widget
destroyed while its query runs is never called: delivery is skipped when the ``owner`` (or the
QObject a bound-method callback belongs to) is gone.

Results must be immutable values (frozen dataclasses, tuples, ints, strs, bytes, deep-copied
QImages); callers check their own ``generation`` to drop stale results.

``run_op(executor, op, on_done, what=…)`` is the same for actions and reads whose failure the
user must hear about: a failure goes to the one error reporter the window installs
(:func:`set_error_reporter`) as "what: reason", and to the log with its traceback.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal

log = logging.getLogger(__name__)
T = TypeVar("T")


class _TaskDispatcher(QObject):
    """Receives ``(deliver, value)`` pairs from workers and runs ``deliver(value)`` on the GUI thread."""

    delivered = Signal(object)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.report: Callable[[str], None] | None = None
        self.setObjectName("lumina-task-dispatcher")
        self.delivered.connect(self._on_self_delivered, Qt.ConnectionType.QueuedConnection)

    def _on_self_delivered(self, packet: tuple[Callable[[Any], None], Any]) -> None:
        deliver, value = packet
        deliver(value)


_dispatcher: _TaskDispatcher | None = None


def _get_dispatcher() -> _TaskDispatcher:
    global _dispatcher
    if _dispatcher is None or not shiboken6.isValid(_dispatcher):
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("run_query needs a QApplication")
        _dispatcher = _TaskDispatcher(app)
    return _dispatcher


def set_error_reporter(report: Callable[[str], None] | None) -> None:
    """The window's one place for errors the user must see (a message box, say); None: log only."""
    _get_dispatcher().report = report


def report_error(what: str, exc: BaseException) -> None:
    """GUI thread: tell the user ``what`` failed and why (one line), and log the traceback."""
    log.error("%s", what, exc_info=exc)
    report = getattr(_get_dispatcher(), "report", None)
    if report is not None:
        report(f"{what}: {exc}" if str(exc) else f"{what} ({type(exc).__name__})")


def run_op(executor: Executor, op: Callable[[], T], on_done: Callable[[T], None] | None = None, *,
           what: str, owner: QObject | None = None) -> Future[T]:
    """:func:`run_query` whose failure is reported to the user as "``what``: reason"."""
    return run_query(executor, op, on_done if on_done is not None else (lambda _value: None),
                     lambda exc: report_error(what, exc), owner=owner or _owner_of(on_done))


def _owner_of(callback: Callable[..., Any] | None) -> QObject | None:
    target = getattr(callback, "__self__", None)
    return target if isinstance(target, QObject) else None


def _alive(obj: QObject | None) -> bool:
    return obj is None or shiboken6.isValid(obj)


def run_query(executor: Executor, op: Callable[[], T], on_done: Callable[[T], None],
              on_error: Callable[[BaseException], None] | None = None, *,
              owner: QObject | None = None) -> Future[T]:
    """Run ``op()`` on ``executor``; call ``on_done(result)`` or ``on_error(exc)`` on the GUI thread.

    Must be called on the GUI thread.  Nothing is called if ``owner`` — or the QObject whose bound
    method ``on_done``/``on_error`` is — has been destroyed by then.  A failure without
    ``on_error`` is logged with its traceback.  Cancelled futures (executor shut down) deliver
    nothing; so does a query submitted after the executor was shut down (the app is closing).
    """
    dispatcher = _get_dispatcher()
    done_owner = owner or _owner_of(on_done)
    error_owner = owner or _owner_of(on_error)

    def deliver_result(value: T) -> None:
        if _alive(done_owner):
            on_done(value)

    def deliver_error(exc: BaseException) -> None:
        if on_error is None:
            log.error("background query failed", exc_info=exc)
        elif _alive(error_owner):
            on_error(exc)

    def finished(fut: Future[T]) -> None:  # runs on the worker thread (or here if already done)
        if fut.cancelled():
            return
        exc = fut.exception()
        packet = (deliver_result, fut.result()) if exc is None else (deliver_error, exc)
        try:
            dispatcher.delivered.emit(packet)
        except RuntimeError:  # the application is gone (shutdown); nobody is listening
            log.debug("query result dropped: dispatcher destroyed")

    try:
        future = executor.submit(op)
    except RuntimeError:  # the executor was shut down: the app is closing, nobody waits for this
        log.debug("query not started: executor shut down")
        future = Future()
        future.cancel()
        return future
    future.add_done_callback(finished)
    return future
