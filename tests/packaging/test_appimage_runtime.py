"""The AppImage runtime (packaging/appimage/runtime.c) on a tiny image: offset, extract-and-run, cache."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC_LIB = Path("/usr/lib/x86_64-linux-gnu/libsquashfs.a")

needs_tools = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("mksquashfs") and STATIC_LIB.exists()),
    reason="gcc, squashfs-tools and libsquashfs-dev are installed by packaging/build.sh")


def test_scripts_parse() -> None:
    for script in ("build.sh", "smoke.sh"):
        path = ROOT / "packaging" / script
        assert os.access(path, os.X_OK), f"{script} is not executable"
        res = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, res.stderr


@needs_tools
def test_runtime_extracts_once_and_runs_apprun(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    res = subprocess.run(["gcc", "-static", "-Os", "-o", str(runtime), str(ROOT / "packaging/appimage/runtime.c"),
                          "-lsquashfs", "-lzstd", "-llzma", "-lz", "-llz4", "-llzo2"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    appdir = tmp_path / "AppDir"
    (appdir / "usr" / "share").mkdir(parents=True)
    (appdir / "usr" / "share" / "data.txt").write_text("payload\n" * 5000)
    (appdir / "link").symlink_to("usr/share/data.txt")
    apprun = appdir / "AppRun"
    apprun.write_text('#!/bin/sh\necho "args=$*"; echo "appimage=$APPIMAGE"; echo "appdir=$APPDIR"\n'
                      'cat "$APPDIR/link" | wc -l\n')
    apprun.chmod(0o755)
    image = tmp_path / "image.sqfs"
    subprocess.run(["mksquashfs", str(appdir), str(image), "-root-owned", "-noappend", "-comp", "zstd", "-quiet"],
                   check=True, capture_output=True, timeout=120)
    app = tmp_path / "Test.AppImage"
    app.write_bytes(runtime.read_bytes() + image.read_bytes())
    app.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "cache")}

    out = subprocess.run([str(app), "--appimage-offset"], capture_output=True, text=True, env=env, timeout=30)
    assert int(out.stdout) == runtime.stat().st_size

    first = subprocess.run([str(app), "hello", "world"], capture_output=True, text=True, env=env, timeout=60)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "args=hello world"
    assert lines[1] == f"appimage={app}"
    extracted = Path(lines[2].removeprefix("appdir="))
    assert extracted.parent == tmp_path / "cache" / "lumina-appimage"
    assert lines[3].strip() == "5000"
    assert os.stat(extracted / "AppRun").st_mode & 0o111
    stamp = (extracted / ".extracted").stat().st_mtime_ns

    again = subprocess.run([str(app), "--appimage-extract-and-run", "x"], capture_output=True, text=True,
                           env=env, timeout=60)
    assert again.stdout.splitlines()[0] == "args=x"
    assert (extracted / ".extracted").stat().st_mtime_ns == stamp, "the second start must reuse the extraction"

    # a rebuilt image replaces the old extraction
    (appdir / "usr" / "share" / "data.txt").write_text("payload\n" * 7)
    subprocess.run(["mksquashfs", str(appdir), str(image), "-root-owned", "-noappend", "-quiet"],
                   check=True, capture_output=True, timeout=120)
    app.write_bytes(runtime.read_bytes() + image.read_bytes())
    third = subprocess.run([str(app)], capture_output=True, text=True, env=env, timeout=60)
    assert third.stdout.splitlines()[3].strip() == "7"
    assert [p.name for p in (tmp_path / "cache" / "lumina-appimage").iterdir()] == [
        Path(third.stdout.splitlines()[2].removeprefix("appdir=")).name]

    work = tmp_path / "work"
    work.mkdir()
    subprocess.run([str(app), "--appimage-extract"], cwd=work, check=True, capture_output=True, env=env, timeout=60)
    assert (work / "squashfs-root" / "link").is_symlink()
    assert (work / "squashfs-root" / "usr" / "share" / "data.txt").read_text() == "payload\n" * 7
