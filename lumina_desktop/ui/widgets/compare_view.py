"""CompareView: 2–6 photos side by side with zoom and pan linked, for copies of different pixel
sizes (a photo and its resized copy, say) — GUI thread.

Every pane shows the same part of its picture: the centre is shared as a fraction of the
picture (0.5, 0.5 = the middle), so panning one pans all, whatever their sizes.  The zoom is one
number too, ``CompareLink.zoom``: screen pixels per pixel of the *reference*, the largest picture
of the set.  With "Match sizes" on (the default) each pane scales its picture so that it covers
the same screen area as the reference would: a 450 px copy of a 900 px photo is drawn at twice
its own scale, which is what shows what the resize lost.  With it off each pane draws its own
pixels at ``zoom`` (1:1 means every file at 100 %).  Fit: the reference fits its pane (never
above 1:1) and the others match it.

Keys: F fit, Z toggles 1:1 / fit, + and − zoom, Esc back; wheel zooms about the cursor,
drag pans, a click picks the pane's photo (``pane_clicked``), a double click toggles 1:1.  Other
keys are left to the parent (the duplicate review's K, N, Delete, S, ← and →).

Pictures load off the GUI thread (the viewer's ``load_preview`` then ``load_full`` on the
interactive executor, through :func:`run_query`; a failure goes to :func:`report_error`); they arrive as deep-copied QImages.
"""
from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor, QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap, QResizeEvent, QWheelEvent,
)
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from lumina_desktop.services.images import PhotoPictures
from lumina_desktop.services.photos import PhotoQueries
from lumina_desktop.ui.tasks import report_error, run_query
from lumina_desktop.ui.windows.viewer_window import ViewerImage, load_full, load_preview

MIN_ZOOM, MAX_ZOOM = 0.02, 16.0
MAX_PANES = 6
_CANVAS_BG = QColor(24, 24, 24)
_KEEP = QColor(90, 200, 110)
_BADGE_BG = QColor(0, 0, 0, 170)
_CLICK_SLOP_PX = 4


@dataclass(frozen=True, slots=True)
class ComparePhoto:
    """One pane's photo: its id, a caption, and whether it is the group's keeper."""

    photo_id: int
    caption: str
    is_keeper: bool = False


class CompareLink:
    """The shared view: fit, or ``zoom`` (screen px per reference px) about ``center`` (fractions)."""

    def __init__(self) -> None:
        self.is_fit = True
        self.zoom = 1.0
        self.center = QPointF(0.5, 0.5)
        self.is_matched = True            # each pane scaled to the reference's size on screen
        self.reference = (0, 0)           # the largest picture's size (pixels)


class ComparePane(QWidget):
    """One photo of the compare view, drawn with the shared :class:`CompareLink`."""

    def __init__(self, link: CompareLink, owner: CompareView, photo: ComparePhoto) -> None:
        super().__init__(owner)
        self.link, self.owner = link, owner
        self.photo_id, self.caption, self.is_keeper = photo.photo_id, photo.caption, photo.is_keeper
        self.pixmap: QPixmap | None = None
        self.full_size = (0, 0)           # the original's pixels (the 1:1 reference of this pane)
        self.message = "Loading…"
        self.is_original = False          # the decoded original is shown
        self.is_done = False              # the original, or what stands in for it for good
        self.is_selected = False
        self._press: QPointF | None = None
        self._drag: QPointF | None = None
        self.setMinimumSize(120, 120)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    # -- geometry (all in this pane's widget pixels)
    def factor(self) -> float:
        """This picture's scale per unit of link zoom (1 unless matched to a larger reference)."""
        rw, w = self.link.reference[0], self.full_size[0]
        return rw / w if self.link.is_matched and rw > 0 and w > 0 else 1.0

    def fit_zoom(self) -> float:
        """The link zoom at which this pane's picture fits it (never above 1:1 of the reference)."""
        w, h = self.full_size
        if w <= 0 or h <= 0:
            return 1.0
        f = self.factor()
        return min(1.0, self.width() / (w * f), self.height() / (h * f))

    @property
    def scale(self) -> float:
        """Screen pixels per pixel of this picture."""
        zoom = self.owner.fit_zoom() if self.link.is_fit else self.link.zoom
        return zoom * self.factor()

    def center_px(self) -> QPointF:
        c = QPointF(0.5, 0.5) if self.link.is_fit else self.link.center
        return QPointF(c.x() * self.full_size[0], c.y() * self.full_size[1])

    def image_rect(self) -> QRectF:
        s, c = self.scale, self.center_px()
        tl = QPointF(self.width() / 2, self.height() / 2) - c * s
        return QRectF(tl.x(), tl.y(), self.full_size[0] * s, self.full_size[1] * s)

    def image_point(self, pos: QPointF) -> QPointF:
        """The picture fraction under widget point ``pos``."""
        w, h = self.full_size
        if not w or not h:
            return QPointF(0.5, 0.5)
        p = self.center_px() + (pos - QPointF(self.width() / 2, self.height() / 2)) / self.scale
        return QPointF(p.x() / w, p.y() / h)

    # -- painting
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), _CANVAS_BG)
        if self.pixmap is not None and not self.pixmap.isNull() and self.full_size[0]:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scale < 2.0)
            p.drawPixmap(self.image_rect(), self.pixmap, QRectF(self.pixmap.rect()))
        else:
            p.setPen(QColor(200, 200, 200))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
        fm = p.fontMetrics()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        # top left: KEEP, and this picture's own scale when it is not the reference's
        x = 8.0
        if self.is_keeper:
            x += self._pill(p, x, 8, "KEEP", _KEEP) + 6
        if self.full_size[0]:
            self._pill(p, x, 8, f"{self.full_size[0]:,}×{self.full_size[1]:,} · {round(self.scale * 100):,} %",
                       QColor(230, 230, 230))
        if self.caption:
            text = fm.elidedText(self.caption, Qt.TextElideMode.ElideMiddle, self.width() - 24)
            box = QRectF(0, 0, fm.horizontalAdvance(text) + 16, fm.height() + 8)
            box.moveCenter(QPointF(self.width() / 2, self.height() - box.height() / 2 - 8))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(_BADGE_BG)
            p.drawRoundedRect(box, 5, 5)
            p.setPen(QColor(235, 235, 235))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if self.is_selected:
            p.setPen(QPen(self.palette().highlight().color(), 3))
            p.drawRect(QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5))
        else:
            p.setPen(QPen(QColor(60, 60, 60), 1))
            p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()

    def _pill(self, p: QPainter, x: float, y: float, text: str, fg: QColor) -> float:
        fm = p.fontMetrics()
        box = QRectF(x, y, fm.horizontalAdvance(text) + 12, fm.height() + 4)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(_BADGE_BG)
        p.drawRoundedRect(box, 4, 4)
        p.setPen(fg)
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        return box.width()

    # -- mouse
    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.owner.zoom_by(1.25 ** steps, self, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = self._drag = event.position()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        if self._press is not None and (event.position() - self._press).manhattanLength() < _CLICK_SLOP_PX:
            return
        self._press = None
        self.setCursor(Qt.CursorShape.ClosedHandCursor)
        delta, self._drag = event.position() - self._drag, event.position()
        self.owner.pan(self, delta)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is not None:
            self.owner.pane_clicked.emit(self.photo_id)
        self._press = self._drag = None
        self.unsetCursor()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.owner.toggle_actual(self, event.position())


class CompareView(QWidget):
    """2–6 photos side by side; zoom and pan linked (see the module docstring).  API:
    :meth:`show_photos`, :meth:`set_selected`, :meth:`set_fit`, :meth:`zoom_to`, :meth:`zoom_by`,
    :meth:`pan`, :meth:`toggle_actual`, :meth:`set_matched`; ``panes`` and ``link`` for tests."""

    closed = Signal()
    zoom_changed = Signal()
    pane_clicked = Signal(int)       # photo id of the pane clicked (without dragging)

    def __init__(self, io: Executor, photos: PhotoQueries, images: PhotoPictures, parent: QWidget | None = None, *,
                 back_text: str = "◀ Back  (Esc)") -> None:
        super().__init__(parent)
        self._io, self._photos, self._images = io, photos, images
        self.link = CompareLink()
        self.panes: list[ComparePane] = []
        self._token = 0
        self._cols = 0
        self.back_button = QPushButton(back_text)
        self.match_button = QCheckBox("Match sizes")
        self.match_button.setChecked(True)
        self.match_button.setToolTip("On: every picture covers the same area, so a smaller copy is enlarged to "
                                     "the largest one's size.\nOff: each file at its own pixels (1:1 = 100 % of each).")
        self.fit_button = QPushButton("Fit  (F)")
        self.actual_button = QPushButton("1:1  (Z)")
        self.zoom_label = QLabel("Fit")
        self.zoom_label.setMinimumWidth(QFontMetrics(self.zoom_label.font()).horizontalAdvance("1,600 %") + 8)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.back_button.clicked.connect(self.closed)
        self.match_button.toggled.connect(self.set_matched)
        self.fit_button.clicked.connect(self.set_fit)
        self.actual_button.clicked.connect(lambda: self.zoom_to(1.0))
        bar = QHBoxLayout()
        bar.addWidget(self.back_button)
        bar.addStretch(1)
        bar.addWidget(self.match_button)
        bar.addSpacing(16)
        for w in (self.zoom_label, self.fit_button, self.actual_button):
            bar.addWidget(w)
        for b in (self.back_button, self.match_button, self.fit_button, self.actual_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.grid = QGridLayout()
        self.grid.setSpacing(4)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(bar)
        lay.addLayout(self.grid, 1)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # -- content
    def show_photos(self, photos: Sequence[ComparePhoto], selected: int | None = None) -> None:
        """Show up to :data:`MAX_PANES` photos, fitted; their pictures load on workers."""
        for pane in self.panes:
            self.grid.removeWidget(pane)
            pane.deleteLater()
        self._token += 1
        token = self._token
        self.link.is_fit, self.link.zoom, self.link.center, self.link.reference = True, 1.0, QPointF(0.5, 0.5), (0, 0)
        self.panes = []
        self._cols = 0
        reader, images = self._photos, self._images
        for photo in list(photos)[:MAX_PANES]:
            pane = ComparePane(self.link, self, photo)
            pane.is_selected = photo.photo_id == selected
            self.panes.append(pane)
        self._arrange()
        for pane in self.panes:
            run_query(self._io, lambda pid=pane.photo_id: load_preview(reader, images, pid),
                      lambda res, pn=pane: self._on_preview_loaded(token, pn, res),
                      lambda exc, pn=pane: self._on_load_failed(token, pn, exc), owner=self)
        self._changed()

    def columns(self) -> int:
        """The number of columns that shows the pictures largest in this view (3:2 until sizes are known)."""
        n = len(self.panes)
        if n <= 1:
            return 1
        w, h = self.link.reference if self.link.reference[0] else (3, 2)
        area = self.contentsRect().adjusted(6, 40, -6, -6)
        best, cols = 0.0, 1
        for c in range(1, n + 1):
            rows = -(-n // c)
            scale = min(area.width() / c / w, area.height() / rows / h)
            if scale > best * 1.001:
                best, cols = scale, c
        return cols

    def _arrange(self) -> None:
        cols = self.columns()
        if cols == self._cols:
            return
        self._cols = cols
        for pane in self.panes:
            self.grid.removeWidget(pane)
        for k, pane in enumerate(self.panes):
            self.grid.addWidget(pane, k // cols, k % cols)
        for c in range(self.grid.columnCount()):
            self.grid.setColumnStretch(c, 1 if c < cols else 0)
        for r in range(self.grid.rowCount()):
            self.grid.setRowStretch(r, 1 if r < -(-len(self.panes) // cols) else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()

    def set_selected(self, photo_id: int | None) -> None:
        for pane in self.panes:
            pane.is_selected = pane.photo_id == photo_id
            pane.update()

    def _on_preview_loaded(self, token: int, pane: ComparePane, res: ViewerImage) -> None:
        if token != self._token:
            return
        d = res.details
        if res.image is not None:
            pane.pixmap = QPixmap.fromImage(res.image)
            if not pane.full_size[0]:
                pane.full_size = (d.width, d.height) if d is not None and d.width and d.height else \
                    (res.image.width(), res.image.height())
        pane.message = res.note or "No preview"
        pane.is_done = d is None
        self._sizes_changed()
        if d is not None:
            images = self._images
            run_query(self._io, lambda: load_full(images, d), lambda full: self._on_full_loaded(token, pane, full),
                      lambda exc: self._on_load_failed(token, pane, exc), owner=self)

    def _on_load_failed(self, token: int, pane: ComparePane, exc: BaseException) -> None:
        if token != self._token:
            return
        report_error("Could not show a photo", exc)
        if pane.pixmap is None:
            pane.message = f"Could not load this photo ({type(exc).__name__})"
        pane.is_done = True
        pane.update()

    def _on_full_loaded(self, token: int, pane: ComparePane, res: ViewerImage) -> None:
        if token != self._token:
            return
        if res.image is not None:
            pane.pixmap = QPixmap.fromImage(res.image)
            pane.full_size = (res.image.width(), res.image.height())
            pane.is_original = True
        elif pane.pixmap is None:
            pane.message = res.note or "Cannot show this file"
        pane.is_done = True
        self._sizes_changed()

    def _sizes_changed(self) -> None:
        sizes = [p.full_size for p in self.panes if p.full_size[0] and p.full_size[1]]
        self.link.reference = max(sizes, key=lambda s: (s[0] * s[1], s[0])) if sizes else (0, 0)
        self._arrange()
        self._changed()

    @property
    def is_loaded(self) -> bool:
        """Every pane shows its original (or what stands in for it for good)."""
        return bool(self.panes) and all(p.is_done for p in self.panes)

    # -- linked zoom and pan
    def fit_zoom(self) -> float:
        """The link zoom of Fit: the smallest at which every pane's picture fits."""
        zooms = [p.fit_zoom() for p in self.panes if p.full_size[0]]
        return min(zooms) if zooms else 1.0

    def current_zoom(self) -> float:
        return self.fit_zoom() if self.link.is_fit else self.link.zoom

    def set_fit(self) -> None:
        self.link.is_fit = True
        self._changed()

    def set_matched(self, is_matched: bool) -> None:
        """Match sizes (every picture as large as the largest) or each at its own pixels; keeps the centre."""
        self.link.is_matched = bool(is_matched)
        if self.match_button.isChecked() != self.link.is_matched:
            self.match_button.setChecked(self.link.is_matched)
        self._changed()

    def zoom_to(self, zoom: float, pane: ComparePane | None = None, anchor: QPointF | None = None) -> None:
        """Every pane to link zoom ``zoom`` (1.0 = the reference at 1:1), keeping the picture point
        under ``anchor`` of ``pane`` (default: the centre of the first pane) still."""
        pane = pane or (self.panes[0] if self.panes else None)
        if pane is None or not pane.full_size[0]:
            return
        anchor = anchor if anchor is not None else QPointF(pane.width() / 2, pane.height() / 2)
        at = pane.image_point(anchor)
        self.link.zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        self.link.is_fit = False
        w, h = pane.full_size
        off = (anchor - QPointF(pane.width() / 2, pane.height() / 2)) / pane.scale
        self.link.center = QPointF(at.x() - off.x() / w, at.y() - off.y() / h)
        self._clamp(pane)
        self._changed()

    def zoom_by(self, factor: float, pane: ComparePane | None = None, anchor: QPointF | None = None) -> None:
        self.zoom_to(self.current_zoom() * factor, pane, anchor)

    def pan(self, pane: ComparePane, delta: QPointF) -> None:
        """Move every picture by ``delta`` screen pixels of ``pane`` (as a fraction of the picture)."""
        if self.link.is_fit or not pane.full_size[0]:
            return
        w, h = pane.full_size
        s, c = pane.scale, self.link.center
        self.link.center = QPointF(c.x() - delta.x() / s / w, c.y() - delta.y() / s / h)
        self._clamp(pane)
        self._changed()

    def toggle_actual(self, pane: ComparePane | None = None, anchor: QPointF | None = None) -> None:
        if not self.link.is_fit and abs(self.link.zoom - 1.0) < 1e-6:
            self.set_fit()
        else:
            self.zoom_to(1.0, pane, anchor)

    def _clamp(self, pane: ComparePane) -> None:
        w, h = pane.full_size
        s = pane.scale
        half_w, half_h = pane.width() / 2 / s / w, pane.height() / 2 / s / h
        x = 0.5 if half_w >= 0.5 else min(max(self.link.center.x(), half_w), 1 - half_w)
        y = 0.5 if half_h >= 0.5 else min(max(self.link.center.y(), half_h), 1 - half_h)
        self.link.center = QPointF(x, y)

    def _changed(self) -> None:
        for pane in self.panes:
            pane.update()
        if self.link.is_fit:
            self.zoom_label.setText("Fit")
        else:
            self.zoom_label.setText(f"{round(self.link.zoom * 100):,} %")
        self.zoom_changed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if event.modifiers() & ~(Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier):
            super().keyPressEvent(event)
        elif key == Qt.Key.Key_Escape:
            self.closed.emit()
        elif key == Qt.Key.Key_F:
            self.set_fit()
        elif key == Qt.Key.Key_Z:
            self.toggle_actual()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(1.25)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(1 / 1.25)
        else:
            event.ignore()          # the parent's keys (K, N, Delete, S, ←, →)
            return
        event.accept()
