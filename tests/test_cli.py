"""The headless CLI: catalog commands, config, db, and one clear line for every user mistake."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lumina_desktop import __version__
from lumina_desktop.cli import run_cli

pytestmark = pytest.mark.db


def cli(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = run_cli(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_and_help(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as e:
        run_cli(["--version"])
    assert e.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_catalog_lifecycle_against_database_url(test_db, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = ["--database-url", test_db.conninfo]
    (tmp_path / "pics").mkdir()
    assert cli(capsys, *url, "catalog", "list")[1].startswith("no catalogs yet")
    code, out, _ = cli(capsys, *url, "catalog", "create", "Family")
    assert code == 0 and "created catalog 'Family'" in out
    code, _, err = cli(capsys, *url, "catalog", "create", "family")
    assert code == 1 and err.strip() == "lumina-desktop: error: a catalog named 'family' already exists"
    assert cli(capsys, *url, "catalog", "add-folder", "--catalog", "Family", str(tmp_path / "pics"))[0] == 0
    code, out, _ = cli(capsys, *url, "catalog", "folders", "--catalog", "Family")
    assert str(tmp_path / "pics") in out
    code, out, _ = cli(capsys, *url, "catalog", "list")
    assert "Family" in out and " 1 " in out
    assert cli(capsys, *url, "catalog", "rename", "Family", "Home")[0] == 0
    code, _, err = cli(capsys, *url, "catalog", "add-folder", "--catalog", "Home", str(tmp_path / "missing"))
    assert code == 1 and "does not exist" in err and "Traceback" not in err
    assert cli(capsys, *url, "catalog", "remove-folder", "--catalog", "Home", str(tmp_path / "pics"))[0] == 0
    assert cli(capsys, *url, "catalog", "delete", "Home", "--yes")[0] == 0
    assert (tmp_path / "pics").is_dir()
    code, _, err = cli(capsys, *url, "catalog", "folders", "--catalog", "Home")
    assert code == 1 and err.strip() == "lumina-desktop: error: no catalog named 'Home'"
    # folder commands default to the catalog scan uses ("Photos"), as scan and duplicates do
    assert cli(capsys, *url, "catalog", "add-folder", str(tmp_path / "pics"))[0] == 0
    code, out, _ = cli(capsys, *url, "catalog", "folders")
    assert code == 0 and str(tmp_path / "pics") in out and "never" in out


def test_bad_database_url_is_one_line_without_password(capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli(capsys, "--database-url", "postgresql://bob:hunter2@127.0.0.1:1/x", "catalog", "list")
    assert code == 1
    warning, error = err.splitlines()  # the password on the command line is warned about, then one error line
    assert "warning" in warning and "--database-url" in warning and "cannot connect" in error
    assert "hunter2" not in err


def test_config_show_masks_password(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LUMINA_DATABASE_URL", "postgresql://bob:hunter2@db/x")
    code, out, _ = cli(capsys, "config", "show")
    assert code == 0 and "bob:****@db" in out and "hunter2" not in out
    assert "background_workers" in out and "env LUMINA_DATABASE_URL" in out


def test_usage_error_exits_2_without_traceback() -> None:
    res = subprocess.run([sys.executable, "-m", "lumina_desktop", "catalog", "frobnicate"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "invalid choice" in res.stderr and "Traceback" not in res.stderr


def test_db_commands_on_embedded_cluster(pg_cluster, capsys) -> None:  # type: ignore[no-untyped-def]
    data = ["--data-dir", str(pg_cluster.data_dir)]
    code, out, _ = cli(capsys, *data, "db", "status")
    assert code == 0 and "running:          yes" in out and "PostgreSQL" in out
    code, out, _ = cli(capsys, *data, "db", "url")
    assert str(pg_cluster.socket_dir) in out
    code, out, _ = cli(capsys, *data, "db", "start")
    assert code == 0 and "already running" in out
    # a CLI command reuses the running server and leaves it running (the session holds it)
    assert cli(capsys, *data, "catalog", "list")[0] == 0
    assert pg_cluster.server_pid() is not None


def test_thumbnails_prune_keeps_catalogued_grid_thumbnails(test_db, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A real scan, then a budget of 0 MB: previews go (the catalog forgets them), grid images stay."""
    from PIL import Image

    url = ["--database-url", test_db.conninfo, "--data-dir", str(tmp_path / "data")]
    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(3):
        Image.new("RGB", (1600, 1200), (i * 60, 100, 200 - i * 50)).save(pics / f"p{i}.jpg", quality=90)
    assert cli(capsys, *url, "scan", str(pics), "--catalog", "Thumbs", "--all")[0] == 0   # its follow-ons too
    thumbs = tmp_path / "data" / "thumbnails"
    assert len(list(thumbs.rglob("*_1280.jpg"))) == 3 and len(list(thumbs.rglob("*_256.jpg"))) == 3
    stray = thumbs / "ab" / "cd" / ("abcd" * 16 + "_256.jpg")     # a photo no catalog holds any more
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"x" * 100)
    code, out, _ = cli(capsys, *url, "thumbnails", "prune", "--mb", "0")
    assert code == 0 and out.startswith("removed 4 thumbnails") and "still over budget" in out
    assert not list(thumbs.rglob("*_1280.jpg")) and len(list(thumbs.rglob("*_256.jpg"))) == 3
    import psycopg

    with psycopg.connect(test_db.conninfo) as c:
        sizes = [r[0] for r in c.execute("SELECT DISTINCT thumb_sizes::int[] FROM photos").fetchall()]
    assert sizes == [[256]]     # the catalog knows the previews are gone
    code, out, _ = cli(capsys, *url, "thumbnails", "regenerate", "--catalog", "Thumbs")
    assert code == 0 and "3 previews made" in out and len(list(thumbs.rglob("*_1280.jpg"))) == 3
    code, out, _ = cli(capsys, *url, "thumbnails", "status")
    assert code == 0 and "MB budget" in out
