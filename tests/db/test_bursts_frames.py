"""The frames an incremental bursts run reads near the changed photos are those of the whole
catalog's frame index in those time windows, trashed ones and burst ids included."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lumina_desktop.db import bursts as bursts_db
from lumina_desktop.db import catalogs

pytestmark = [pytest.mark.db]

T0 = datetime(2022, 3, 4, 10, 0, 0)


def test_frames_between_and_with_burst_ids_are_the_frame_index_read_in_part(conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cat = catalogs.ensure_catalog(conn, "Frames")
    other = catalogs.ensure_catalog(conn, "Other")
    for c in (cat, other):
        (tmp_path / c.name).mkdir()
        folder = catalogs.add_folder(conn, c.id, str(tmp_path / c.name))
        for i in range(60):
            conn.execute(
                "INSERT INTO photos (catalog_id, folder_id, path, file_name, status, capture_time, date_source, "
                "camera_make, camera_model, burst_uuid, trashed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 'Canon', "
                "'R5', %s, %s)",
                (c.id, folder.id, f"/{c.name}/{i}.jpg", f"{i}.jpg", "missing" if i % 11 == 5 else "ok",
                 None if i % 13 == 7 else T0 + timedelta(seconds=1.5 * i),
                 "file" if i % 4 == 3 else "exif",                      # a file date: not a frame ...
                 "B1" if i in (3, 7, 55) else "B2" if i == 15 else None,   # ... unless it has a burst id
                 T0 if i % 9 == 4 else None))                           # in the trash: still a frame
    conn.commit()
    everything = bursts_db.frame_index(conn, cat.id)
    assert any(f.burst_uuid == "B1" for f in everything) and len(everything) > 30
    windows = [(T0 + timedelta(seconds=3), T0 + timedelta(seconds=12)), (T0 + timedelta(seconds=60), T0 + timedelta(seconds=75))]
    got = sorted(bursts_db.frames_between(conn, cat.id, windows), key=lambda f: (f.time, f.id))
    assert got == [f for f in everything if any(lo <= f.time <= hi for lo, hi in windows)]
    assert T0 + timedelta(seconds=1.5 * 4) in {f.time for f in got}     # photo 4 is in the trash: a frame still
    by_uuid = sorted(bursts_db.frames_with_burst_ids(conn, cat.id, ["B1", "B2"]), key=lambda f: (f.time, f.id))
    assert by_uuid == [f for f in everything if f.burst_uuid in ("B1", "B2")]
    assert bursts_db.frames_between(conn, cat.id, []) == [] and bursts_db.frames_with_burst_ids(conn, cat.id, []) == []
    conn.commit()
