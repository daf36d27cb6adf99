"""NoticeBar: a one-line offer above the main view — "Find duplicates: 24 groups … [Review] [×]" (GUI thread).

It never blocks and never steals the keyboard; a newer notice replaces the one shown, and it
hides itself after its action is taken or it is dismissed (× or Esc while it has focus).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QWidget


class NoticeBar(QFrame):
    """``offer(text, button_text, key)``; ``accepted(key)`` when its button is pressed."""

    accepted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notice_bar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.key = ""
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)            # a long message wraps; it never widens the window
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.button = QPushButton()
        self.button.clicked.connect(self._on_button_clicked)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.dismiss)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 4, 4, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.button)
        lay.addWidget(self.close_button)
        self.hide()

    def offer(self, text: str, button_text: str, key: str) -> None:
        self.key = key
        self.label.setText(text[:1].upper() + text[1:])
        self.button.setText(button_text)
        self.show()

    def dismiss(self) -> None:
        self.key = ""
        self.hide()

    def _on_button_clicked(self) -> None:
        key = self.key
        self.dismiss()
        self.accepted.emit(key)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.dismiss()
            return
        super().keyPressEvent(event)
