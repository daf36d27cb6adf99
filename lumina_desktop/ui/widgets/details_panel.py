"""DetailsPanel: the selected photo's metadata and a larger preview (GUI thread).

The catalog row and the 1280 px preview (made now if the catalog makes previews on demand)
are read and decoded in one call on the interactive
lane (:func:`load_details`), which returns immutable values; a request token drops answers
for a photo that is no longer selected.  Formatting helpers are pure functions.
"""
from __future__ import annotations

import html
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QImage, QKeyEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QFormLayout, QFrame, QHBoxLayout, QLabel, QLineEdit, QScrollArea, QSizePolicy, QToolButton, QVBoxLayout, QWidget,
)

from lumina_desktop.core.library import PhotoDetails
from lumina_desktop.services.describe import (
    PHOTO_STATUS_TEXT, breakable, format_burst, format_bytes, format_camera, format_flags, format_quality, format_date, format_dimensions, format_exposure, format_gps,
    format_type, format_when,
)
from lumina_desktop.ui.culling_keys import PICK, REJECT, STARS, UNFLAG, culling_action
from lumina_desktop.ui.tasks import run_query
from lumina_desktop.services.images import PhotoPictures
from lumina_desktop.services.photos import PhotoQueries
from lumina_desktop.ui.thumbnails import to_qimage

PREVIEW_DECODE_MAX_PX = 720
SELECTION_DEBOUNCE_MS = 60


@dataclass(frozen=True, slots=True)
class DetailsResult:
    details: PhotoDetails | None
    preview: QImage | None
    is_preview_unchanged: bool = False   # same picture as shown: keep the current preview
    tags: tuple[Any, ...] | None = None  # PhotoTag values (None: no tags service)


def load_details(photos: PhotoQueries, images: PhotoPictures, photo_id: int,
                 shown: tuple[str | None, tuple[int, ...]] | None = None, tags: Any = None) -> DetailsResult:
    """Worker: the catalog row, its tags (with a ``tags`` service) and its preview image (not
    decoded again when ``shown`` — the content hash and thumbnail sizes of the preview on
    screen — still matches)."""
    details = photos.details(photo_id)
    if details is None:
        return DetailsResult(None, None)
    found = tuple(tags.of_photo(photo_id)) if tags is not None else None
    if shown is not None and shown == (details.content_hash, details.thumb_sizes):
        return DetailsResult(details, None, is_preview_unchanged=True, tags=found)
    picture = images.preview(details, PREVIEW_DECODE_MAX_PX)   # Pillow: the GIL is free while it decodes
    return DetailsResult(details, to_qimage(picture) if picture is not None else None, tags=found)


class TagsEditor(QWidget):
    """A photo's tags, each with × to remove it, and a field to add one (Enter): the details
    panel's Tags row.  ``add_requested(text)``, ``remove_requested(tag)``."""

    add_requested = Signal(str)
    remove_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tags: tuple[Any, ...] = ()
        self.label = QLabel("—")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.linkActivated.connect(lambda href: self.remove_requested.emit(unquote(href)))
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Add a tag… (Enter)")
        self.edit.setClearButtonEnabled(True)
        self.edit.returnPressed.connect(self._on_edit_return_pressed)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.label)
        lay.addWidget(self.edit)

    def set_tags(self, tags: tuple[Any, ...]) -> None:
        self.tags = tags
        self.label.setText(" · ".join(
            f'<span title="{html.escape(tag_source_text(t))}">{html.escape(t.tag)}'
            f'{"" if str(t.source) == "user" else f" <small>{t.confidence * 100:.0f} %</small>"}</span>'
            f'&nbsp;<a href="{quote(t.tag)}" style="text-decoration: none;">×</a>' for t in tags) or "—")

    def _on_edit_return_pressed(self) -> None:
        text = self.edit.text().strip()
        if text:
            self.edit.clear()
            self.add_requested.emit(text)


def tag_source_text(t: Any) -> str:
    src = str(getattr(t.source, "value", t.source))
    return {"user": "your tag", "model": f"recognised, {t.confidence * 100:.0f} % sure",
            "heuristic": "from the picture's look or its metadata"}.get(src, src) + " — × removes it"


_FIELDS = ("Tags", "Quality", "Burst", "Flags", "Taken", "Camera", "Lens", "Exposure", "Location", "Dimensions", "Type", "Size", "Path",
           "Content hash", "Added", "Status")


class FlagBar(QWidget):
    """Pick, reject and 0–5 stars as buttons (the details panel's Flags row); ``requested(action,
    stars)`` with the culling keys' actions: a second click on the set flag or star clears it."""

    requested = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.decision: str | None = None
        self.stars = 0
        self.pick = self._button("✓ Pick", "Pick  (P; again: unflag)", lambda: self._flag(PICK))
        self.reject = self._button("✕ Reject", "Reject  (X; again: unflag)", lambda: self._flag(REJECT))
        self.star_buttons = [self._button("★", f"{n} star{'s' if n > 1 else ''}  ({n}; again: none)",
                                          lambda _=False, n=n: self._star(n)) for n in range(1, 6)]
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.pick)
        lay.addWidget(self.reject)
        lay.addSpacing(6)
        for b in self.star_buttons:
            lay.addWidget(b)
        lay.addStretch(1)

    def _button(self, text: str, tip: str, slot: object) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setCheckable(True)
        b.setAutoRaise(True)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.clicked.connect(slot)  # type: ignore[arg-type]
        return b

    def set_flags(self, decision: str | None, stars: int | None) -> None:
        """Show a photo's flags (``best`` — the burst's best frame chosen by the user — shows as picked)."""
        self.decision, self.stars = decision, stars or 0
        self.pick.setChecked(decision in (PICK, "best"))
        self.reject.setChecked(decision == REJECT)
        for n, b in enumerate(self.star_buttons, start=1):
            b.setChecked(n <= self.stars)

    def _flag(self, action: str) -> None:
        is_set = (self.decision == action) or (action == PICK and self.decision == "best")
        self.requested.emit(UNFLAG if is_set else action, None)

    def _star(self, n: int) -> None:
        self.requested.emit(STARS, 0 if n == self.stars else n)


class DetailsPanel(QWidget):
    """Shows one photo; ``show_photo(None)`` shows the empty state."""

    details_shown = Signal(int)   # photo id whose details (and preview) are now on screen
    culling_requested = Signal(str, object)   # action, stars: from the flag buttons or the culling keys
    tag_requested = Signal(str, str)          # "add" or "remove", the tag: for the selection

    def __init__(self, executor: Executor, photos: PhotoQueries, images: PhotoPictures,
                 parent: QWidget | None = None, *, tags: Any = None) -> None:
        super().__init__(parent)
        self._executor = executor
        self._photos = photos
        self._images = images
        self._tags = tags               # the tags service (of_photo); None: no Tags row
        self._token = 0
        self._count = 0
        self._wanted: tuple[int | None, int] = (None, 0)
        self.photo_id: int | None = None
        self.details: PhotoDetails | None = None
        self._preview: QPixmap | None = None
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SELECTION_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)

        self.preview_label = QLabel()
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_label.setMinimumHeight(160)
        self.preview_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.preview_label.setStyleSheet("background: palette(mid); border-radius: 4px; color: palette(light);")
        self.title_label = QLabel("No photo selected")
        f = QFont(self.title_label.font())
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.title_label.setFont(f)
        self.title_label.setWordWrap(True)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems_label = QLabel()
        self.problems_label.setWordWrap(True)
        self.problems_label.setTextFormat(Qt.TextFormat.RichText)
        self.problems_label.setStyleSheet("QLabel { background: rgba(206, 48, 48, 0.12); border: 1px solid "
                                          "rgba(206, 48, 48, 0.5); border-radius: 4px; padding: 6px; }")
        self.problems_label.hide()
        form_host = QWidget()
        self.form = QFormLayout(form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.values: dict[str, QLabel] = {}
        for name in _FIELDS:
            value = QLabel("—")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            if name == "Content hash":
                mono = QFont("monospace")
                mono.setStyleHint(QFont.StyleHint.Monospace)
                mono.setPointSizeF(value.font().pointSizeF() * 0.9)
                value.setFont(mono)
            key = QLabel(name)
            key.setStyleSheet("color: palette(placeholder-text);")
            self.values[name] = value
            if name == "Tags":
                self.tags_editor = TagsEditor()
                self.tags_editor.add_requested.connect(lambda t: self.tag_requested.emit("add", t))
                self.tags_editor.remove_requested.connect(lambda t: self.tag_requested.emit("remove", t))
                self.form.addRow(key, self.tags_editor)
                if tags is None:
                    key.hide()
                    self.tags_editor.hide()
                continue
            if name == "Flags":                  # buttons, with the text (and its key hint) below
                self.flag_bar = FlagBar()
                self.flag_bar.requested.connect(self.culling_requested)
                cell = QWidget()
                cell_lay = QVBoxLayout(cell)
                cell_lay.setContentsMargins(0, 0, 0, 0)
                cell_lay.setSpacing(0)
                cell_lay.addWidget(self.flag_bar)
                cell_lay.addWidget(value)
                self.form.addRow(key, cell)
                continue
            self.form.addRow(key, value)
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(8)
        lay.addWidget(self.preview_label)
        lay.addWidget(self.title_label)
        lay.addWidget(self.problems_label)
        lay.addWidget(form_host)
        lay.addStretch(1)
        self.form_host = form_host
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # always there: a scroll bar that came and went would change the width the preview is laid out
        # for, which changes the height, which brings the bar back (a layout loop)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.setMinimumWidth(240)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)     # the culling keys work here too
        self.preview_label.installEventFilter(self)
        self._show_empty("No photo selected")

    def sizeHint(self) -> QSize:
        return QSize(320, 600)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        found = culling_action(event) if self.details is not None else None
        if found is None:
            super().keyPressEvent(event)
            return
        self.culling_requested.emit(*found)

    # -- API
    def show_photo(self, photo_id: int | None, selected_count: int = 1) -> None:
        """Show ``photo_id`` (debounced; the read happens off the GUI thread)."""
        self._wanted = (photo_id, selected_count)
        self._debounce.start()

    def refresh(self) -> None:
        """Re-read the shown photo (a scan may have changed it); the preview only if it changed."""
        if self.photo_id is not None:
            d = self.details
            shown = (d.content_hash, d.thumb_sizes) if d is not None and d.id == self.photo_id else None
            self._request(self.photo_id, shown)

    def _on_debounce_timeout(self) -> None:
        photo_id, count = self._wanted
        self._count = count
        if photo_id is None:
            self._token += 1
            self.photo_id = None
            self.details = None
            self._show_empty("No photo selected" if count == 0 else f"{count:,} photos selected")
            return
        if photo_id != self.photo_id:
            self._request(photo_id)
        else:
            self._update_title()

    def _request(self, photo_id: int, shown: tuple[str | None, tuple[int, ...]] | None = None) -> None:
        self._token += 1
        token = self._token
        self.photo_id = photo_id
        photos, images, tags = self._photos, self._images, self._tags
        run_query(self._executor, lambda: load_details(photos, images, photo_id, shown, tags),
                  lambda res: self._on_details_loaded(token, res),
                  lambda exc: self._on_details_failed(token, exc), owner=self)

    def _on_details_failed(self, token: int, exc: BaseException) -> None:
        if token == self._token:  # e.g. the database went away: say so, never keep the old photo
            self.details = None
            self._show_empty(f"Could not load this photo ({type(exc).__name__}: {exc})")

    # -- display
    def _show_empty(self, title: str) -> None:
        self.title_label.setText(title)
        self.problems_label.hide()
        self.form_host.hide()
        self._preview = None
        self.preview_label.setPixmap(QPixmap())
        self.preview_label.setText("")
        self.preview_label.hide()

    def _update_title(self) -> None:
        d = self.details
        if d is None:
            return
        count = self._count
        extra = f"  ({count:,} selected)" if count > 1 else ""
        self.title_label.setText(breakable(d.file_name) + extra)

    def _on_details_loaded(self, token: int, result: DetailsResult) -> None:
        if token != self._token:
            return  # another photo was selected meanwhile
        d = result.details
        self.details = d
        if d is None:
            self._show_empty("This photo is no longer in the catalog")
            return
        self._update_title()
        v = self.values
        v["Quality"].setText(format_quality(d))
        v["Burst"].setText(format_burst(d))
        v["Flags"].setText(format_flags(d))
        self.flag_bar.set_flags(d.decision, d.stars)
        if result.tags is not None:
            self.tags_editor.set_tags(result.tags)
        v["Taken"].setText(format_date(d))
        v["Camera"].setText(format_camera(d))
        v["Lens"].setText(d.lens or "—")
        v["Exposure"].setText(format_exposure(d))
        v["Location"].setText(format_gps(d))
        v["Dimensions"].setText(format_dimensions(d))
        v["Type"].setText(format_type(d))
        v["Size"].setText(format_bytes(d.size_bytes))
        v["Path"].setText(breakable(d.path))
        v["Content hash"].setText(breakable(d.content_hash or "—"))
        v["Added"].setText(format_when(d.added_at))
        v["Status"].setText(PHOTO_STATUS_TEXT.get(d.status, str(d.status)))  # type: ignore[call-overload]
        problems = []
        if d.error:
            problems.append(f"<b>Error{f' ({html.escape(d.error_reason)})' if d.error_reason else ''}:</b> "
                            f"{html.escape(d.error)}")
        problems += [f"<b>Warning:</b> {html.escape(w)}" for w in d.warnings]
        self.problems_label.setText("<br>".join(problems))
        self.problems_label.setVisible(bool(problems))
        self.form_host.show()
        self.preview_label.show()
        if not result.is_preview_unchanged:
            self._preview = QPixmap.fromImage(result.preview) if result.preview is not None else None
            self._layout_preview()
        self.details_shown.emit(d.id)

    def _layout_preview(self) -> None:
        width = max(100, self.preview_label.width())
        if self._preview is None or self._preview.isNull():
            self.preview_label.setPixmap(QPixmap())
            self.preview_label.setText("No preview" if self.details is not None else "")
            self.preview_label.setFixedHeight(160)
            return
        pm = self._preview
        shown_w = min(width, pm.width() * 2)          # small pictures are not blown up beyond 2×
        height = min(width, max(80, round(shown_w * pm.height() / max(1, pm.width()))))
        self.preview_label.setFixedHeight(height)
        self.preview_label.setPixmap(pm.scaled(shown_w, height, Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.preview_label and event.type() == QEvent.Type.Resize:
            assert isinstance(event, QResizeEvent)
            if event.size().width() != event.oldSize().width():
                self._layout_preview()
        return super().eventFilter(watched, event)
