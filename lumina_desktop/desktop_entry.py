"""The desktop entry (application-menu launcher and icons) of Lumina Desktop; no Qt.

One id everywhere (:data:`lumina_desktop.APP_ID`): the ``.desktop`` file, the hicolor icons, the
AppStream metainfo and the window's Wayland app id.  :func:`desktop_file_text` is the one source
of the entry; ``packaging/linux/<id>.desktop`` is its output for a system install, where the
program is ``lumina-desktop`` on the PATH.

``lumina-desktop --install-desktop-entry`` writes a per-user entry (XDG data folder, usually
``~/.local/share``) whose ``Exec`` is the absolute path of the program that ran the command: the
AppImage file, the bundle's executable, or the pip-installed script.  ``--uninstall-desktop-entry``
removes exactly those files.  Nothing outside the user's own data folder is touched.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from lumina_desktop import APP_ID, APP_NAME

PROGRAM = "lumina-desktop"
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)

_ENTRY = """\
[Desktop Entry]
Type=Application
Name={name}
GenericName=Photo Manager
Comment=Manage large photo libraries: find duplicates and bursts, nothing ever lost
Exec={exec}
Icon={id}
Terminal=false
Categories=Graphics;Photography;Viewer;Qt;
Keywords=photos;pictures;duplicates;bursts;catalog;
StartupWMClass={program}
StartupNotify=true
"""


def desktop_file_text(command: list[str] | None = None) -> str:
    """The ``.desktop`` file running ``command`` (default: ``lumina-desktop`` from the PATH)."""
    return _ENTRY.format(name=APP_NAME, id=APP_ID, program=PROGRAM,
                         exec=exec_line(command or [PROGRAM]))


def exec_line(command: list[str]) -> str:
    """``command`` as a desktop-entry ``Exec`` value (quoting rules of the Desktop Entry spec)."""
    out = []
    for arg in command:
        arg = arg.replace("%", "%%")
        if any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
            arg = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
        out.append(arg)
    # the file format's own escape comes last: a backslash in a string value is written twice
    return " ".join(out).replace("\\", "\\\\")


def running_command() -> list[str]:
    """How to start the program that is running now, as absolute paths."""
    if getattr(sys, "frozen", False):
        appimage = os.environ.get("APPIMAGE")
        return [appimage] if appimage else [str(Path(sys.executable).resolve())]
    script = Path(sys.executable).parent / PROGRAM          # a venv's or a prefix's bin/
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which(PROGRAM)
    if found:
        return [str(Path(found).resolve())]
    return [str(Path(sys.executable).resolve()), "-m", "lumina_desktop"]


def resources_dir() -> Path:
    """``resources/``: in the frozen bundle, the wheel (``lumina_desktop/resources``) or a source tree."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    here = Path(__file__).resolve().parent
    installed = here / "resources"
    return installed if installed.is_dir() else here.parent / "resources"


def data_home() -> Path:
    """``$XDG_DATA_HOME`` when set to an absolute path, else ``~/.local/share`` (XDG base dirs)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def entry_files(base: Path | None = None) -> list[Path]:
    """Every file the per-user entry consists of, under ``base`` (default :func:`data_home`)."""
    base = base or data_home()
    icons = base / "icons" / "hicolor"
    return [base / "applications" / f"{APP_ID}.desktop",
            *(icons / f"{n}x{n}" / "apps" / f"{APP_ID}.png" for n in ICON_SIZES),
            icons / "scalable" / "apps" / f"{APP_ID}.svg"]


def install(base: Path | None = None, command: list[str] | None = None) -> list[Path]:
    """Write the per-user entry and icons; returns the files written."""
    base = base or data_home()
    source = resources_dir() / "app-icon"
    written: list[Path] = []
    desktop, *icons = entry_files(base)
    for target in icons:
        size = target.parent.parent.name
        src = source / ("lumina.svg" if size == "scalable" else f"lumina-{size.split('x')[0]}.png")
        if src.is_file():
            _write_atomic(target, src.read_bytes())
            written.append(target)
    _write_atomic(desktop, desktop_file_text(command or running_command()).encode("utf-8"))
    written.append(desktop)
    _refresh_caches(base)
    return written


def uninstall(base: Path | None = None) -> list[Path]:
    """Remove what :func:`install` wrote (and only that); returns the files removed."""
    base = base or data_home()
    removed = []
    for path in entry_files(base):
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed.append(path)
    if removed:
        _refresh_caches(base)
    return removed


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _refresh_caches(base: Path) -> None:
    """Tell menus and icon themes to look again (best effort: the tools are optional)."""
    hicolor = base / "icons" / "hicolor"
    if hicolor.is_dir():
        os.utime(hicolor)                     # icon caches compare the theme folder's time
    tool = shutil.which("update-desktop-database")
    if tool and (base / "applications").is_dir():
        subprocess.run([tool, "-q", str(base / "applications")], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
