"""Where the time of one ingest goes: per-stage milliseconds on a sample of the ingest corpus.

    python tests/benchmarks/bench_ingest_stages.py [--corpus /tmp/lumina-bench-corpus-camera] [--sample 120]

Uses the corpus ``bench_ingest.py`` builds (run that first).  Single thread.  Prints the mean
milliseconds per image of: the libjpeg-turbo decode at each useful n/8 scale, Pillow's JPEG
encode of the preview and the grid thumbnail, the grid resize, both identity hashes, and the
whole ``analyse_file`` with both sizes and with the grid size only.  These bound what full
ingest can cost (see the issue-4 note: the preview alone needs a ≥ 1/2-scale decode plus a
1–1.6 MP encode).  The last line is JSON.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import simplejpeg
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lumina_desktop.analysis import hashing, thumbnails  # noqa: E402
from lumina_desktop.analysis.decode import jpeg_scale  # noqa: E402
from lumina_desktop.analysis.ingest import analyse_file  # noqa: E402
from lumina_desktop.analysis.perceptual import reduce_to  # noqa: E402


def mean_ms(items: list, fn: Callable) -> float:  # type: ignore[type-arg]
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) * 1000 / len(items)


def decode_at(eighths: int) -> Callable[[bytes], object]:
    def run(data: bytes) -> object:
        h, w, _, _ = simplejpeg.decode_jpeg_header(data)
        return simplejpeg.decode_jpeg(data, "RGB", min_width=-(-w * eighths // 8))
    return run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="/tmp/lumina-bench-corpus-camera")
    ap.add_argument("--sample", type=int, default=120)
    args = ap.parse_args()
    files = sorted(Path(args.corpus).glob("d*/*.jpg"))
    if not files:
        raise SystemExit(f"no corpus in {args.corpus}: run tests/benchmarks/bench_ingest.py first")
    random.Random(1).shuffle(files)
    files = files[: args.sample]
    datas = [p.read_bytes() for p in files]
    band = thumbnails.decode_band(thumbnails.DEFAULT_SIZES)

    def preview(data: bytes) -> Image.Image:
        h, w, _, _ = simplejpeg.decode_jpeg_header(data)
        n = jpeg_scale(max(w, h), band)
        return Image.fromarray(simplejpeg.decode_jpeg(data, "RGB", min_width=-(-w * n // 8)))

    previews = [preview(d) for d in datas]
    grids = [reduce_to(im, 256) for im in previews]
    analyse_file(files[0])  # warm-up: plugin registration, sRGB profile
    res = {
        "decode_1_8_ms": mean_ms(datas, decode_at(1)),
        "decode_1_4_ms": mean_ms(datas, decode_at(2)),
        "decode_3_8_ms": mean_ms(datas, decode_at(3)),
        "decode_1_2_ms": mean_ms(datas, decode_at(4)),
        "decode_full_ms": mean_ms(datas, decode_at(8)),
        "decode_preview_band_ms": mean_ms(datas, preview),
        "encode_preview_ms": mean_ms(previews, thumbnails.encode_jpeg),
        "grid_resize_ms": mean_ms(previews, lambda im: reduce_to(im, 256)),
        "encode_grid_ms": mean_ms(grids, thumbnails.encode_jpeg),
        "identity_hashes_ms": mean_ms(datas, lambda d: hashing.identify(d, "JPEG")),
        "analyse_file_both_sizes_ms": mean_ms(files, analyse_file),
        "analyse_file_grid_only_ms": mean_ms(files, lambda p: analyse_file(p, thumb_sizes=(256,))),
        "preview_mean_mp": sum(im.width * im.height for im in previews) / len(previews) / 1e6,
    }
    sizes = [max(im.size) for im in previews]
    res["preview_long_edge_min"], res["preview_long_edge_max"] = min(sizes), max(sizes)
    print(f"{len(files)} files from {args.corpus}\n")
    for k, v in res.items():
        print(f"{k:<32}{v:>10.2f}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
