"""Scans started together, workers with their own data folders, and what a scan passes over (issue 16).

Real processes (``python -m lumina_desktop … scan``) on one test database: catalogs and folders
are created by idempotent upserts, two scans of one folder take turns (the second waits for the
first, then finds everything unchanged), thumbnails go to the store the catalog records, and
the summary counts what was not read (special files, linked folders, links leading outside).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import psycopg
import pytest
from PIL import Image

from lumina_desktop.analysis.ingest import analyse_file
from lumina_desktop.config import load_settings
from lumina_desktop.core.media import MediaError
from lumina_desktop.db import catalogs
from lumina_desktop.db import photos as photos_db
from lumina_desktop.jobs.engine.kind import ItemFailure
from lumina_desktop.jobs.kinds.scan import ScanKind, ScanParams, encode_path

pytestmark = [pytest.mark.db, pytest.mark.slow]


def make_jpeg(path: Path, seed: int, size: tuple[int, int] = (320, 240)) -> Path:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(small).resize(size, Image.Resampling.BICUBIC).save(path, "JPEG", quality=90)
    return path


def make_library(root: Path, n: int, first_seed: int = 0) -> Path:
    for i in range(n):
        make_jpeg(root / f"img_{i:03d}.jpg", first_seed + i)
    return root


def start(test_db: Any, data: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    full = {**os.environ, "LUMINA_DATA_DIR": str(data), "LUMINA_CONFIG_DIR": str(data / "cfg"), **env}
    full.pop("LUMINA_THUMBNAIL_CACHE_DIR", None)
    return subprocess.Popen([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full)


def finish_all(procs: list[subprocess.Popen[str]], timeout: float = 170) -> list[tuple[int, str, str]]:
    out = []
    for p in procs:
        o, e = p.communicate(timeout=timeout)
        out.append((p.returncode, o, e))
    return out


def scan_results(conninfo: str) -> list[dict[str, Any]]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute("SELECT state, result FROM jobs WHERE kind = 'scan' ORDER BY id").fetchall()
    return [{"state": s, **(r or {})} for s, r in rows]


# -- create races -----------------------------------------------------------------------------

def test_ten_scans_into_one_new_catalog_all_succeed(test_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    roots = [make_library(tmp_path / f"lib{i}", 2, first_seed=10 * i) for i in range(10)]
    procs = [start(test_db, tmp_path / "data", "scan", str(r), "--catalog", "Brand New") for r in roots]
    for code, out, err in finish_all(procs):
        assert code == 0 and "Traceback" not in err and "UniqueViolation" not in err, out + err
    with psycopg.connect(test_db.conninfo) as conn:
        assert conn.execute("SELECT count(*) FROM catalogs WHERE lower(name) = 'brand new'").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM catalog_folders").fetchone()[0] == 10
        assert conn.execute("SELECT count(*) FROM photos WHERE status = 'ok'").fetchone()[0] == 20


def test_scans_of_one_new_folder_at_once_analyse_each_file_once(test_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    n_files = 40
    root = make_library(tmp_path / "lib", n_files)
    procs = [start(test_db, tmp_path / "data", "scan", str(root), "--catalog", "Together") for _ in range(6)]
    results = finish_all(procs)
    for code, out, err in results:
        assert code == 0 and "Traceback" not in err and "UniqueViolation" not in err, out + err
    with psycopg.connect(test_db.conninfo) as conn:
        assert conn.execute("SELECT count(*) FROM catalogs").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM catalog_folders").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM photos WHERE status = 'ok'").fetchone()[0] == n_files
    scans = scan_results(test_db.conninfo)
    assert len(scans) == 6 and {s["state"] for s in scans} == {"succeeded"}, scans
    analysed = sum(s.get(k, 0) for s in scans for k in ("new", "changed", "moved", "refreshed"))
    assert analysed == n_files, scans          # each file analysed by exactly one scan
    assert sorted(s["new"] for s in scans) == [0] * 5 + [n_files]
    assert all(s["changed"] == 0 for s in scans)   # no false "changed" counts
    outputs = "".join(o for _, o, _ in results)
    assert "0 new, 0 changed" in outputs
    # a scan that found another one at work on its folder waited for it, and says so
    for s in scans:
        for other in s.get("waited_for", ()):
            assert f"waited for scan #{other} of the same folders" in outputs, outputs
    print(outputs)


# -- the thumbnail store comes from the catalog -------------------------------------------------

def test_a_worker_with_its_own_data_folder_writes_thumbnails_where_the_owner_reads(test_db, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    owner, other = tmp_path / "owner", tmp_path / "elsewhere"
    root = make_library(tmp_path / "lib", 8)
    code, out, err = finish_all([start(test_db, owner, "scan", str(root), "--catalog", "Shared")])[0]
    assert code == 0, out + err
    assert "queued: Make previews" in out, out
    # a worker on "another machine": its own data folder, the same database
    code, out, err = finish_all([start(test_db, other, "worker", "--threads", "2", "--idle-exit", "3")])[0]
    assert code == 0, err
    # a scan from that machine too: new photos' grid thumbnails
    make_jpeg(root / "late.jpg", 99)
    code, out, err = finish_all([start(test_db, other, "scan", str(root), "--catalog", "Shared")])[0]
    assert code == 0 and "1 new" in out, out + err
    with psycopg.connect(test_db.conninfo) as conn:
        rows = conn.execute("SELECT content_hash, thumb_sizes FROM photos WHERE status = 'ok'").fetchall()
    assert len(rows) == 9
    recorded = 0
    for content_hash, sizes in rows:
        for px in sizes:
            rel = Path(content_hash[:2]) / content_hash[2:4] / f"{content_hash}_{px}.jpg"
            assert (owner / "thumbnails" / rel).is_file(), (content_hash, px)
            recorded += 1
    assert recorded >= 9 + 8          # the grid sizes, and the previews the worker made
    assert not list((other / "thumbnails").rglob("*.jpg")) if (other / "thumbnails").exists() else True
    # the window of a process with its own folder reads the catalog's store too
    from lumina_desktop.services.app import services_on

    settings = load_settings({"data_dir": str(other), "database_url": test_db.conninfo},
                             environ={}, config_dir=other / "cfg")
    assert services_on(settings, db).thumbnails.root == owner / "thumbnails"


# -- what a scan passes over, and files that change under it ------------------------------------

def test_the_summary_counts_what_was_not_read_and_outside_links_are_never_read(test_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = make_library(tmp_path / "lib", 3)
    outside = make_jpeg(tmp_path / "outside" / "elsewhere.jpg", 50)
    os.mkfifo(root / "pipe.jpg")
    (root / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)
    (root / "shadow.jpg").symlink_to("/etc/shadow")
    (root / "away.jpg").symlink_to(outside)
    (root / "inside.jpg").symlink_to(root / "img_000.jpg")
    (root / ".hidden.jpg").write_bytes((root / "img_001.jpg").read_bytes())
    code, out, err = finish_all([start(test_db, tmp_path / "data", "scan", str(root))])[0]
    assert code == 0 and "Traceback" not in err, out + err
    assert "4 files: 4 new" in out, out                       # 3 photos and the link inside
    assert "1 other files passed over (hidden, or not a photo or video type)" in out, out
    assert "1 special files (pipes, devices, sockets)" in out, out
    assert "1 linked folders" in out, out
    assert "2 links to files outside the scanned folders" in out, out
    with psycopg.connect(test_db.conninfo) as conn:
        names = {r[0] for r in conn.execute("SELECT file_name FROM photos")}
        errors = conn.execute("SELECT count(*) FROM job_item_errors").fetchone()[0]
    assert names == {"img_000.jpg", "img_001.jpg", "img_002.jpg", "inside.jpg"}
    assert errors == 0       # the outside links left no trace: not even an error row
    # the setting that allows them
    code, out, err = finish_all([start(test_db, tmp_path / "data", "scan", str(root),
                                       LUMINA_OUTSIDE_LINKS="follow")])[0]
    assert code == 0, out + err
    with psycopg.connect(test_db.conninfo) as conn:
        rows = dict(conn.execute("SELECT file_name, status FROM photos").fetchall())
    assert rows["away.jpg"] == "ok"


def test_a_file_swapped_for_a_link_after_discovery_is_not_read(tmp_path: Path) -> None:
    target = make_jpeg(tmp_path / "real.jpg", 3)
    link = tmp_path / "x.jpg"
    link.symlink_to(target)
    with pytest.raises(MediaError) as caught:
        analyse_file(link, thumb_sizes=(256,), follow_links=False)
    assert "symbolic link" in caught.value.message
    assert analyse_file(link, thumb_sizes=(256,)).identity.size == target.stat().st_size


def test_a_file_truncated_mid_scan_keeps_its_new_size(conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = make_library(tmp_path / "lib", 1)
    path = root / "img_000.jpg"
    found = path.stat()               # what discovery saw
    cat = catalogs.ensure_catalog(conn, "Cut")
    folder = catalogs.add_folder(conn, cat.id, str(root))
    with conn.transaction():
        photos_db.insert_placeholders(conn, cat.id, [(folder.id, str(path), None, path.name, found.st_size,
                                                      found.st_mtime_ns)])
    with open(path, "r+b") as fh:     # cut short between discovery and the read
        fh.truncate(found.st_size // 3)
    kind = ScanKind()
    settings = load_settings({"data_dir": str(tmp_path / "data")}, environ={}, config_dir=tmp_path / "cfg")
    run = kind.open(SimpleNamespace(settings=settings), ScanParams())  # type: ignore[arg-type]
    item = {"f": folder.id, "p": encode_path(os.fsencode(path)), "m": found.st_mtime_ns}
    with pytest.raises(ItemFailure) as caught:
        run(None, item)  # type: ignore[arg-type]
    assert caught.value.error_class == "truncated"
    with conn.transaction():
        kind.store(conn, SimpleNamespace(catalog_id=cat.id), None, [(item, caught.value)])  # type: ignore[arg-type]
    now = path.stat()
    size, mtime_ns, status = conn.execute("SELECT size_bytes, mtime_ns, status FROM photos").fetchone()
    assert (size, mtime_ns, status) == (now.st_size, now.st_mtime_ns, "error")
    # so the next scan sees the broken file as unchanged, and does not read it again
    known = photos_db.known_files(conn, cat.id, [folder.id])[str(path)]
    assert (known.size, known.mtime_ns) == (now.st_size, now.st_mtime_ns)


def test_the_server_owner_records_its_store_and_others_follow_it(conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.db.thumbnails import shared_store_dir

    owner, worker, moved = tmp_path / "owner" / "thumbnails", tmp_path / "worker" / "thumbnails", tmp_path / "new"
    owner.mkdir(parents=True)
    assert shared_store_dir(conn, worker, is_owner=False) == worker     # none recorded: the first records
    assert shared_store_dir(conn, owner, is_owner=True) == owner        # the owner's folder wins
    assert shared_store_dir(conn, worker, is_owner=False) == owner
    assert shared_store_dir(conn, moved, is_owner=True) == moved        # the owner moved its data folder
    assert shared_store_dir(conn, worker, is_owner=False) == moved      # (its parent exists: writable)
    # a recorded folder this process cannot reach: its own, with a warning
    conn.execute("UPDATE thumbnail_store SET path = '/nonexistent/lumina/thumbnails'")
    conn.commit()
    assert shared_store_dir(conn, worker, is_owner=False) == worker
