"""A rescan of unchanged files stats them and compares them with the catalog: it reads none."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lumina_desktop.core.jobs import JobState
from lumina_desktop.core.models import PhotoStatus
from lumina_desktop.db import catalogs
from lumina_desktop.db.photos import KnownFile, known_files

pytestmark = [pytest.mark.db, pytest.mark.slow]


def make_jpeg(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).resize((160, 120)).save(path, "JPEG")


def test_rescan_of_unchanged_files_reads_none_of_them(coordinator, conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    files = [root / f"d{i % 3}" / f"img{i}.jpg" for i in range(9)]
    for i, f in enumerate(files):
        make_jpeg(f, i)
    cat = catalogs.ensure_catalog(conn, "Rescan")
    folder = catalogs.add_folder(conn, cat.id, str(root))
    conn.commit()

    def scan() -> dict:  # type: ignore[type-arg]
        job = coordinator.wait(coordinator.submit("scan", {"folder_ids": [folder.id]}, catalog_id=cat.id), 120)
        assert job.state == JobState.SUCCEEDED, job.error
        return dict(job.result)

    assert scan()["new"] == 9
    before = dict(conn.execute("SELECT path, content_hash FROM photos WHERE catalog_id = %s", (cat.id,)).fetchall())
    conn.commit()
    # other bytes of the same length, the same mtime: only a scan that reads a file can tell
    for i, f in enumerate(files):
        st = f.stat()
        data = bytearray(f.read_bytes())
        data[len(data) // 2] ^= 0xFF
        f.write_bytes(bytes(data))
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    r = scan()
    assert (r["unchanged"], r["items"], r["changed"], r["new"]) == (9, 0, 0, 0), r
    after = dict(conn.execute("SELECT path, content_hash FROM photos WHERE catalog_id = %s", (cat.id,)).fetchall())
    conn.commit()
    assert after == before          # not re-hashed: the catalog still has the old contents
    # what the rescan compared: one tuple per catalogued file, its status a PhotoStatus
    known = known_files(conn, cat.id, [folder.id])
    conn.commit()
    assert set(known) == {str(f) for f in files}
    row = known[str(files[0])]
    assert isinstance(row, KnownFile) and row.status is PhotoStatus.OK and not row.needs_refresh
    assert (row.size, row.mtime_ns) == (files[0].stat().st_size, files[0].stat().st_mtime_ns)
    # a touched file (new mtime) is looked at again
    os.utime(files[0], ns=(files[0].stat().st_atime_ns, files[0].stat().st_mtime_ns + 1_000_000_000))
    r = scan()
    assert (r["unchanged"], r["changed"]) == (8, 1), r


def test_walk_asks_once_per_extension_and_still_passes_over_hidden_files(tmp_path: Path) -> None:
    from collections import Counter

    from lumina_desktop.jobs.kinds.scan import _walk

    names = [b"a.jpg", b".hidden.jpg", b"b.JPG", b"._c.JPG", b"notes.txt", b"README", b"d.", b"e\xff.jpg",
             b".jpg", b"f.tar.gz", b"g.heic"]
    for n in names:
        (Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), n)))).write_bytes(b"x")
    errors: list[tuple[str, str, str]] = []
    skipped: Counter[str] = Counter()
    found = sorted(os.path.basename(p) for p, _st, _t in _walk(os.fsencode(tmp_path), errors, skipped))
    assert found == [b"a.jpg", b"b.JPG", b"e\xff.jpg", b"g.heic"]
    assert skipped["other"] == len(names) - 4 and not errors
