"""Jobs panel: every running and recent job with a progress bar, Cancel / Resume and its errors (GUI thread).

Fed only by ``JobBridge.jobs_updated``; every Cancel button calls ``JobBridge.cancel`` →
``BatchManager.cancel(job_id)`` on a worker thread, shows "Cancelling…", then the final state.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lumina_desktop.core.jobs import JobSnapshot, JobState
from lumina_desktop.services.describe import STATE_TEXT, JobWording, format_eta

class JobRowWidget(QFrame):
    cancel_clicked = Signal(int)
    resume_clicked = Signal(int)
    errors_clicked = Signal(int)

    def __init__(self, job: JobSnapshot, wording: JobWording, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_id = job.id
        self.wording = wording
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        f = self.title.font()
        f.setBold(True)
        self.title.setFont(f)
        self.state_label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setMaximumHeight(18)
        self.detail = QLabel()
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.cancel_button = QPushButton("Cancel")
        self.resume_button = QPushButton("Resume")
        self.errors_button = QPushButton()
        self.errors_button.setFlat(True)
        self.errors_button.setStyleSheet("color: palette(link); text-decoration: underline;")
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.resume_button.clicked.connect(lambda: self.resume_clicked.emit(self.job_id))
        self.errors_button.clicked.connect(lambda: self.errors_clicked.emit(self.job_id))
        # one line per job, so the dock shows several without scrolling; long texts are cut, in full as tooltips
        for label in (self.title, self.detail):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 3, 6, 3)
        lay.setSpacing(8)
        lay.addWidget(self.title, 3)
        lay.addWidget(self.bar, 3)
        lay.addWidget(self.detail, 4)
        lay.addWidget(self.errors_button)
        lay.addWidget(self.state_label)
        lay.addWidget(self.cancel_button)
        lay.addWidget(self.resume_button)
        self._cancel_pending = False
        self.update_job(job)

    def _on_cancel_button_clicked(self) -> None:
        self._cancel_pending = True
        self.cancel_button.setText("Cancelling…")
        self.cancel_button.setEnabled(False)
        self.cancel_clicked.emit(self.job_id)

    def update_job(self, job: JobSnapshot) -> None:
        self.job = job
        self.title.setText(self.wording.title(job))
        self.title.setToolTip(self.title.text())
        self.state_label.setText(STATE_TEXT[job.state])
        value = int(round(job.fraction * 1000))
        self.bar.setValue(max(self.bar.value(), value) if job.state.is_active else value)
        self.bar.setFormat(f"{job.fraction * 100:.0f} %")
        self.detail.setText(self.wording.detail(job))
        self.detail.setToolTip(self.detail.text())
        can_cancel = job.state in (JobState.PENDING, JobState.RUNNING, JobState.CANCELLING)
        self.cancel_button.setVisible(can_cancel)
        if job.state == JobState.CANCELLING or (self._cancel_pending and job.state.is_active):
            self.cancel_button.setText("Cancelling…")
            self.cancel_button.setEnabled(False)
        elif can_cancel:
            self.cancel_button.setText("Cancel")
            self.cancel_button.setEnabled(True)
        if not job.state.is_active:
            self._cancel_pending = False
        self.resume_button.setVisible(job.state.can_resume)
        self.errors_button.setVisible(job.item_errors > 0)
        self.errors_button.setText(f"{job.item_errors:,} error{'s' if job.item_errors != 1 else ''}")


class JobErrorsDialog(QDialog):
    """The per-item errors of one job."""

    def __init__(self, job_id: int, errors: tuple[Any, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Errors of job #{job_id}")
        self.resize(900, 420)
        self.table = QTableWidget(len(errors), 3)
        self.table.setHorizontalHeaderLabels(["File", "Reason", "Details"])
        for r, e in enumerate(errors):
            for c, text in enumerate((e.item, e.error_class.replace("_", " "), e.message)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.resizeColumnToContents(1)
        self.table.setColumnWidth(0, 380)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"{len(errors):,} file(s) could not be processed; the job went on with the rest."))
        lay.addWidget(self.table)
        lay.addWidget(buttons)


class JobPanel(QWidget):
    """List of job rows, newest first, active ones on top; shows what the bridge reports."""

    summary_changed = Signal(str)

    def __init__(self, bridge: Any, wording: JobWording, parent: QWidget | None = None, *, max_rows: int = 30) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.wording = wording
        self.max_rows = max_rows
        self.rows: dict[int, JobRowWidget] = {}
        self.jobs: dict[int, JobSnapshot] = {}
        self.dialogs: list[JobErrorsDialog] = []
        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(4, 4, 4, 4)
        self._list_layout.setSpacing(3)
        self._list_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._list)
        self.empty_label = QLabel("No jobs yet. Scans and other long tasks appear here with a Cancel button.")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.empty_label)
        lay.addWidget(scroll, 1)
        bridge.jobs_updated.connect(self._on_bridge_jobs_updated)
        bridge.errors_loaded.connect(self._on_bridge_errors_loaded)

    def _on_bridge_jobs_updated(self, snapshots: tuple[JobSnapshot, ...]) -> None:
        for job in snapshots:
            self.jobs[job.id] = job
            row = self.rows.get(job.id)
            if row is None:
                row = JobRowWidget(job, self.wording)
                row.cancel_clicked.connect(self.bridge.cancel)
                row.resume_clicked.connect(self.bridge.resume)
                row.errors_clicked.connect(self.bridge.load_errors)
                self.rows[job.id] = row
            else:
                row.update_job(job)
        self._relayout()
        self.summary_changed.emit(self.summary())

    def _relayout(self) -> None:
        order = sorted(self.jobs.values(), key=lambda j: (not (j.state.is_active or j.state == JobState.INTERRUPTED), -j.id))
        keep = order[: self.max_rows]
        for job_id in [j for j in self.rows if j not in {k.id for k in keep}]:
            self.rows.pop(job_id).deleteLater()
            self.jobs.pop(job_id, None)
        for i, job in enumerate(keep):
            row = self.rows[job.id]
            if self._list_layout.indexOf(row) != i:
                self._list_layout.insertWidget(i, row)
        self.empty_label.setVisible(not self.rows)

    def _on_bridge_errors_loaded(self, job_id: int, errors: tuple[Any, ...]) -> None:
        dlg = JobErrorsDialog(job_id, errors, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.finished.connect(lambda _=0, d=dlg: self.dialogs.remove(d) if d in self.dialogs else None)
        self.dialogs.append(dlg)
        dlg.show()

    def mark_stopped(self, job_ids: Sequence[int]) -> None:
        """Show jobs as interrupted now (the database that would say so is gone)."""
        for job_id in job_ids:
            job = self.jobs.get(job_id)
            if job is not None and job.state.is_active:
                self.jobs[job_id] = dataclasses.replace(job, state=JobState.INTERRUPTED)
                self.rows[job_id].update_job(self.jobs[job_id])
        self.summary_changed.emit(self.summary())

    def active_jobs(self) -> list[JobSnapshot]:
        return [j for j in self.jobs.values() if j.state.is_active]

    def summary(self) -> str:
        active = sorted(self.active_jobs(), key=lambda j: j.id)
        if not active:
            return ""
        first = active[0]
        text = f"{self.wording.name(first)}: {first.fraction * 100:.0f} %"
        eta = format_eta(first.progress.eta_s if first.progress else None)
        if eta:
            text += f", {eta}"
        if len(active) > 1:
            text += f"  (+{len(active) - 1} more job{'s' if len(active) > 2 else ''})"
        return text
