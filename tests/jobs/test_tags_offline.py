"""The tags job needs no network: it runs (the CLI, in a fresh process) inside a network namespace
with no network at all (``unshare -n``: not even loopback is up), reaching the catalog database
through its Unix socket.  Skips cleanly where namespaces cannot be made."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.jobs.test_scan import make_jpeg, scan
from tests.jobs.test_tags_job import screenshot_png

pytestmark = [pytest.mark.db, pytest.mark.slow]


def _no_network_prefix() -> list[str]:
    """A command prefix that runs a program without network, or skip."""
    tool = shutil.which("unshare")
    if tool is None:
        pytest.skip("unshare is not installed")
    for prefix in ([tool, "-n"], [tool, "-r", "-n"]):       # as root; else in a user namespace
        try:
            probe = subprocess.run([*prefix, sys.executable, "-c",   # no traffic: only list the interfaces
                                    "import socket; print(sorted(n for _, n in socket.if_nameindex()))"],
                                   capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0 and probe.stdout.strip() == "['lo']":   # loopback only (and down)
            return prefix
    pytest.skip("network namespaces are not allowed here (unshare -n failed)")


def test_the_tags_job_runs_without_network(coordinator, conn, test_db, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    prefix = _no_network_prefix()
    root = tmp_path / "lib"
    for i in range(3):
        make_jpeg(root / f"img{i}.jpg", i)
    screenshot_png(root / "shot.png")
    job, cat = scan(coordinator, conn, root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HTTP", "HTTPS", "http", "https", "NO_PROXY"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    run = subprocess.run([*prefix, sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo,
                          "--data-dir", str(settings.data_dir), "tags", "run", "--catalog", cat.name],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 photos tagged" in run.stdout
    tagged = conn.execute("SELECT count(*) FROM photo_tagging WHERE catalog_id = %s", (cat.id,)).fetchone()
    shot = conn.execute("SELECT t.source FROM photo_tags t JOIN photos p ON p.content_hash = t.content_hash "
                        "WHERE p.file_name = 'shot.png' AND t.tag = 'screenshot'", ()).fetchall()
    models = conn.execute("SELECT count(*) FROM photo_tags WHERE catalog_id = %s AND source = 'model'",
                          (cat.id,)).fetchone()
    conn.commit()
    assert tagged == (4,) and shot == [("heuristic",)] and models[0] > 0
