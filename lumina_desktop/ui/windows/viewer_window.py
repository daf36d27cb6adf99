"""ViewerWindow: one photo at full size, with zoom, pan and previous/next over the grid order.

GUI thread, except :func:`load_preview`/:func:`load_full`, which run on the interactive lane:
they read the catalog row (``PhotoQueries``), have the ORIGINAL decoded (``PhotoPictures``:
EXIF orientation applied, converted to sRGB RGB or RGBA) and return a deep-copied QImage.  RAW files, videos and anything
Pillow cannot open fall back to the 1280 px thumbnail.  The thumbnail is shown first while the
original decodes, so navigation never waits.

Keys: ←/→ previous/next, Home/End first/last, F fit, 1 actual size (100 %), Esc close.
Mouse: wheel zooms about the cursor, drag pans, double-click toggles fit / 100 %.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass


from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QCloseEvent, QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPixmap, QResizeEvent, QWheelEvent,
)
from PySide6.QtWidgets import QVBoxLayout, QWidget

from lumina_desktop.core.library import PhotoDetails
from lumina_desktop.ui.culling_keys import culling_action
from lumina_desktop.ui.tasks import run_query
from lumina_desktop.core.media import MediaKind
from lumina_desktop.core.models import PhotoStatus
from lumina_desktop.services.images import PhotoPictures
from lumina_desktop.services.photos import PhotoQueries
from lumina_desktop.ui.thumbnails import to_qimage

log = logging.getLogger(__name__)
MIN_SCALE, MAX_SCALE = 0.02, 16.0
_BG = QColor(24, 24, 24)


@dataclass(frozen=True, slots=True)
class ViewerImage:
    photo_id: int
    details: PhotoDetails | None
    image: QImage | None
    is_original: bool
    note: str = ""


def load_preview(photos: PhotoQueries, images: PhotoPictures, photo_id: int) -> ViewerImage:
    """Worker: the catalog row and the 1280 px preview (shown while the original decodes)."""
    d = photos.details(photo_id)
    if d is None:
        return ViewerImage(photo_id, None, None, False, "This photo is no longer in the catalog")
    # the original is decoded next (load_full) except for RAW, whose preview is the best view
    picture = images.preview(d, 100_000, make_missing=d.kind == MediaKind.RAW)
    image = to_qimage(picture) if picture is not None else None
    return ViewerImage(photo_id, d, image, False, "" if image is not None else "No preview")


def load_full(images: PhotoPictures, details: PhotoDetails) -> ViewerImage:
    """Worker: the original decoded; the thumbnail for RAW, video and undecodable files."""
    if details.kind in (MediaKind.RAW, MediaKind.VIDEO) or details.status in (PhotoStatus.MISSING, PhotoStatus.ERROR):
        why = {MediaKind.RAW.value: "RAW: showing the embedded preview", MediaKind.VIDEO.value: "video: showing a still",
               }.get(details.kind or "", f"file {details.status}: showing the thumbnail")
        return ViewerImage(details.id, details, None, False, why)
    try:
        return ViewerImage(details.id, details, to_qimage(images.original(details)), True)
    except Exception as exc:  # noqa: BLE001 — any decoder failure: show the thumbnail, say why
        log.info("viewer: cannot decode %s: %s", details.path, exc)
        return ViewerImage(details.id, details, None, False, f"showing the thumbnail ({type(exc).__name__}: {exc})")


class _ImageCanvas(QWidget):
    """Paints one pixmap with a zoom factor and pan offset; fit or free zoom."""

    scale_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pixmap: QPixmap | None = None
        self.full_size: tuple[int, int] = (0, 0)   # the original's pixel size (100 % reference)
        self.is_fit = True
        self.scale = 1.0
        self.center = QPointF(0, 0)                # image point (in full-size pixels) at the widget centre
        self._drag: QPointF | None = None
        self.message = ""
        self.caption = ""
        self.setMouseTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def set_pixmap(self, pixmap: QPixmap | None, full_size: tuple[int, int], *, keep_view: bool) -> None:
        self.pixmap = pixmap
        same = keep_view and full_size == self.full_size
        self.full_size = full_size
        if not same:
            self.is_fit = True
            self.center = QPointF(full_size[0] / 2, full_size[1] / 2)
        self._apply_fit()
        self.update()

    def fit_scale(self) -> float:
        w, h = self.full_size
        if w <= 0 or h <= 0:
            return 1.0
        return min(1.0, self.width() / w, self.height() / h)

    def _apply_fit(self) -> None:
        if self.is_fit:
            self.scale = self.fit_scale()
            self.center = QPointF(self.full_size[0] / 2, self.full_size[1] / 2)
            self.scale_changed.emit(self.scale)

    def set_fit(self) -> None:
        self.is_fit = True
        self._apply_fit()
        self.update()

    def set_scale(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``scale`` keeping the image point under ``anchor`` (widget coords) in place."""
        scale = max(MIN_SCALE, min(MAX_SCALE, scale))
        if anchor is None:
            anchor = QPointF(self.width() / 2, self.height() / 2)
        before = self._to_image(anchor)
        self.scale = scale
        self.is_fit = False
        after = self._to_image(anchor)
        self.center += before - after
        self._clamp()
        self.scale_changed.emit(self.scale)
        self.update()

    def _to_image(self, p: QPointF) -> QPointF:
        return self.center + (p - QPointF(self.width() / 2, self.height() / 2)) / self.scale

    def _clamp(self) -> None:
        w, h = self.full_size
        half_w, half_h = self.width() / 2 / self.scale, self.height() / 2 / self.scale
        x = w / 2 if half_w * 2 >= w else min(max(self.center.x(), half_w), w - half_w)
        y = h / 2 if half_h * 2 >= h else min(max(self.center.y(), half_h), h - half_h)
        self.center = QPointF(x, y)

    def image_rect(self) -> QRectF:
        w, h = self.full_size
        top_left = QPointF(self.width() / 2, self.height() / 2) - self.center * self.scale
        return QRectF(top_left.x(), top_left.y(), w * self.scale, h * self.scale)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), _BG)
        if self.pixmap is not None and not self.pixmap.isNull():
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scale < 2.0)
            p.drawPixmap(self.image_rect(), self.pixmap, QRectF(self.pixmap.rect()))
        elif self.message:
            p.setPen(QColor(200, 200, 200))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
        if self.caption:
            fm = p.fontMetrics()
            text = fm.elidedText(self.caption, Qt.TextElideMode.ElideMiddle, self.width() - 40)
            box = QRectF(0, 0, fm.horizontalAdvance(text) + 20, fm.height() + 10)
            box.moveCenter(QPointF(self.width() / 2, self.height() - box.height() / 2 - 10))
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(0, 0, 0, 150))
            p.drawRoundedRect(box, 6, 6)
            p.setPen(QColor(235, 235, 235))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        p.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.is_fit:
            self._apply_fit()
        else:
            self._clamp()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.set_scale(self.scale * (1.25 ** steps), event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None:
            delta = event.position() - self._drag
            self._drag = event.position()
            self.center -= delta / self.scale
            self._clamp()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None
        self.unsetCursor()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.is_fit:
            self.set_scale(1.0, event.position())
        else:
            self.set_fit()


class ViewerWindow(QWidget):
    """A top-level window showing ``ids[index]``; arrows move through ``ids`` (the grid order)."""

    current_changed = Signal(int)     # photo id now shown
    culling_requested = Signal(int, str, object)   # photo id, action (pick, reject, unflag, stars), stars
    closed = Signal(int)              # photo id shown when the window closed

    def __init__(self, executor: Executor, photos: PhotoQueries, images: PhotoPictures,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self._executor = executor
        self._photos = photos
        self._images = images
        self.ids: Sequence[int] = ()       # the grid's id array as it is (no copy of a million ids)
        self.index = -1
        self._token = 0
        self.current: ViewerImage | None = None
        self.setWindowTitle("Viewer")
        self.resize(1200, 800)
        self.canvas = _ImageCanvas(self)
        self.canvas.scale_changed.connect(self._on_canvas_scale_changed)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.canvas)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # -- API
    @property
    def photo_id(self) -> int | None:
        return int(self.ids[self.index]) if 0 <= self.index < len(self.ids) else None

    def show_photos(self, ids: Sequence[int], index: int) -> None:
        """Show ``ids[index]``; ``ids`` is the grid order the arrow keys walk through."""
        self.ids = ids
        self.go_to(index)
        self.show()
        self.raise_()
        self.activateWindow()

    def go_to(self, index: int) -> None:
        if not len(self.ids):
            return
        index = max(0, min(len(self.ids) - 1, index))
        photo_id = int(self.ids[index])
        if index == self.index and self.current is not None and self.current.photo_id == photo_id:
            return
        self.index = index
        self._token += 1
        token = self._token
        self.current = None
        self.canvas.message = "Loading…"
        self._update_title()
        self.current_changed.emit(photo_id)
        photos, images = self._photos, self._images
        run_query(self._executor, lambda: load_preview(photos, images, photo_id),
                  lambda res: self._on_preview_loaded(token, res),
                  lambda exc: self._on_preview_failed(token, exc), owner=self)

    def _on_preview_failed(self, token: int, exc: BaseException) -> None:
        if token == self._token:
            self.canvas.set_pixmap(None, (0, 0), keep_view=False)
            self.canvas.message = f"Could not load this photo ({type(exc).__name__}: {exc})"
            self.canvas.update()

    def toggle_fit(self, *, prefer_fit: bool) -> None:
        """F: fit (again: 100 %); 1: 100 % (again: fit)."""
        c = self.canvas
        at_actual = not c.is_fit and abs(c.scale - 1.0) < 1e-6
        if (prefer_fit and not c.is_fit) or (not prefer_fit and at_actual):
            c.set_fit()
        else:
            c.set_scale(1.0)

    def next(self) -> None:
        self.go_to(self.index + 1)

    def previous(self) -> None:
        self.go_to(self.index - 1)

    # -- results
    def _on_preview_loaded(self, token: int, res: ViewerImage) -> None:
        if token != self._token:
            return
        self.current = res
        d = res.details
        full = (d.width, d.height) if d is not None and d.width and d.height else None
        if res.image is not None:
            size = full or (res.image.width(), res.image.height())
            self.canvas.set_pixmap(QPixmap.fromImage(res.image), size, keep_view=False)
        else:
            self.canvas.set_pixmap(None, (0, 0), keep_view=False)
            self.canvas.message = res.note or "No preview"
        self._update_title()
        if d is not None:
            images = self._images
            run_query(self._executor, lambda: load_full(images, d),
                      lambda full_res: self._on_full_loaded(token, full_res), owner=self)

    def _on_full_loaded(self, token: int, res: ViewerImage) -> None:
        if token != self._token:
            return  # the user moved on
        if res.image is not None:
            size = (res.image.width(), res.image.height())
            self.canvas.set_pixmap(QPixmap.fromImage(res.image), size, keep_view=True)
        elif self.canvas.pixmap is None:
            self.canvas.message = res.note or "Cannot show this file"
            self.canvas.update()
        self.current = ViewerImage(res.photo_id, res.details, None, res.is_original, res.note)
        self._update_title()

    def _update_title(self) -> None:
        pos = f"{self.index + 1:,} / {len(self.ids):,}" if len(self.ids) else ""
        cur = self.current
        name = cur.details.file_name if cur is not None and cur.details is not None else "…"
        zoom = f"{round(self.canvas.scale * 100)} %" + (" (fit)" if self.canvas.is_fit else "")
        note = f" — {cur.note}" if cur is not None and cur.note else ""
        self.setWindowTitle(f"{name} — {pos} — {zoom}{note}")
        self.canvas.caption = f"{name}   ·   {pos}   ·   {zoom}{note}"
        self.canvas.update()

    def _on_canvas_scale_changed(self, _scale: float) -> None:
        self._update_title()

    # -- keys
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        action = culling_action(event)
        if action is not None and self.photo_id is not None:   # P, X, U, 0–5: the grid's keys
            self.culling_requested.emit(self.photo_id, *action)
            event.accept()
            return
        if key == Qt.Key.Key_Escape:
            self.close()
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_PageDown):
            self.next()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_PageUp):
            self.previous()
        elif key == Qt.Key.Key_Home:
            self.go_to(0)
        elif key == Qt.Key.Key_End:
            self.go_to(len(self.ids) - 1)
        elif key == Qt.Key.Key_F:
            self.toggle_fit(prefer_fit=True)
        elif key == Qt.Key.Key_Z:                 # 1:1 (the digits are stars, as in the grid)
            self.toggle_fit(prefer_fit=False)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.canvas.set_scale(self.canvas.scale * 1.25)
        elif key == Qt.Key.Key_Minus:
            self.canvas.set_scale(self.canvas.scale / 1.25)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._token += 1  # late results are dropped
        if self.photo_id is not None:
            self.closed.emit(self.photo_id)
        super().closeEvent(event)
