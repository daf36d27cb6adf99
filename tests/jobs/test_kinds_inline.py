"""Every job kind on the in-memory engine (``jobs.engine.testing``): no PostgreSQL, no Qt.

The real coordinator, batch runner and progress tracker run on a ``MemoryJobStore`` with a
synchronous executor; the kinds get in-memory fakes of their repositories (``tests/jobs/fakes``).
"""
from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from lumina_desktop.storage.thumbnails import thumbnail_relpath
from lumina_desktop.analysis import thumbnails as thumbs
from lumina_desktop.analysis.ingest import analyse_file
from lumina_desktop.config import Settings, load_settings
from lumina_desktop.core.duplicates import DuplicateTier, PhotoFingerprint
from lumina_desktop.core.errors import LuminaError
from lumina_desktop.core.jobs import JobState
from lumina_desktop.jobs.engine.registry import KindRegistry
from lumina_desktop.jobs.engine.testing import InlineEngine
from lumina_desktop.jobs.kinds.demo import DemoKind
from lumina_desktop.jobs.kinds.duplicates import DuplicatesKind
from lumina_desktop.jobs.kinds.scan import ScanKind
from lumina_desktop.jobs.kinds.tags import TagsKind
from lumina_desktop.jobs.kinds.thumbnails import ThumbnailsKind
from lumina_desktop.jobs.kinds.bursts import BurstsKind
from lumina_desktop.jobs.kinds.quality import QualityKind
from tests.jobs.fakes import FakeDemoRepo, FakeDuplicatesRepo, FakeScanRepo, FakeThumbnailsRepo, Folder

CATALOG = 1


@pytest.fixture
def inline_settings(tmp_path: Path) -> Settings:
    return load_settings({"data_dir": str(tmp_path), "background_workers": 2, "batch_size": 5},
                         environ={}, config_dir=tmp_path)


def make_engine(settings: Settings, *, scan: Any = None, dup: Any = None, demo: Any = None,
                thumbs: Any = None) -> InlineEngine:
    scan = scan if scan is not None else FakeScanRepo([])
    registry = KindRegistry([ScanKind(repo=scan),
                             DuplicatesKind(repo=dup if dup is not None else FakeDuplicatesRepo([])),
                             ThumbnailsKind(repo=thumbs if thumbs is not None else FakeThumbnailsRepo(scan)),
                             # queued after a scan; these tests do not run them (they need the catalog)
                             QualityKind(), TagsKind(), BurstsKind(),
                             DemoKind(repo=demo if demo is not None else FakeDemoRepo())])
    return InlineEngine(registry, settings)


def make_jpeg(path: Path, seed: int, size: tuple[int, int]) -> Path:
    """A small JPEG: a random colour field scaled up, plus noise (distinct per seed)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (max(1, size[1] // 16), max(1, size[0] // 16), 3), dtype=np.uint8)
    arr = np.asarray(Image.fromarray(base).resize(size, Image.BICUBIC), dtype=np.int16)
    arr = np.clip(arr + rng.normal(0, 8, arr.shape), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, "JPEG", quality=88)
    return path


# -- demo ---------------------------------------------------------------------------------------

def test_demo_stores_every_other_item_and_records_the_failing_ones(inline_settings: Settings) -> None:
    repo = FakeDemoRepo()
    engine = make_engine(inline_settings, demo=repo)
    job = engine.run("demo", {"items": 12, "fail_items": [3, 7]})
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result == {"stored": 10, "items": 12}
    assert repo.values == {(job.id, i): str(i * i) for i in range(12) if i not in (3, 7)}
    errors = {(e.item, e.error_class, e.message) for e in engine.store.item_errors(job.id)}
    assert errors == {("3", "DemoItemError", "item 3 always fails"), ("7", "DemoItemError", "item 7 always fails")}
    assert job.item_errors == 2
    assert len([b for b in engine.store.batches.values() if b.job_id == job.id]) == 3  # batch_size 5
    kind = engine.registry.get("demo")
    assert kind.summarize(job.result) == "10 of 12 items stored"
    assert kind.summarize({"stored": 1234, "items": 2000}) == "1,234 of 2,000 items stored"


def test_demo_cancel_then_resume_stores_every_item_exactly_once(inline_settings: Settings) -> None:
    repo = FakeDemoRepo()
    engine = make_engine(inline_settings, demo=repo)
    job = engine.run("demo", {"items": 23}, cancel_after_items=7)
    assert job.state == JobState.CANCELLED
    assert repo.count(None, job.id) == 7  # what was done before the cancel is kept
    assert engine.store.stored_progress(job.id) == (7, 23)
    before = len(engine.store.published)
    job = engine.resume(job.id)
    assert job.state == JobState.SUCCEEDED, job.error
    # the resumed bar starts where the stored work got to: no drop to 0 %, no burst of "rate"
    resumed = [p for p in engine.store.published[before:] if p.phase == "process"]
    assert resumed[0].done == 7 and resumed[0].total == 23 and resumed[0].fraction > 0.3, resumed[0]
    assert job.result == {"stored": 23, "items": 23}
    assert repo.values == {(job.id, i): str(i * i) for i in range(23)}
    assert set(repo.writes.values()) == {1}, "an item was stored twice"


def test_demo_transient_store_failure_is_retried(inline_settings: Settings) -> None:
    repo = FakeDemoRepo()
    engine = make_engine(inline_settings, demo=repo)
    job = engine.run("demo", {"items": 12, "transient_fail_seqs": [1]})
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result == {"stored": 12, "items": 12}
    assert repo.writes == {(job.id, i): 1 for i in range(12)}
    attempts = {b.seq: b.attempts for b in engine.store.batches.values() if b.job_id == job.id}
    assert attempts == {0: 1, 1: 2, 2: 1}
    assert engine.store.item_errors(job.id) == []


@pytest.mark.parametrize(("params", "message"), [
    ({"items": "many"}, "'items' of a demo job must be a whole number"),
    ({"items": True}, "must be a whole number"),
    ({"nope": 1}, r"unknown parameter\(s\) for a demo job: nope"),
    ({"fail_items": 3}, "'fail_items' of a demo job must be a list"),
])
def test_demo_bad_params_are_one_clear_error(inline_settings: Settings, params: dict[str, Any],
                                             message: str) -> None:
    engine = make_engine(inline_settings)
    with pytest.raises(LuminaError, match=message):
        engine.registry.get("demo").parse_params(params)
    with pytest.raises(LuminaError, match=message):
        engine.run("demo", params)
    assert engine.store.jobs == {}, "a job with bad parameters was created"


def test_a_long_item_stops_soon_after_cancel(inline_settings: Settings) -> None:
    repo = FakeDemoRepo()
    engine = make_engine(inline_settings, demo=repo)
    params = {"items": 1, "sleep_ms": 2000, "check_ms": 50}
    job_id = engine.store.create_job("demo", None, params, owner=engine.coordinator.worker_id)
    cancelled_at: list[float] = []

    def cancel() -> None:
        cancelled_at.append(time.monotonic())
        engine.coordinator.batches.cancel(job_id)

    timer = threading.Timer(0.3, cancel)
    start = time.monotonic()
    timer.start()
    try:
        job = engine.run_job(job_id)
    finally:
        timer.cancel()
        timer.join()
    end = time.monotonic()
    assert job.state == JobState.CANCELLED
    assert cancelled_at, "the cancel never fired"
    assert end - cancelled_at[0] < 0.5, f"stopped {end - cancelled_at[0]:.2f} s after the cancel"
    assert end - start < 1.0
    assert repo.values == {}


# -- scan ---------------------------------------------------------------------------------------

@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    make_jpeg(root / "a.jpg", 1, (320, 240))
    make_jpeg(root / "b.jpg", 2, (200, 300))
    make_jpeg(root / "sub" / "c.jpg", 3, (400, 160))
    (root / "broken.jpg").write_bytes(b"")
    (root / "notes.txt").write_text("not a photo")
    return root


def test_scan_stores_files_records_the_broken_one_and_queues_duplicates(
        inline_settings: Settings, library: Path) -> None:
    repo = FakeScanRepo([Folder(7, str(library))])
    engine = make_engine(inline_settings, scan=repo)
    job = engine.run("scan", {}, catalog_id=CATALOG)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result is not None
    assert {k: job.result[k] for k in ("files", "new", "changed", "moved", "errors", "dropped", "items")} == {
        "files": 4, "new": 3, "changed": 0, "moved": 0, "errors": 1, "dropped": 0, "items": 4}
    kind = engine.registry.get("scan")
    assert kind.summarize(job.result) == "4 files: 3 new, 0 changed, 0 moved, 0 missing, 1 errors; 1 other files passed over (hidden, or not a photo or video type)"
    broken = str(library / "broken.jpg")
    errors = engine.store.item_errors(job.id)
    assert [(e.item, e.error_class) for e in errors] == [(broken, "empty_file")]
    assert "empty" in errors[0].message
    assert repo.failed == [(broken, "empty_file")] and repo.rows[broken].status == "error"
    good = {str(library / n) for n in ("a.jpg", "b.jpg", "sub/c.jpg")}
    assert {p for p, _, _ in repo.ingested} == good and {o for _, o, _ in repo.ingested} == {"new"}
    # the change feed: exactly the photos this scan wrote (the broken file's row included)
    stored_ids = {i for _, _, i in repo.ingested} | {repo.rows[broken].id}
    assert all(c[:3] == (CATALOG, job.id, "scan") for c in engine.store.changes)
    assert engine.store.changed_photos(job.id) == sorted(stored_ids)
    assert sum(len(c[3]) for c in engine.store.changes) == 4
    # with aspects: discovery's placeholders are the additions (one row naming no photo), the
    # stored photos were analysed and got thumbnails; nothing arrived without a placeholder
    from lumina_desktop.core.changes import Aspect

    feed = [(ids, aspects) for cat, j, _, ids, aspects in engine.store.feed if (cat, j) == (CATALOG, job.id)]
    assert feed[0] == ((), frozenset({Aspect.ADDED, Aspect.REMOVED, Aspect.ANALYSED, Aspect.STATUS, Aspect.FOLDERS}))
    assert {a for ids, a in feed if ids} == {frozenset({Aspect.ANALYSED, Aspect.THUMBNAIL}),
                                             frozenset({Aspect.ANALYSED, Aspect.THUMBNAIL, Aspect.STATUS})}
    assert [ids for ids, a in feed if Aspect.STATUS in a and ids] == [(repo.rows[broken].id,)]  # the unreadable one
    assert feed[-1] == ((), frozenset({Aspect.FOLDERS}))   # the folders' last scan time, at the end
    for path in good:
        content_hash = repo.rows[path].content_hash
        assert content_hash is not None
        assert (inline_settings.thumbnails_dir / thumbnail_relpath(content_hash, thumbs.GRID_PX)).is_file()
    children = engine.store.children(job.id)
    assert [(c.kind, c.state, c.catalog_id, dict(c.params)) for c in children] == [
        ("duplicates", JobState.PENDING, CATALOG, {"incremental": True, "after_job": job.id}),
        ("thumbnails", JobState.PENDING, CATALOG, {"after_job": job.id}),
        ("quality", JobState.PENDING, CATALOG, {"after_job": job.id}),
        ("tags", JobState.PENDING, CATALOG, {"after_job": job.id})]
    assert repo.touched == [7]

    again = engine.run("scan", {}, catalog_id=CATALOG)
    assert again.state == JobState.SUCCEEDED, again.error
    assert again.result is not None
    assert (again.result["files"], again.result["unchanged"], again.result["new"], again.result["changed"],
            again.result["errors"], again.result["items"]) == (4, 4, 0, 0, 1, 0)  # still broken: still an error
    assert engine.store.children(again.id) == []
    assert engine.store.changed_photos(again.id) == []
    assert len(repo.ingested) == 3

    make_jpeg(library / "b.jpg", 20, (260, 300))  # edited in place: another size
    third = engine.run("scan", {}, catalog_id=CATALOG)
    assert third.result is not None and (third.result["new"], third.result["changed"]) == (0, 1)
    assert engine.store.changed_photos(third.id) == [repo.rows[str(library / "b.jpg")].id]
    assert [c.kind for c in engine.store.children(third.id)] == ["duplicates", "thumbnails", "quality", "tags"]


def test_scan_cancel_then_resume_analyses_each_file_once(inline_settings: Settings, library: Path) -> None:
    repo = FakeScanRepo([Folder(7, str(library))])
    engine = make_engine(inline_settings, scan=repo)
    job = engine.run("scan", {}, catalog_id=CATALOG, cancel_after_items=2)
    assert job.state == JobState.CANCELLED
    assert len(repo.ingested) + len(repo.failed) == 2
    job = engine.resume(job.id)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result is not None and (job.result["new"], job.result["errors"]) == (3, 1)
    assert sorted(p for p, _, _ in repo.ingested) == sorted({p for p, _, _ in repo.ingested})
    assert len(repo.ingested) == 3 and len(repo.failed) == 1
    assert [c.kind for c in engine.store.children(job.id)] == ["duplicates", "thumbnails", "quality", "tags"]


def test_scan_of_a_folder_removed_during_the_scan_keeps_nothing(inline_settings: Settings, library: Path) -> None:
    repo = FakeScanRepo([Folder(7, str(library))])
    repo.remove_folders_after_discovery = True
    engine = make_engine(inline_settings, scan=repo)
    job = engine.run("scan", {}, catalog_id=CATALOG)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result is not None
    assert (job.result["files"], job.result["dropped"], job.result["new"], job.result["errors"]) == (4, 4, 0, 0)
    assert "4 not kept (folder removed)" in engine.registry.get("scan").summarize(job.result)
    errors = engine.store.item_errors(job.id)
    assert len(errors) == 4
    assert {e.error_class for e in errors} == {"folder_removed"}
    assert all("folder was removed" in e.message for e in errors)
    assert repo.ingested == [] and repo.failed == []
    assert engine.store.changes == [] and engine.store.children(job.id) == []


def test_scan_of_a_folder_removed_after_some_files_were_stored_counts_them_dropped(
        inline_settings: Settings, library: Path) -> None:
    repo = FakeScanRepo([Folder(7, str(library))])
    engine = make_engine(inline_settings, scan=repo)
    job = engine.run("scan", {}, catalog_id=CATALOG, cancel_after_items=2)  # a.jpg, b.jpg stored
    assert job.state == JobState.CANCELLED and [o for _, o, _ in repo.ingested] == ["new", "new"]
    repo.forget_folder(7)
    job = engine.resume(job.id)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result is not None
    assert (job.result["files"], job.result["new"], job.result["dropped"], job.result["errors"]) == (4, 0, 4, 0)
    assert len(repo.ingested) == 2 and repo.failed == [] and repo.rows == {}


def test_scan_with_the_duplicates_follow_on_switched_off_queues_nothing(
        inline_settings: Settings, library: Path) -> None:
    repo = FakeScanRepo([Folder(7, str(library))])
    settings = dataclasses.replace(inline_settings, disabled_follow_ons=("duplicates", "thumbnails", "quality", "tags"))
    engine = make_engine(settings, scan=repo)
    job = engine.run("scan", {}, catalog_id=CATALOG)
    assert job.state == JobState.SUCCEEDED, job.error
    assert len(engine.store.changed_photos(job.id)) == 4
    assert engine.store.children(job.id) == []


# -- duplicates ---------------------------------------------------------------------------------

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def fingerprint_row(photo_id: int, path: Path, analysed_at: datetime) -> tuple[PhotoFingerprint, datetime]:
    """What ``db.duplicates.fingerprints`` returns for an analysed file, and when it was analysed."""
    res = analyse_file(path)
    p = res.perceptual
    assert p is not None and res.metadata.width and res.metadata.height
    fp = PhotoFingerprint(
        id=photo_id, content_hash=res.identity.content_hash, image_data_hash=res.identity.image_data_hash,
        phash=p.phash, dhash=p.dhash, grey=p.grey, aspect=p.aspect, width=res.metadata.width,
        height=res.metadata.height, size=res.identity.size, format=res.format, is_raw=False, has_camera_exif=False,
        capture_time=None, mtime=path.stat().st_mtime, path=str(path))
    return fp, analysed_at


def test_duplicates_groups_byte_identical_copies(inline_settings: Settings, tmp_path: Path) -> None:
    a = make_jpeg(tmp_path / "a.jpg", 11, (320, 240))
    a_copy = Path(shutil.copyfile(a, tmp_path / "backup_a.jpg"))
    b = make_jpeg(tmp_path / "b.jpg", 12, (320, 240))
    repo = FakeDuplicatesRepo([fingerprint_row(1, a, T0), fingerprint_row(2, a_copy, T0), fingerprint_row(3, b, T0)])
    engine = make_engine(inline_settings, dup=repo)
    kind = engine.registry.get("duplicates")
    job = engine.run("duplicates", {}, catalog_id=CATALOG)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result is not None
    assert {k: job.result[k] for k in ("photos", "parts", "groups", "identical", "same_picture", "near_copy",
                                       "incremental", "items")} == {
        "photos": 3, "parts": 1, "groups": 1, "identical": 1, "same_picture": 0, "near_copy": 0,
        "incremental": False, "items": 1}
    assert kind.summarize(job.result) == "1 group: 1 identical, 0 same picture, 0 near copies"
    [stored] = repo.current_groups(None, CATALOG)
    group = stored.group
    assert group.tier is DuplicateTier.IDENTICAL and group.size == 2
    assert set(group.photo_ids) == {1, 2}
    assert [m.tier for m in group.members] == [DuplicateTier.IDENTICAL]
    assert repo.runs[job.id].is_current and repo.runs[job.id].high_water == T0
    assert kind.follow_on_params(job, []) is None
    assert kind.follow_on_params(job, [3]) == {"incremental": True, "after_job": job.id}

    # incremental, nothing new: no part regrouped, the group carried over
    same = engine.run("duplicates", {"incremental": True}, catalog_id=CATALOG)
    assert same.state == JobState.SUCCEEDED, same.error
    assert same.result is not None
    assert (same.result["incremental"], same.result["new_photos"], same.result["parts"], same.result["groups"],
            same.result["items"]) == (True, 0, 0, 1, 0)
    assert kind.summarize(same.result).endswith("(0 new photos checked)")

    # incremental, a new copy of b: only b's part is regrouped, a's group is carried over
    b_copy = Path(shutil.copyfile(b, tmp_path / "b_again.jpg"))
    repo.add(*fingerprint_row(4, b_copy, T0 + timedelta(hours=1)))
    more = engine.run("duplicates", {"incremental": True}, catalog_id=CATALOG)
    assert more.state == JobState.SUCCEEDED, more.error
    assert more.result is not None
    assert (more.result["new_photos"], more.result["parts"], more.result["groups"], more.result["identical"]) == (
        1, 1, 2, 2)
    groups = {frozenset(sg.group.photo_ids) for sg in repo.current_groups(None, CATALOG)}
    assert groups == {frozenset({1, 2}), frozenset({3, 4})}


def test_burst_siblings_are_never_duplicates_of_each_other(inline_settings: Settings, tmp_path: Path) -> None:
    """Two frames of one burst are different moments: the duplicate queues leave them apart, while
    a real copy of one of them stays a copy."""
    from lumina_desktop.jobs.kinds.duplicates import read_groups

    a = make_jpeg(tmp_path / "a.jpg", 11, (320, 240))
    a_copy = Path(shutil.copyfile(a, tmp_path / "backup_a.jpg"))
    sibling = tmp_path / "a_next.jpg"
    Image.open(a).resize((318, 239)).resize((320, 240)).save(sibling, quality=80)   # near copy of a
    repo = FakeDuplicatesRepo([fingerprint_row(1, a, T0), fingerprint_row(2, a_copy, T0), fingerprint_row(3, sibling, T0)])
    engine = make_engine(inline_settings, dup=repo)
    assert engine.run("duplicates", {}, catalog_id=CATALOG).state == JobState.SUCCEEDED
    [before] = read_groups(repo, None, CATALOG)
    assert set(before.group.photo_ids) == {1, 2, 3}           # the sibling looks like a near copy
    repo.bursts = {1: 7, 3: 7}                                 # the bursts job: 1 and 3 are one burst
    [after] = read_groups(repo, None, CATALOG)
    assert set(after.group.photo_ids) == {1, 2}               # the byte copy stays, the sibling leaves
    repo.bursts = {1: 7, 2: 8, 3: 7}
    groups = read_groups(repo, None, CATALOG)
    assert [set(g.group.photo_ids) for g in groups] == [{1, 2}]


# -- registry -----------------------------------------------------------------------------------

def test_registry_lists_kinds_stages_and_menu(inline_settings: Settings) -> None:
    engine = make_engine(inline_settings)
    registry = engine.registry
    assert registry.names() == ["bursts", "demo", "duplicates", "quality", "scan", "tags", "thumbnails"]
    assert "scan" in registry and "nope" not in registry
    assert [k.name for k in registry.follow_on_stages()] == ["duplicates", "thumbnails", "quality", "tags", "bursts"]
    assert [k.name for k in registry.menu_kinds()] == ["duplicates", "thumbnails", "quality", "tags", "bursts"]
    with pytest.raises(LuminaError, match=r"unknown job kind 'nope'; known: bursts, demo, duplicates, quality, scan, "
                                          r"tags, thumbnails"):
        registry.get("nope")
    with pytest.raises(LuminaError, match="unknown job kind 'nope'"):
        engine.run("nope", {})
    assert registry.find("nope") is None and engine.store.jobs == {}


def test_registry_refuses_unknown_follow_ons_and_duplicate_names() -> None:
    with pytest.raises(ValueError, match="'scan' names an unknown follow-on kind 'duplicates'"):
        KindRegistry([ScanKind(repo=FakeScanRepo([])), DemoKind(repo=FakeDemoRepo())])
    with pytest.raises(ValueError, match="two job kinds are named 'demo'"):
        KindRegistry([DemoKind(repo=FakeDemoRepo()), DemoKind(repo=FakeDemoRepo())])
    registry = KindRegistry([DemoKind(repo=FakeDemoRepo())])
    with pytest.raises(ValueError, match="'scan' names an unknown follow-on kind 'duplicates'"):
        registry.with_kinds(ScanKind(repo=FakeScanRepo([])))


def test_eta_waits_for_3_s_and_2_percent_and_follows_a_smoothed_rate() -> None:
    from lumina_desktop.jobs.engine.kind import Phase
    from lumina_desktop.jobs.engine.progress import ProgressTracker
    from lumina_desktop.jobs.engine.testing import MemoryJobStore

    store = MemoryJobStore()
    job_id = store.create_job("demo", None, {})
    clock = [1000.0]
    tracker = ProgressTracker(store, job_id, (Phase("process", 1.0, "Working"),), min_interval_s=0)
    import lumina_desktop.jobs.engine.progress as progress_mod

    real = progress_mod.time.monotonic
    progress_mod.time.monotonic = lambda: clock[0]  # type: ignore[assignment]
    try:
        def at(t: float, done: int, total: int = 10_000) -> float | None:
            clock[0] = 1000.0 + t
            tracker.update("process", done, total, force=True)
            p = store.get_job(job_id).progress  # type: ignore[union-attr]
            assert p is not None
            return p.eta_s

        assert at(0, 0) is None
        assert at(1, 100) is None    # 1 s: too early
        assert at(2, 400) is None    # 4 % but 2 s: too early
        assert at(3, 100, 100_000) is None  # 3 s but 0.1 %: too little done
        # a steady 100 items/s from here on: the estimate converges on (total - done) / 100
        for t in range(4, 60):
            eta = at(t, 100 * t, 100_000)
        assert eta is not None and abs(eta - (100_000 - 5_900) / 100) / ((100_000 - 5_900) / 100) < 0.1
        # a short burst (2 s of work in 0.5 s: 4x the rate) moves the estimate a little, not 4x
        burst = at(60.5, 100 * 59 + 200, 100_000)
        assert burst is not None and 0.8 * eta < burst < eta
    finally:
        progress_mod.time.monotonic = real  # type: ignore[assignment]


# -- thumbnails ---------------------------------------------------------------------------------

def test_thumbnails_follow_a_scan_one_preview_per_content(inline_settings: Settings, library: Path) -> None:
    repo = FakeScanRepo([Folder(7, str(library))])
    thumbs = FakeThumbnailsRepo(repo)
    engine = make_engine(inline_settings, scan=repo, thumbs=thumbs)
    job = engine.run("scan", {}, catalog_id=CATALOG)
    assert job.state == JobState.SUCCEEDED
    follow = engine.run_follow_ons(job.id)
    done = {j.kind: j for j in follow}
    assert done["thumbnails"].state == JobState.SUCCEEDED, done["thumbnails"].error
    assert done["thumbnails"].result["made"] == 3                       # the three readable pictures
    assert all(sizes == {1280} for sizes in thumbs.sizes.values()) and len(thumbs.sizes) == 3
    previews = list(inline_settings.thumbnails_dir.rglob("*_1280.jpg"))
    assert len(previews) == 3
    # the previews were recorded: a second run has nothing to do
    again = engine.run("thumbnails", {}, catalog_id=CATALOG)
    assert again.state == JobState.SUCCEEDED and again.result["items"] == 0
