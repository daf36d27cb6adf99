"""Desktop integration: one lower-case id, files that validate, and an undoable per-user entry."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from lumina_desktop import APP_ID, desktop_entry

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"


def test_one_lower_case_reverse_dns_id_everywhere() -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,}", APP_ID)
    assert sorted(p.name for p in LINUX.iterdir()) == [DESKTOP.name, METAINFO.name]
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP.name
    assert f"Icon={APP_ID}\n" in DESKTOP.read_text(encoding="utf-8")


def test_the_packaged_entry_is_the_one_the_program_writes() -> None:
    """A system install (bundle, AppImage, distro package) runs ``lumina-desktop`` from the PATH."""
    assert DESKTOP.read_text(encoding="utf-8") == desktop_entry.desktop_file_text()
    assert "Exec=lumina-desktop\n" in DESKTOP.read_text(encoding="utf-8")


def test_metainfo_has_developer_urls_releases_and_screenshots() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.find("developer/name") is not None
    assert {u.get("type") for u in root.findall("url")} >= {"homepage", "bugtracker"}
    releases = root.findall("releases/release")
    assert releases and releases[0].get("version") and releases[0].get("date")
    from lumina_desktop import __version__
    assert releases[0].get("version") == __version__, "the newest release must be this version"
    assert root.find("screenshots/screenshot/image") is not None


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils not installed")
def test_desktop_file_validates() -> None:
    res = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and not res.stdout.strip() and not res.stderr.strip(), res.stdout + res.stderr


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstream not installed")
def test_metainfo_validates_pedantic_without_warnings() -> None:
    # --no-net: the URLs are checked where a network exists; here there is none
    res = subprocess.run(["appstreamcli", "validate", "--pedantic", "--no-net", str(METAINFO)],
                         capture_output=True, text=True, timeout=60)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert not re.search(r"^[WE]:", out, re.M), out


def test_exec_line_quotes_paths_as_the_spec_says() -> None:
    assert desktop_entry.exec_line(["/usr/bin/lumina-desktop"]) == "/usr/bin/lumina-desktop"
    # inside quotes \ " ` $ are escaped with a backslash; then the file format doubles every backslash
    assert desktop_entry.exec_line(["/home/a b/x$y"]) == '"/home/a b/x\\\\$y"'
    assert desktop_entry.exec_line(["/opt/100%/app"]) == "/opt/100%%/app"


def _cli(home: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(HOME=str(home), **extra_env)
    return subprocess.run([sys.executable, "-m", "lumina_desktop", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_install_and_uninstall_round_trip(tmp_path: Path) -> None:
    home = tmp_path / "home"
    apps = home / ".local" / "share" / "applications"
    apps.mkdir(parents=True)
    other = apps / "someone-else.desktop"
    other.write_text("[Desktop Entry]\nType=Application\nName=Other\nExec=other\n")

    res = _cli(home, "--install-desktop-entry")
    assert res.returncode == 0, res.stderr
    entry = apps / f"{APP_ID}.desktop"
    text = entry.read_text(encoding="utf-8")
    exec_value = re.search(r"^Exec=(.*)$", text, re.M).group(1)
    program = exec_value.strip('"')
    assert Path(program).is_absolute() and os.access(program, os.X_OK), exec_value   # not a bare name
    assert f"Icon={APP_ID}" in text
    icons = home / ".local" / "share" / "icons" / "hicolor"
    for n in desktop_entry.ICON_SIZES:
        png = icons / f"{n}x{n}" / "apps" / f"{APP_ID}.png"
        with Image.open(png) as im:
            assert im.size == (n, n), png
    assert (icons / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True, timeout=60)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout
    written = {p for p in (home / ".local").rglob("*") if p.is_file()}
    assert set(desktop_entry.entry_files(home / ".local" / "share")) <= written

    res = _cli(home, "--uninstall-desktop-entry")
    assert res.returncode == 0, res.stderr
    left = {p for p in (home / ".local").rglob("*") if p.is_file() and not p.name.startswith("mimeinfo")}
    assert left == {other}, "uninstall must remove exactly what install wrote"
    again = _cli(home, "--uninstall-desktop-entry")
    assert again.returncode == 0 and "no desktop entry" in again.stdout


def test_install_follows_xdg_data_home(tmp_path: Path) -> None:
    res = _cli(tmp_path / "home", "--install-desktop-entry", XDG_DATA_HOME=str(tmp_path / "xdg"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "xdg" / "applications" / f"{APP_ID}.desktop").is_file()
    assert not (tmp_path / "home" / ".local").exists()


def test_install_with_a_command_is_a_usage_error(tmp_path: Path) -> None:
    res = _cli(tmp_path, "--install-desktop-entry", "db", "status")
    assert res.returncode == 2 and "take no command" in res.stderr and "Traceback" not in res.stderr


def test_a_bundle_or_appimage_entry_runs_that_program(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/lumina desktop/lumina-desktop")
    monkeypatch.delenv("APPIMAGE", raising=False)
    assert desktop_entry.running_command() == [str(Path("/opt/lumina desktop/lumina-desktop").resolve())]
    monkeypatch.setenv("APPIMAGE", "/home/me/Apps/Lumina_Desktop-0.1.0-x86_64.AppImage")
    assert desktop_entry.running_command() == ["/home/me/Apps/Lumina_Desktop-0.1.0-x86_64.AppImage"]
