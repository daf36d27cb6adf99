"""Burst grouping and best-pick ranking (analysis.bursts) on synthetic frames.

Qt-free.  Pictures are 64×64 grey images built from seeded smooth random fields: frames of one
scene differ by a small shift and sensor noise; other scenes are other fields, or blends of the
scene with another field for a weaker change.  Each fixture checks that its change measures
fall where the test needs them, so a test fails for the rule it names, not for its picture.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
import pytest
from PIL import Image

from lumina_desktop.analysis.bursts import (
    CLEAR, LONG_BURST, NORMAL, STRONG, Frame, FrameQuality, Thresholds, affected_window,
    camera_key, extend_window, group_frames, look_measures, pick_summary, rank_burst)

T0 = datetime(2024, 6, 1, 10, 0, 0)
CAM = "canon|eos r5|123"


def _field(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(12, 12)).astype(np.float32)
    a = np.asarray(Image.fromarray(base, mode="F").resize((96, 96), Image.Resampling.BICUBIC))
    return (a - a.mean()) / a.std()


def grey(scene: int, *, shot: int = 0, mix: int | None = None, alpha: float = 0.0,
         mean: float = 110.0) -> bytes:
    """Scene ``scene`` (optionally blended with scene ``mix``), shot ``shot`` of a burst."""
    f = _field(scene)
    if mix is not None:
        f = (1 - alpha) * f + alpha * _field(mix)
        f = (f - f.mean()) / f.std()
    dx, dy = (shot % 5) - 2, (shot % 3) - 1       # a little camera shake
    crop = f[16 + dy:80 + dy, 16 + dx:80 + dx]
    noise = np.random.default_rng(1000 + shot).normal(0, 3, crop.shape)
    return np.clip(mean + 40 * crop + noise, 0, 255).astype(np.uint8).tobytes()


def _fails(m: Thresholds, level: Thresholds) -> bool:
    return all(x < t for x, t in zip(m, level))


# A: the scene; CUT: an unrelated scene; WEAK: a change below NORMAL but above CLEAR;
# MODERATE: continuous at NORMAL but not STRONG.
CUT = {"scene": 5, "mean": 170.0}
WEAK = {"scene": 1, "mix": 7, "alpha": 0.9, "mean": 150.0}
MODERATE = {"scene": 1, "mix": 7, "alpha": 0.6, "mean": 130.0}


def test_fixture_measures_are_where_the_tests_need_them() -> None:
    for i in range(12):
        a = grey(1, shot=i)
        for j in range(12):
            if j != i:
                assert not _fails(look_measures(a, grey(1, shot=j)), STRONG)
            assert _fails(look_measures(a, grey(shot=j, **CUT)), CLEAR)  # type: ignore[arg-type]
            weak = look_measures(a, grey(shot=j, **WEAK))  # type: ignore[arg-type]
            assert _fails(weak, NORMAL) and not _fails(weak, CLEAR)
            moderate = look_measures(a, grey(shot=j, **MODERATE))  # type: ignore[arg-type]
            assert _fails(moderate, STRONG) and not _fails(moderate, NORMAL)


def run(scenes: list[dict[str, object]], *, start_id: int = 1, step_s: float = 0.1,
        camera: str | None = CAM, t0: datetime = T0, has_subsec: bool = True) -> list[Frame]:
    """One frame per entry, ``step_s`` apart."""
    out = []
    for n, spec in enumerate(scenes):
        t = t0 + timedelta(seconds=n * step_s)
        if not has_subsec:
            t = t.replace(microsecond=0)
        out.append(Frame(start_id + n, camera, t, has_subsec,
                         grey=grey(shot=n, **spec)))  # type: ignore[arg-type]
    return out


A = {"scene": 1}


# --- grouping ------------------------------------------------------------------------------------

def test_time_gap_groups_and_splits() -> None:
    frames = run([A] * 3) + run([A] * 2, start_id=10, t0=T0 + timedelta(seconds=5))
    assert group_frames(frames) == [(1, 2, 3), (10, 11)]
    assert group_frames(frames, gap_s=10.0) == [(1, 2, 3, 10, 11)]


def test_scene_change_within_the_gap_splits() -> None:
    frames = run([A] * 4 + [CUT] * 4)
    assert group_frames(frames) == [(1, 2, 3, 4), (5, 6, 7, 8)]


def test_without_grey_the_same_frames_join_on_time() -> None:
    frames = [Frame(f.photo_id, f.camera, f.time, True) for f in run([A] * 4 + [CUT] * 4)]
    assert group_frames(frames) == [(1, 2, 3, 4, 5, 6, 7, 8)]


def test_a_single_odd_frame_does_not_split() -> None:
    # someone crosses the lens for one frame: the next frame matches the one before it again
    frames = run([A] * 4 + [CUT] + [A] * 4)
    assert group_frames(frames) == [tuple(range(1, 10))]


def test_two_cameras_interleaved_in_time_never_merge() -> None:
    a = run([A] * 5, start_id=1, step_s=0.2)
    b = run([A] * 5, start_id=100, step_s=0.2, camera="nikon|d750|9",
            t0=T0 + timedelta(seconds=0.1))
    assert group_frames(a + b) == [(1, 2, 3, 4, 5), (100, 101, 102, 103, 104)]


def test_whole_second_camera_groups_consecutive_seconds_when_continuous() -> None:
    frames = run([A] * 6, step_s=0.45, has_subsec=False)     # 10:00:00, :00, :00, :01, :01, :02
    assert {f.time.second for f in frames if f.time} == {0, 1, 2}
    assert group_frames(frames) == [(1, 2, 3, 4, 5, 6)]
    # recorded 2 s apart (up to 3 s real): joins only because the pictures continue
    apart = run([A] * 2, step_s=2.0, has_subsec=False)
    assert group_frames(apart) == [(1, 2)]
    assert group_frames(run([A, CUT], step_s=2.0, has_subsec=False)) == []
    assert group_frames(run([A] * 2, step_s=3.0, has_subsec=False)) == []


def test_whole_second_camera_needs_strong_continuity() -> None:
    # the same moderate change is continuous for a sub-second camera, a cut for a whole-second one
    scenes = [A] * 3 + [MODERATE] * 3
    assert group_frames(run(scenes, step_s=0.3)) == [(1, 2, 3, 4, 5, 6)]
    assert group_frames(run(scenes, step_s=0.3, has_subsec=False)) == [(1, 2, 3), (4, 5, 6)]


def test_whole_second_camera_without_grey_joins_only_within_the_gap() -> None:
    def bare(seconds: list[int]) -> list[Frame]:
        return [Frame(i + 1, CAM, T0 + timedelta(seconds=s), False) for i, s in enumerate(seconds)]

    assert group_frames(bare([0, 0, 1])) == [(1, 2, 3)]
    assert group_frames(bare([0, 2])) == []


def test_whole_second_camera_without_grey_uses_a_matching_phash() -> None:
    same, other = bytes(32), bytes([0xFF] * 16 + [0] * 16)
    frames = [Frame(1, CAM, T0, False, phash=same),
              Frame(2, CAM, T0 + timedelta(seconds=2), False, phash=same),
              Frame(3, CAM, T0 + timedelta(seconds=4), False, phash=other)]
    assert group_frames(frames) == [(1, 2)]


def test_burst_uuid_groups_across_a_long_gap() -> None:
    frames = [Frame(1, CAM, T0, True, burst_uuid="U1", grey=grey(1)),
              Frame(2, CAM, T0 + timedelta(seconds=40), True, burst_uuid="U1", grey=grey(**CUT)),
              Frame(3, None, None, False, burst_uuid="U1"),
              Frame(4, CAM, T0 + timedelta(seconds=20), True),
              Frame(5, CAM, T0 + timedelta(seconds=80), True, burst_uuid="U2")]
    assert group_frames(frames) == [(1, 2, 3)]


def test_burst_uuid_groups_are_not_merged_with_a_cut_next_to_them() -> None:
    uuid = [Frame(f.photo_id, f.camera, f.time, True, "U1", f.grey) for f in run([A] * 3)]
    after = run([CUT] * 3, start_id=10, t0=T0 + timedelta(seconds=0.3))
    assert group_frames(uuid + after) == [(1, 2, 3), (10, 11, 12)]


def test_long_run_with_one_weak_step_stays_whole() -> None:
    assert LONG_BURST <= 30
    long_run = run([A] * 15 + [WEAK] * 15)
    assert group_frames(long_run) == [tuple(range(1, 31))]
    # the same step in a short run is a cut, and a clear cut splits even a long run
    assert group_frames(run([A] * 5 + [WEAK] * 5)) == [(1, 2, 3, 4, 5), (6, 7, 8, 9, 10)]
    assert group_frames(run([A] * 15 + [CUT] * 15)) == [tuple(range(1, 16)),
                                                        tuple(range(16, 31))]


def test_single_frames_are_not_bursts() -> None:
    frames = [Frame(i, CAM, T0 + timedelta(seconds=10 * i), True, grey=grey(1, shot=i))
              for i in range(1, 6)]
    assert group_frames(frames) == []
    assert group_frames([]) == []


def test_unknown_camera_or_time_is_never_grouped_by_time() -> None:
    no_camera = [Frame(i, None, T0 + timedelta(seconds=0.1 * i), True) for i in range(1, 5)]
    no_time = [Frame(i, CAM, None, False) for i in range(10, 14)]
    assert group_frames(no_camera + no_time) == []
    by_uuid = [Frame(i, None, None, False, burst_uuid="U") for i in (20, 21)]
    assert group_frames(no_camera + no_time + by_uuid) == [(20, 21)]


def test_grouping_is_deterministic_and_order_free() -> None:
    frames = run([A] * 4 + [CUT] * 4) + run([A] * 3, start_id=50, camera="x|y|",
                                              t0=T0 + timedelta(seconds=0.05))
    expected = group_frames(frames)
    rng = random.Random(3)
    for _ in range(5):
        shuffled = frames[:]
        rng.shuffle(shuffled)
        assert group_frames(shuffled) == expected
    assert expected == [(1, 2, 3, 4), (50, 51, 52), (5, 6, 7, 8)]


def test_repeated_photo_id_is_an_error() -> None:
    f = Frame(1, CAM, T0, True)
    with pytest.raises(ValueError):
        group_frames([f, f])


def test_frame_rejects_wrong_sizes() -> None:
    with pytest.raises(ValueError):
        Frame(1, CAM, T0, True, grey=b"\0" * 100)
    with pytest.raises(ValueError):
        Frame(1, CAM, T0, True, phash=b"\0" * 8)


def test_camera_key_normalises() -> None:
    assert camera_key(" Canon ", "Canon  EOS R5\x00", None) == "canon|canon eos r5|"
    assert camera_key("Canon", "EOS R5", "0123") != camera_key("Canon", "EOS R5", "0456")
    assert camera_key(None, "  ", "") is None


def test_regrouping_an_affected_window_matches_a_full_regroup() -> None:
    rng = random.Random(11)
    frames: list[Frame] = []
    new: list[Frame] = []
    t = T0
    for block in range(30):
        for n in range(rng.choice((1, 2, 5, 40))):     # 40 frames span more than the window
            t += timedelta(seconds=rng.uniform(0.1, 0.9))
            frames.append(Frame(len(frames), CAM, t, True))
            if n == 20:
                new.append(frames[-1])                   # a frame deep inside a long run
        if block % 7 == 3:                               # a frame that bridges two runs
            t += timedelta(seconds=0.8)
            frames.append(Frame(len(frames), CAM, t, True))
            new.append(frames[-1])
            t += timedelta(seconds=0.8)
        else:
            t += timedelta(seconds=rng.uniform(2.5, 30))
    full = set(group_frames(frames))
    old = set(group_frames(f for f in frames if f not in new))
    regrouped: set[tuple[int, ...]] = set()
    touched: set[int] = set()
    for camera, ranges in affected_window(new).items():
        for start, end in ranges:
            while True:
                loaded = [f for f in frames if f.camera == camera and f.time
                          and start <= f.time <= end]
                wider = extend_window((start, end), loaded)
                if wider is None:
                    break
                start, end = wider
            regrouped |= set(group_frames(loaded))
            touched |= {f.photo_id for f in loaded}
    kept = {g for g in old if not set(g) & touched}
    assert kept | regrouped == full
    assert len(old - full) >= 4            # the new frames did change bursts


# --- ranking -------------------------------------------------------------------------------------

def q(pid: int, sharp: float, exposure: float = 80.0, noise: float = 80.0,
      motion_blur: float = 0.1, reasons: tuple[str, ...] = ()) -> FrameQuality:
    return FrameQuality(photo_id=pid, subject_sharpness=sharp, sharpness=sharp,
                        motion_blur=motion_blur, exposure=exposure, noise=noise,
                        overall=(exposure + noise) / 2, reasons=reasons)


def best(ranked: list) -> int:
    return next(r.photo_id for r in ranked if r.is_best)


def test_sharpest_wins() -> None:
    frames = [q(1, 0.50), q(2, 0.90), q(3, 0.70)]
    ranked = rank_burst(frames)
    assert best(ranked) == 2
    assert [r.rank for r in ranked] == [3, 1, 2]
    assert ranked[1].reasons == ("sharpest",)
    assert ranked[0].reasons[0] == "soft"
    assert ranked[0].relative_sharpness == pytest.approx(0.5 / 0.9, abs=1e-3)


def test_equally_sharp_bracket_picks_the_better_exposure() -> None:
    # within the tolerance the darker frame measures a little sharper; exposure decides
    frames = [q(1, 0.95, exposure=40, reasons=("underexposed",)), q(2, 0.90, exposure=85),
              q(3, 0.93, exposure=45, reasons=("overexposed",))]
    ranked = rank_burst(frames)
    assert best(ranked) == 2
    assert ranked[1].reasons == ("best_exposed",)
    assert ranked[0].reasons == ("underexposed",)
    assert ranked[2].reasons == ("overexposed",)
    # outside the tolerance sharpness wins over exposure, unless the sharper frame is badly exposed
    assert best(rank_burst([q(1, 1.0, exposure=60), q(2, 0.7, exposure=85)])) == 1
    ranked = rank_burst([q(1, 1.0, exposure=40, reasons=("underexposed",)), q(2, 0.7, exposure=85)])
    assert best(ranked) == 2 and ranked[1].reasons == ("best_exposed",)


def test_an_exposure_bracket_picks_the_metered_frame() -> None:
    """Auto exposure bracketing (frames at different biases): the 0 EV frame is the pick, whatever
    the darker or brighter frames measure; without biases it is an ordinary burst."""
    from dataclasses import replace

    frames = [q(1, 0.6, exposure=80), q(2, 0.64, exposure=48), q(3, 0.87, exposure=96),
              q(4, 1.0, exposure=20), q(5, 0.6, exposure=97)]
    biased = [replace(f, exposure_bias=ev) for f, ev in zip(frames, (0.0, -0.7, 0.7, -1.3, 1.3))]
    ranked = rank_burst(biased)
    assert best(ranked) == 1 and ranked[0].reasons == ("metered_exposure",)
    assert sorted(r.rank for r in ranked) == [1, 2, 3, 4, 5] and ranked[1].reasons == ("bracketed",)
    assert best(rank_burst(frames)) == 3                  # no biases: sharp and well exposed wins
    same_bias = [replace(f, exposure_bias=0.0) for f in frames]
    assert best(rank_burst(same_bias)) == 3               # one bias for all: not a bracket


def test_equal_sharpness_and_exposure_picks_the_less_noisy() -> None:
    ranked = rank_burst([q(1, 0.95, noise=40), q(2, 0.92, noise=90), q(3, 0.90, noise=60)])
    assert best(ranked) == 2
    assert ranked[1].reasons == ("least_noise",)
    assert "noisier" in ranked[0].reasons


def test_ranks_are_a_permutation_with_one_best_and_deterministic() -> None:
    rng = random.Random(5)
    frames = [q(i, rng.uniform(0.2, 1.0), rng.uniform(0, 100), rng.uniform(0, 100))
              for i in range(1, 13)] + [q(20, 0.8), q(21, 0.8)]   # an exact tie
    ranked = rank_burst(frames)
    assert [r.photo_id for r in ranked] == [f.photo_id for f in frames]
    assert sorted(r.rank for r in ranked) == list(range(1, len(frames) + 1))
    assert sum(r.is_best for r in ranked) == 1
    assert next(r for r in ranked if r.is_best).rank == 1
    shuffled = frames[:]
    rng.shuffle(shuffled)
    again = {r.photo_id: r for r in rank_burst(shuffled)}
    assert all(again[r.photo_id] == r for r in ranked)
    assert rank_burst([]) == []
    assert rank_burst([q(1, 0.5)])[0].reasons == ("only_frame",)


def test_pick_summary_counts_what_the_wording_needs() -> None:
    frames = [q(1, 1.0, motion_blur=0.05), q(2, 0.5, motion_blur=0.8), q(3, 0.6, motion_blur=0.7),
              q(4, 0.55, motion_blur=0.9), q(5, 0.4, motion_blur=0.6), q(6, 0.95, exposure=30),
              q(7, 0.3, motion_blur=0.1)]
    ranked = rank_burst(frames)
    summary = pick_summary(ranked, frames)
    assert summary["size"] == 7
    assert summary["best_id"] == 1
    assert summary["best_reason"] == "sharpest"
    assert summary["motion_blurred_others"] == 4
    assert summary["soft_others"] == 5
    assert summary["worse_exposed_others"] == 1
    assert summary["runner_up_sharpness"] == pytest.approx(0.95)
    with pytest.raises(ValueError):
        pick_summary(ranked, frames[:3])
