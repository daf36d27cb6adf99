"""An incremental bursts run reads only the frames near the changed photos, and finds the very
runs a read of the whole catalog finds for them."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from lumina_desktop.db.bursts import FrameRow
from lumina_desktop.jobs.kinds.bursts import runs, runs_around

T0 = datetime(2023, 6, 1, 9, 0, 0)


def library(seed: int) -> list[FrameRow]:
    """Frames of three cameras: lone shots and bursts (0.3-1.9 s apart, some whole-second clocks,
    some with a burst id), sessions minutes to hours apart; and two frames far apart in time that
    share a burst id (a camera's burst id joins them whatever their times)."""
    rng = np.random.default_rng(seed)
    frames: list[FrameRow] = []
    t = T0
    while len(frames) < 3000:
        t += timedelta(seconds=float(rng.choice([45.0, 600.0, 7200.0])))
        cam = int(rng.integers(0, 3))
        uuid = f"u{len(frames)}" if rng.random() < 0.1 else None
        for _ in range(int(rng.integers(1, 8))):
            t += timedelta(seconds=float(rng.choice([0.3, 0.9, 1.0, 1.9, 2.6])))
            when = t.replace(microsecond=0) if cam == 2 else t          # camera 2 records whole seconds
            frames.append(FrameRow(len(frames) + 1, ["Canon", "NIKON", "Apple"][cam], ["R5", "Z6", "iPhone"][cam],
                                   None, when, uuid))
    far = [frames[100], frames[2900]]
    for f in far:
        frames[f.id - 1] = FrameRow(f.id, f.make, f.model, f.serial, f.time, "shared-far")
    return sorted(frames, key=lambda f: (f.time, f.id))


def test_runs_around_the_changed_photos_equal_the_runs_of_the_whole_catalog() -> None:
    for seed in range(6):
        frames = library(seed)
        by_id = {f.id: f for f in frames}
        read: list[int] = []

        def between(windows: Sequence[tuple[datetime, datetime]]) -> list[FrameRow]:
            out = [f for f in frames if any(lo <= f.time <= hi for lo, hi in windows)]
            read.extend(f.id for f in out)
            return out

        def with_ids(uuids: Sequence[str]) -> list[FrameRow]:
            return [f for f in frames if f.burst_uuid in set(uuids)]

        for gap in (1.0, 2.0):
            everything = runs(frames, gap)
            rng = np.random.default_rng(seed + 100)
            changed = sorted({*rng.choice([f.id for f in frames], 25, replace=False).tolist(), 101})
            want = sorted(sorted(r) for r in everything if set(r) & set(changed))
            read.clear()
            got = runs_around([by_id[i] for i in changed], gap, between, with_ids)
            assert sorted(sorted(r) for r in got) == want, (seed, gap)
            assert len(set(read)) < len(frames) // 2        # only frames near the changed ones were read
    assert runs_around([], 1.0, between, with_ids) == []
