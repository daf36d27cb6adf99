"""Settings dialog (GUI thread): worker count, data folder, database URL, thumbnail cache size,
when previews are made, which jobs run by themselves after a scan, the theme.

Values are written to the one settings file (``config.write_settings_file``) by the caller on a
worker thread; they apply on the next start, which the dialog says — except the theme, which the
window applies at once (``SettingsSaver.theme_chosen``).
"""
from __future__ import annotations

import threading
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QDialogButtonBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lumina_desktop.config import Settings, write_settings_file
from lumina_desktop.core.errors import LuminaError


class PreferencesDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None, *,
                 stages: Sequence[tuple[str, str]] = ()) -> None:
        """``stages``: (kind name, title) of the jobs that run after a scan, from the registry."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.workers = QSpinBox()
        self.workers.setRange(1, 64)
        self.workers.setValue(settings.background_workers)
        self.workers.setToolTip("Threads that run scans and other background jobs (BACKGROUND_WORKERS)")
        self.data_dir = QLineEdit(str(settings.data_dir))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._on_browse_clicked)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(browse)
        self.database_url = QLineEdit(settings.database_url)
        self.database_url.setPlaceholderText("empty: Lumina's own built-in database server")
        self.database_url.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.cache_mb = QSpinBox()
        self.cache_mb.setRange(64, 1_000_000)
        self.cache_mb.setSingleStep(256)
        self.cache_mb.setSuffix(" MB")
        self.cache_mb.setValue(settings.thumbnail_cache_mb)
        self.previews = QComboBox()
        self.previews.addItem("In the background, after each scan (fast scans)", "job")
        self.previews.addItem("While scanning (slower scans, every preview ready at the end)", "scan")
        self.previews.addItem("Only when a photo is first shown large", "on_demand")
        self.previews.setCurrentIndex(max(0, self.previews.findData(settings.previews)))
        self.previews.setToolTip("When the 1280 px preview of each photo is made; grid thumbnails "
                                 "are always made while scanning")
        self.burst_gap = QDoubleSpinBox()
        self.burst_gap.setRange(0.1, 30.0)
        self.burst_gap.setDecimals(1)
        self.burst_gap.setSingleStep(0.1)
        self.burst_gap.setSuffix(" s")
        self.burst_gap.setValue(settings.burst_gap_s)
        self.burst_gap.setToolTip("The longest pause between two frames of one burst (same camera, and the "
                                  "picture must carry on from one frame to the next)")
        form = QFormLayout()
        form.addRow("Background workers:", self.workers)
        form.addRow("Data folder:", data_row)
        form.addRow("Database URL:", self.database_url)
        form.addRow("Thumbnail cache:", self.cache_mb)
        form.addRow("Make previews:", self.previews)
        form.addRow("Burst gap:", self.burst_gap)
        self.theme = QComboBox()
        self.theme.addItem("Dark (neutral grey, best for judging photos)", "dark")
        self.theme.addItem("Light", "light")
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.theme.setToolTip("The window's colours; also in View › Theme. Applies at once")
        form.addRow("Theme:", self.theme)
        self.stage_boxes: dict[str, QCheckBox] = {}
        for name, title in stages:  # each follow-on stage can be switched off
            box = QCheckBox(title)
            box.setChecked(name not in settings.disabled_follow_ons)
            box.setToolTip("Runs by itself for the new and changed photos after every scan")
            self.stage_boxes[name] = box
            form.addRow("After a scan:" if len(self.stage_boxes) == 1 else "", box)
        note = QLabel("The theme changes at once; other changes apply the next time Lumina starts. "
                      f"Settings file: {settings.settings_path}")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(buttons)

    def _on_browse_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Data folder", self.data_dir.text())
        if path:
            self.data_dir.setText(path)

    def changed_values(self) -> dict[str, Any]:
        """Settings that differ from the current ones (``None`` removes a key: back to default)."""
        out: dict[str, Any] = {}
        if self.workers.value() != self.settings.background_workers:
            out["background_workers"] = self.workers.value()
        if self.data_dir.text().strip() != str(self.settings.data_dir):
            out["data_dir"] = self.data_dir.text().strip() or None
        if self.database_url.text().strip() != self.settings.database_url:
            out["database_url"] = self.database_url.text().strip() or None
        if self.cache_mb.value() != self.settings.thumbnail_cache_mb:
            out["thumbnail_cache_mb"] = self.cache_mb.value()
        if abs(self.burst_gap.value() - self.settings.burst_gap_s) > 1e-9:
            out["burst_gap_s"] = round(self.burst_gap.value(), 1)
        if self.previews.currentData() != self.settings.previews:
            out["previews"] = self.previews.currentData()
        if self.theme.currentData() != self.settings.theme:
            out["theme"] = self.theme.currentData()
        off = tuple(sorted({*self.settings.disabled_follow_ons} - set(self.stage_boxes)
                           | {n for n, box in self.stage_boxes.items() if not box.isChecked()}))
        if off != tuple(sorted(self.settings.disabled_follow_ons)):
            out["disabled_follow_ons"] = list(off) or None
        return out


class SettingsSaver(QObject):
    """Writes changed settings on the interactive lane; a failure comes back as ``failed``."""

    failed = Signal(str)
    theme_chosen = Signal(str)   # the dialog changed the theme: the window applies it now

    def __init__(self, io: Executor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.io = io
        self._pending: dict[Path, dict[str, Any]] = {}   # values not yet written, latest last
        self._pending_lock = threading.Lock()            # short: the GUI thread never waits on a write
        self._write_lock = threading.Lock()              # one writer at a time (read-merge-replace)

    def edit(self, settings: Settings, parent: QWidget, stages: Sequence[tuple[str, str]] = ()) -> bool:
        """Show the dialog; True if changes were handed over for saving."""
        dlg = PreferencesDialog(settings, parent, stages=stages)
        if not (dlg.exec() and (values := dlg.changed_values())):
            return False
        self.save(settings.settings_path, values)
        if "theme" in values:
            self.theme_chosen.emit(values["theme"])
        return True

    def save(self, path: Path, values: dict[str, Any]) -> None:
        """Merge ``values`` into the settings file at ``path``, off the GUI thread.  Saves in quick
        succession (a theme switched back and forth) are written in order: the latest value wins."""
        with self._pending_lock:
            self._pending.setdefault(path, {}).update(values)
        self.io.submit(self._write_pending)

    def _write_pending(self) -> None:  # worker thread
        with self._write_lock:
            with self._pending_lock:
                pending, self._pending = self._pending, {}
            for path, values in pending.items():
                try:
                    write_settings_file(path, values)
                except (OSError, LuminaError) as exc:
                    self.failed.emit(f"Settings were not saved: {exc}")
