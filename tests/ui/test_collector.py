"""The idle collector: CPython's full garbage collections run when the user is idle, not mid-scroll."""
from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from lumina_desktop.ui import collector as coll
from lumina_desktop.ui.collector import IdleCollector


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.active = 0.0

    def __call__(self) -> float:
        return self.now

    def act(self) -> None:
        self.active = self.now


def test_a_full_pass_waits_for_the_user_to_be_idle_and_never_longer_than_the_cap(qtbot) -> None:  # type: ignore[no-untyped-def]
    clock, passes = Clock(), []
    c = IdleCollector(clock=clock, activity=lambda: clock.active, collect=passes.append, promoted=lambda: 1,
                      idle_s=1.0, min_interval_s=10.0, max_interval_s=60.0)
    clock.now += 5
    assert not c.check() and passes == []           # too soon after the last one (here: the start)
    clock.now += 6
    clock.act()                                     # the user is scrolling
    assert not c.check()
    clock.now += 0.5
    clock.act()
    clock.now += 0.9
    assert not c.check()                            # 0.9 s since the last scroll
    clock.now += 0.2
    assert c.check() and passes == [2]              # idle 1.1 s: the full (oldest-generation) pass
    assert not c.check()                            # and not again for min_interval_s
    for _ in range(130):                            # a scroll that never stops (65 s) ...
        clock.now += 0.5
        clock.act()
        c.check()
    assert passes == [2, 2] and c.full_passes == 2  # ... still gets one, once max_interval_s is up


def test_no_full_pass_when_nothing_reached_the_oldest_generation(qtbot) -> None:  # type: ignore[no-untyped-def]
    clock, passes, promoted = Clock(), [], [0]
    c = IdleCollector(clock=clock, activity=lambda: clock.active, collect=passes.append,
                      promoted=lambda: promoted[0], idle_s=1.0, min_interval_s=10.0, max_interval_s=60.0)
    clock.now += 100                                # idle, and long overdue ...
    assert not c.check() and passes == []           # ... but an idle window made nothing old
    promoted[0] = 3
    assert c.check() and passes == [2]


@pytest.mark.skipif(not IdleCollector.is_supported, reason="Python 3.14 collects the old generation incrementally")
def test_install_freezes_the_start_and_takes_the_oldest_generation_over_until_uninstalled(qtbot) -> None:  # type: ignore[no-untyped-def]
    before = gc.get_threshold()
    c = IdleCollector(check_ms=10, idle_s=0.0, min_interval_s=0.05, max_interval_s=1.0)
    try:
        c.install()
        assert c.is_installed and gc.get_freeze_count() > 0
        assert gc.get_threshold() == (before[0], before[1], coll.NO_AUTOMATIC_FULL_PASS)
        junk = []
        for _ in range(2000):                       # young passes that promote objects
            cycle: list[object] = []
            cycle.append(cycle)
            junk.append(cycle)
            gc.collect(1)
        del junk
        qtbot.waitUntil(lambda: c.full_passes >= 1, timeout=3000)   # its timer runs the full passes
    finally:
        c.uninstall()
    assert not c.is_installed and gc.get_threshold() == before and gc.get_freeze_count() == 0


@pytest.fixture
def quiet() -> Iterator[None]:
    coll._last_activity = 0.0
    yield
    coll._last_activity = 0.0


def test_scrolling_the_grid_counts_as_activity(qtbot, quiet) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.ui.widgets.photo_grid_view import PhotoGridView

    view = PhotoGridView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.verticalScrollBar().setRange(0, 1000)
    assert coll.last_activity() == 0.0
    view.verticalScrollBar().setValue(500)
    assert coll.last_activity() > 0.0


def test_the_window_shortens_the_gil_switch_interval_and_says_what_it_was() -> None:
    import sys

    from lumina_desktop.ui.gil import SWITCH_INTERVAL_S, shorten_switch_interval

    before = sys.getswitchinterval()
    try:
        assert shorten_switch_interval() == pytest.approx(before)
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S) and SWITCH_INTERVAL_S < before
    finally:
        sys.setswitchinterval(before)
