"""Soak: many short CLI commands from concurrent processes on one data folder, the embedded
server stopping and starting in between.  Counts failures (the target is 0) and command latency.

    python tests/benchmarks/bench_soak.py [--commands 200] [--procs 8] [--stop-every 40]

The mix: ``scan`` (rescans of small folders), ``catalog list``, ``jobs list``, ``duplicates list``
and ``duplicates find``.  Each command is its own process, as a user or script would run it; the
server is started by whichever command needs it and stopped by the last one out (and by a
``db stop`` between rounds of ``--stop-every`` commands).  A failure is a non-zero exit or a
traceback.  Prints a table; the last line is JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    kind: str
    code: int
    seconds: float
    error: str


def make_photos(root: Path, folders: int = 4, per_folder: int = 6) -> list[Path]:
    from PIL import Image

    rng = random.Random(16)
    made = []
    for f in range(folders):
        d = root / f"folder{f}"
        d.mkdir(parents=True)
        for i in range(per_folder):
            img = Image.new("RGB", (96, 64), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
            for _ in range(40):
                x, y = rng.randrange(96), rng.randrange(64)
                img.putpixel((x, y), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
            img.save(d / f"p{i}.jpg", quality=90)
        shutil.copy(d / "p0.jpg", d / "copy-of-p0.jpg")  # one duplicate per folder
        made.append(d)
    return made


def run(data: Path, env: dict[str, str], *args: str) -> tuple[int, str, float]:
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "lumina_desktop", "--data-dir", str(data), *args],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    return res.returncode, res.stderr, time.monotonic() - t0


def commands(n: int, folders: list[Path], seed: int = 16) -> list[tuple[str, list[str]]]:
    rng = random.Random(seed)
    out: list[tuple[str, list[str]]] = []
    for _ in range(n):
        kind = rng.choice(["scan", "list", "jobs", "duplicates"])
        if kind == "scan":
            out.append(("scan", ["scan", str(rng.choice(folders))]))
        elif kind == "list":
            out.append(("list", ["catalog", "list"]))
        elif kind == "jobs":
            out.append(("jobs", ["jobs", "list", "--limit", "5"]))
        else:
            out.append(("duplicates", rng.choice([["duplicates", "list"], ["duplicates", "list"], ["duplicates", "find"]])))
    return out


def server_starts(data: Path) -> int:
    logs = list(data.glob("postgres/server.log")) + list(Path("/var/lib/lumina-desktop/clusters").glob("*/server.log"))
    for log in logs:
        try:
            return log.read_text(errors="replace").count("database system is ready to accept connections")
        except OSError:
            continue
    return 0


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=int, default=200)
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--stop-every", type=int, default=40, help="run 'db stop' between rounds of this many")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="lumina-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)  # the server account (when we are root) must reach it
    data = work / "data"
    env = {**os.environ, "LUMINA_CONFIG_DIR": str(work / "config")}
    folders = make_photos(work / "photos")
    try:
        for folder in folders:  # a catalog and its folders exist before the crowd comes
            code, err, _ = run(data, env, "scan", str(folder))
            if code != 0:
                raise SystemExit(f"setup scan failed: {err}")
        starts0 = server_starts(data)
        plan = commands(args.commands, folders)
        results: list[Result] = []
        stops = 0

        def one(item: tuple[str, list[str]]) -> Result:
            time.sleep(random.uniform(0, 0.3))  # think time: now and then nobody uses the server
            code, err, secs = run(data, env, *item[1])
            bad = code != 0 or "Traceback" in err
            return Result(item[0], code if not bad or code else 1, secs,
                          (err.strip().splitlines() or ["?"])[-1] if bad else "")

        t0 = time.monotonic()
        with ThreadPoolExecutor(args.procs) as pool:
            for i in range(0, len(plan), args.stop_every):
                results.extend(pool.map(one, plan[i:i + args.stop_every]))
                if i + args.stop_every < len(plan):
                    code, err, _ = run(data, env, "db", "stop")
                    stops += 1
                    if code != 0:
                        results.append(Result("db stop", code, 0.0, err.strip()))
        wall = time.monotonic() - t0
        starts = server_starts(data) - starts0
    finally:
        subprocess.run([sys.executable, "-m", "lumina_desktop", "--data-dir", str(data), "db", "stop"],
                       capture_output=True, cwd=ROOT, env=env)
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)

    failures = [r for r in results if r.code != 0]
    print(f"{'kind':<12}{'n':>5}{'fail':>6}{'p50 s':>8}{'p95 s':>8}{'max s':>8}")
    for kind in ("scan", "list", "jobs", "duplicates"):
        secs = [r.seconds for r in results if r.kind == kind]
        if secs:
            print(f"{kind:<12}{len(secs):>5}{sum(1 for r in results if r.kind == kind and r.code):>6}"
                  f"{statistics.median(secs):>8.2f}{pct(secs, 95):>8.2f}{max(secs):>8.2f}")
    all_secs = [r.seconds for r in results if r.kind != "db stop"]
    print(f"{'all':<12}{len(all_secs):>5}{len(failures):>6}{statistics.median(all_secs):>8.2f}"
          f"{pct(all_secs, 95):>8.2f}{max(all_secs):>8.2f}")
    print(f"{args.procs} processes, {wall:.0f} s wall; server started {starts} times, 'db stop' run {stops} times")
    for r in failures[:10]:
        print(f"FAILED {r.kind}: exit {r.code}: {r.error}")
    print(json.dumps({"commands": len(all_secs), "procs": args.procs, "failures": len(failures),
                      "p50_s": round(statistics.median(all_secs), 3), "p95_s": round(pct(all_secs, 95), 3),
                      "max_s": round(max(all_secs), 3), "server_starts": starts, "db_stops": stops,
                      "wall_s": round(wall, 1)}))


if __name__ == "__main__":
    main()
