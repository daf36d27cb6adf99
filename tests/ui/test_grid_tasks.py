"""run_query: results reach the GUI thread as values, errors go to on_error, dead receivers are skipped."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from PySide6.QtCore import QObject, QThread

from lumina_desktop.ui.tasks import run_query

pytestmark = pytest.mark.ui


@pytest.fixture
def io_pool() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-tasks")
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[object] = []
        self.errors: list[BaseException] = []
        self.threads: list[bool] = []

    def on_done(self, value: object) -> None:
        self.threads.append(QThread.currentThread() is self.thread())
        self.got.append(value)

    def on_error(self, exc: BaseException) -> None:
        self.errors.append(exc)


def test_result_arrives_on_the_gui_thread(qtbot, io_pool) -> None:  # type: ignore[no-untyped-def]
    r = Receiver()
    worker_names: list[str] = []

    def op() -> tuple[int, ...]:
        worker_names.append(threading.current_thread().name)
        return (1, 2, 3)

    run_query(io_pool, op, r.on_done, r.on_error)
    qtbot.waitUntil(lambda: r.got == [(1, 2, 3)], timeout=5000)
    assert r.threads == [True] and worker_names[0].startswith("test-tasks") and not r.errors


def test_errors_go_to_on_error(qtbot, io_pool) -> None:  # type: ignore[no-untyped-def]
    r = Receiver()

    def op() -> int:
        raise ValueError("no such photo")

    run_query(io_pool, op, r.on_done, r.on_error)
    qtbot.waitUntil(lambda: bool(r.errors), timeout=5000)
    assert isinstance(r.errors[0], ValueError) and not r.got


def test_a_destroyed_receiver_is_not_called(qtbot, io_pool) -> None:  # type: ignore[no-untyped-def]
    gate = threading.Event()
    r = Receiver()
    calls: list[object] = []
    run_query(io_pool, lambda: gate.wait(10), r.on_done)
    owner = QObject()
    run_query(io_pool, lambda: gate.wait(10), calls.append, owner=owner)
    r.deleteLater()
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _alive(owner) and not _alive(r), timeout=5000)
    gate.set()
    probe = Receiver()
    run_query(io_pool, lambda: "after", probe.on_done)  # queued after the two results above
    qtbot.waitUntil(lambda: probe.got == ["after"], timeout=5000)
    assert calls == []


def test_a_shut_down_executor_starts_nothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    pool = ThreadPoolExecutor(max_workers=1)
    pool.shutdown()
    fut = run_query(pool, lambda: 1, lambda v: None)
    assert fut.cancelled()


def _alive(obj: QObject) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)
