"""Long and odd file names keep the layout: the details panel stays narrow, the grid shows one line."""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from tests.ui.fakes import FakePhotos, FakePictures
from lumina_desktop.core.library import PhotoDetails
from lumina_desktop.services.describe import ZERO_WIDTH_SPACE, breakable, display_name

pytestmark = [pytest.mark.ui]
LONG = "Familienurlaub_Sommer_2024_Ostsee_Strand_Sonnenuntergang_" * 4 + "IMG_0001.jpg"  # 244 characters


def test_display_name_is_one_line() -> None:
    assert display_name("holiday\nphoto.jpg") == "holiday⏎photo.jpg"
    assert display_name("tab\there\x01.jpg") == "tab\ufffdhere\ufffd.jpg"
    assert breakable(LONG).replace(ZERO_WIDTH_SPACE, "") == LONG  # only invisible break points added
    assert max(len(part) for part in breakable("x" * 100).split(ZERO_WIDTH_SPACE)) <= 24


def test_a_word_wrapped_label_wraps_a_244_character_name(qtbot) -> None:  # type: ignore[no-untyped-def]
    label = QLabel()
    qtbot.addWidget(label)
    label.setWordWrap(True)
    label.setText(LONG.replace("_", "x"))  # one "word": the label grows to its width
    assert label.minimumSizeHint().width() > 1000
    label.setText(breakable(LONG.replace("_", "x")))
    assert label.minimumSizeHint().width() < 300


def test_the_details_panel_stays_narrow_with_a_244_character_name(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.ui.widgets.details_panel import DetailsPanel, DetailsResult

    values = {f.name: None for f in dataclasses.fields(PhotoDetails)}
    values.update(id=1, catalog_id=1, path=f"/home/me/Pictures/{LONG}", file_name=LONG, status="ok",
                  keywords=(), warnings=(), thumb_sizes=(), content_hash="ab" * 32)
    details = PhotoDetails(**values)
    with ThreadPoolExecutor(1) as pool:
        panel = DetailsPanel(pool, FakePhotos(), FakePictures())
        qtbot.addWidget(panel)
        panel.resize(320, 800)
        panel.show()
        panel._on_details_loaded(panel._token, DetailsResult(details, None))  # noqa: SLF001
        assert panel.minimumSizeHint().width() <= 340, panel.minimumSizeHint()
        # the labels inside its scroll area wrap instead of growing to the name's width
        for label in (panel.title_label, panel.values["Path"], panel.values["Content hash"]):
            assert label.minimumSizeHint().width() < 320, (label.text()[:40], label.minimumSizeHint())
        assert panel.title_label.text().replace(ZERO_WIDTH_SPACE, "") == LONG
