"""The first-run / empty-catalog page (GUI thread)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class EmptyStateWidget(QWidget):
    """Big friendly message with one obvious action."""

    add_folder_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Your catalog is empty")
        f = QFont(self.title.font())
        f.setPointSizeF(f.pointSizeF() * 1.8)
        f.setBold(True)
        self.title.setFont(f)
        self.body = QLabel("Add a folder of photos to get started. Lumina scans it in the background,\n"
                           "makes thumbnails and finds duplicates and bursts. Your files are never changed.\n"
                           "You can also drag a folder onto this window.")
        self.body.setWordWrap(True)
        self.button = QPushButton("Add folder…")
        self.button.setDefault(True)
        self.button.setMinimumWidth(180)
        self.button.clicked.connect(self.add_folder_requested)
        lay = QVBoxLayout(self)
        lay.addStretch(2)
        for w in (self.title, self.body):
            w.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            lay.addWidget(w)
        lay.addSpacing(16)
        lay.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(3)

    def show_message(self, title: str, body: str, *, can_add: bool) -> None:
        self.title.setText(title)
        self.body.setText(body)
        self.button.setVisible(can_add)
