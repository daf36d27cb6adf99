"""Benchmark analyse_file on real photos (not collected by pytest; run by hand).

    .venv/bin/python tests/analysis/bench_analyse_file.py [FILE ...]

Prints, per file, the best and median wall time of analyse_file with the default
thumbnail sizes (256 + 1280) and with the grid size only (256), then the throughput of
two worker threads.  Defaults to a few 12–24 MP JPEGs from ../shared/photos.
"""
from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lumina_desktop.analysis.ingest import analyse_file

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "photos"
DEFAULT = [
    "exif-samples/jpg/tests/42_IndexError.jpg",  # 12 MP baseline (Olympus E-P3)
    "immich-test-assets/albums/text/book-beside-flowers.jpg",  # 12 MP progressive
    "immich-test-assets/albums/text/craft-beer.jpg",  # 24 MP progressive
    "immich-test-assets/formats/heic/IMG_2682.heic",  # 12 MP HEIC (iPhone 7)
]


def _times(path: Path, repeats: int, **kwargs: object) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        analyse_file(path, **kwargs)  # type: ignore[arg-type]
        out.append((time.perf_counter() - start) * 1000)
    return out


def main(argv: list[str]) -> None:
    files = [Path(a) for a in argv] or [PHOTOS / p for p in DEFAULT if (PHOTOS / p).exists()]
    if not files:
        sys.exit("no files to benchmark")
    analyse_file(files[0])  # warm-up: imports, plugin registration, sRGB profile
    for path in files:
        full = _times(path, 9)
        grid = _times(path, 9, thumb_sizes=(256,))
        print(f"{path.name:40s} 256+1280: best {min(full):6.1f} ms, median "
              f"{statistics.median(full):6.1f} | 256 only: best {min(grid):6.1f} ms, "
              f"median {statistics.median(grid):6.1f}")
    batch = files * 4
    for workers in (1, 2):
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(analyse_file, batch))
        per_file = (time.perf_counter() - start) * 1000 / len(batch)
        print(f"{workers} worker thread(s): {per_file:6.1f} ms per file ({1000 / per_file:.1f}/s)")


if __name__ == "__main__":
    main(sys.argv[1:])
