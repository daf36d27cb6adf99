"""``lumina-desktop tags run|list|search``: a real scan, the tags job, one row per tag in table, CSV
and JSON, search with synonyms, and one clear line for a mistake."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from lumina_desktop.cli import run_cli

pytestmark = pytest.mark.db


def cli(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = run_cli(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_tags_run_list_and_search(test_db, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = ["--database-url", test_db.conninfo, "--data-dir", str(tmp_path / "data")]
    pics = tmp_path / "pics"
    pics.mkdir()
    Image.new("RGB", (2400, 800), (30, 120, 200)).save(pics / "wide.jpg", quality=90)
    Image.linear_gradient("L").resize((900, 600)).convert("RGB").save(pics / "grey.jpg", quality=90)
    assert cli(capsys, *url, "scan", str(pics), "--catalog", "Tagged")[0] == 0
    code, out, err = cli(capsys, *url, "tags", "run", "--catalog", "Tagged", "--no-faces")
    assert code == 0, err
    assert "tags in 'Tagged': succeeded" in out and "2 photos tagged" in out

    code, out, _ = cli(capsys, *url, "tags", "list", "--catalog", "Tagged", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["path", "tag", "confidence", "source"]
    pairs = {(Path(r["path"]).name, r["tag"], r["source"]) for r in rows}
    assert ("wide.jpg", "panorama", "heuristic") in pairs and ("grey.jpg", "black and white", "heuristic") in pairs
    assert all(0.3 <= float(r["confidence"]) <= 1 for r in rows)          # low-confidence tags hidden
    code, out, _ = cli(capsys, *url, "tags", "list", "--catalog", "Tagged", "--format", "json", "--min-confidence", "0")
    every = json.loads(out)
    assert len(every) > len(rows) and {"model"} <= {r["source"] for r in every}
    code, out, _ = cli(capsys, *url, "tags", "list", "--catalog", "Tagged")
    assert code == 0 and "panorama" in out and "heuristic" in out

    code, out, _ = cli(capsys, *url, "tags", "search", "panoramic", "--catalog", "Tagged")
    assert code == 0 and out.strip().endswith("wide.jpg") and "grey.jpg" not in out
    code, out, _ = cli(capsys, *url, "tags", "search", "monochrome, pano", "--catalog", "Tagged")
    assert code == 0 and len(out.strip().splitlines()) == 2
    code, out, _ = cli(capsys, *url, "tags", "search", "giraffe", "--catalog", "Tagged")
    assert code == 1 and "no photos" in out

    code, _, err = cli(capsys, *url, "tags", "list", "--catalog", "Nope")
    assert code == 1 and err.strip() == "lumina-desktop: error: no catalog named 'Nope'"
    with pytest.raises(SystemExit) as e:
        run_cli([*url, "tags", "list", "--min-confidence", "2"])
    assert e.value.code == 2 and "between 0 and 1" in capsys.readouterr().err
