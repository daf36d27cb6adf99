"""File names with terminal escape sequences, carriage returns, newlines, C1 controls and bytes
that are not UTF-8 are printed escaped by every CLI listing, never raw."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from lumina_desktop.cli import run_cli
from lumina_desktop.core.text import printable

# what a terminal acts on: C0 controls but the line feed that ends each printed line, DEL, C1
# controls, lone surrogates, bidi overrides and line separators
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\u2028\u2029]")
HOSTILE = [
    "esc\x1b[2J\x1b]0;pwned\x07", "cr\rover", "nl\nforged line", "tab\there", "c1\x9b31m", "del\x7f",
    "bad\udcff\udc80byte", "rlo\u202egpj.exe", "ls\u2028ps\u2029", "nul\x00", "bell\x07",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_printable_leaves_nothing_a_terminal_acts_on(text: str) -> None:
    shown = printable(text)
    assert not RAW.search(shown), repr(shown)
    shown.encode("utf-8")  # no lone surrogate left: printing cannot fail
    assert "\n" not in shown and len(shown) >= len(text)


def test_printable_keeps_ordinary_text_and_shows_escapes_readably() -> None:
    for text in ("plain.jpg", "café/日本/😀‍👦 photo (1).jpg", "C:\\Users\\me", "nbsp\u00a0name", ""):
        assert printable(text) == text
    assert printable("a\x1b[31mb") == "a\\x1b[31mb"
    assert printable("x\r\ny\t") == "x\\r\\ny\\t"
    assert printable("bad\udcffname") == "bad\\xffname"   # the byte that was not UTF-8
    assert printable("\u202e") == "\\u202e"
    assert printable(Path("/tmp/a\x1bb")) == "/tmp/a\\x1bb"


@pytest.mark.db
def test_cli_listings_escape_hostile_file_names(test_db, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.jobs.test_scan import make_jpeg

    pics = tmp_path / "pics"
    good = make_jpeg(pics / "esc\x1b[2J\x1b]0;pwned\x07.jpg", 1)
    shutil.copyfile(good, pics / "copy\r\nforged line\x9b31m.jpg")        # a byte-identical duplicate
    (pics / "broken\x1b[5m.jpg").write_bytes(b"")                          # an item error naming it
    os.close(os.open(os.fsencode(pics) + b"/notutf8\xff\x1b[1m.jpg", os.O_CREAT | os.O_WRONLY, 0o644))
    url = ["--database-url", test_db.conninfo, "--data-dir", str(tmp_path / "data")]

    def run(*args: str) -> str:
        code = run_cli([*url, *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        for stream in (out, err):
            bad = RAW.findall(stream.replace("\r#", "#"))  # (the progress bar's own carriage returns)
            assert not bad, (args, bad, stream)
        assert code in (0, 1), (args, code, err)
        return out

    out = run("scan", str(pics), "--all")
    job_id = int(re.search(r"jobs show (\d+)", out).group(1))  # type: ignore[union-attr]
    shown = run("jobs", "show", str(job_id), "--errors", "10")
    assert "broken\\x1b[5m.jpg" in shown and "notutf8\\xff\\x1b[1m.jpg" in shown
    dupes = run("duplicates", "list")
    assert "esc\\x1b[2J\\x1b]0;pwned\\x07.jpg" in dupes and "copy\\r\\nforged line\\x9b31m.jpg" in dupes
    assert len([ln for ln in dupes.splitlines() if ".jpg" in ln]) == 2     # no forged line
    quality = run("quality", "list")
    assert "esc\\x1b[2J" in quality
    run("bursts", "list")
    run("jobs", "list")
