"""ThumbnailDelegate: paints one grid cell; :func:`render_cell` composes the cell's picture once.

GUI thread.  Two halves, on purpose:

* :func:`render_cell` draws the whole cell — the thumbnail (already fitted to the zoom by the
  loader's worker), a faint edge, the placeholder and glyph when there is no thumbnail, the
  badges (RAW / VIDEO, error / missing, rating or reject) and the elided file name — onto a new
  ``QImage``.  The ThumbnailLoader calls it once per cell and look (:class:`CellSpec`) when the
  thumbnail arrives and caches the result as the cell's pixmap.
* :meth:`ThumbnailDelegate.paint` blits that pixmap, or paints a plain placeholder while it is
  on its way, and draws the selection / hover frame.

Why: a cell painted with ~30 Python ↔ Qt calls on every repaint made scrolling and repaints
during scans stall; composing once and blitting keeps ``paint()`` to a handful of calls
(measured in ``tests/benchmarks/bench_ui.py``).  It stays on the GUI thread because QPainter
keeps the GIL while it draws: on a worker it would starve the GUI thread instead.
``sizeHint`` is a constant derived from the zoom; nothing here does I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from lumina_desktop.core.library import PhotoFlag
from lumina_desktop.services.describe import display_name
from lumina_desktop.ui.models.roles import PhotoRole

MIN_THUMB_PX = 96
MAX_THUMB_PX = 320
DEFAULT_THUMB_PX = 180   # four columns beside the panels in a 1280 px window; the 256 px grid thumbnail drawn down
PAD_PX = 6

_ERROR = QColor(206, 48, 48)
_MISSING = QColor(214, 140, 20)
_STAR = QColor(255, 200, 40)
_BADGE_BG = QColor(0, 0, 0, 150)
_PLACEHOLDER = QColor(128, 128, 128, 48)
_PLACEHOLDER_GLYPH = QColor(128, 128, 128, 150)
_EDGE = QColor(0, 0, 0, 48)
_STARS = {n: "★" * n for n in range(6)}
_ERROR_F, _MISSING_F, _RAW_F, _VIDEO_F, _REJECTED_F, _PICKED_F = map(int, (
    PhotoFlag.ERROR, PhotoFlag.MISSING, PhotoFlag.RAW, PhotoFlag.VIDEO, PhotoFlag.REJECTED, PhotoFlag.PICKED))
_BADGED_F = _ERROR_F | _MISSING_F | _RAW_F | _VIDEO_F | _REJECTED_F | _PICKED_F


@dataclass(frozen=True, slots=True)
class CellStyle:
    """Geometry and colours of a cell at one zoom level (a value; shared by every cell)."""

    thumb_px: int
    cell_w: int
    cell_h: int
    name_px: int
    badge_px: int
    glyph_px: int
    text_rgba: int
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.thumb_px, self.cell_w, self.cell_h, self.name_px,
                                                self.badge_px, self.glyph_px, self.text_rgba)))

    def __hash__(self) -> int:   # (every cache key holds the style: hashed once, not per lookup)
        return self._hash

    @staticmethod
    def for_zoom(thumb_px: int, text_rgba: int = 0xFF000000) -> CellStyle:
        px = max(MIN_THUMB_PX, min(MAX_THUMB_PX, int(thumb_px)))
        name_px = 11 if px < 140 else 12
        font = QFont()
        font.setPixelSize(name_px)
        side = px + 2 * PAD_PX
        return CellStyle(px, side, side + QFontMetrics(font).height() + 2, name_px,
                         max(9, min(12, px // 12)), max(18, px // 4), text_rgba)

    @property
    def size(self) -> QSize:
        return QSize(self.cell_w, self.cell_h)

    @property
    def box(self) -> QRect:
        """Where the picture goes inside the cell: a square of ``thumb_px``."""
        return QRect((self.cell_w - self.thumb_px) // 2, PAD_PX, self.thumb_px, self.thumb_px)


@dataclass(frozen=True, slots=True)
class CellSpec:
    """What one cell shows besides its thumbnail (part of the pixmap cache key)."""

    style: CellStyle
    file_name: str
    flags: int
    rating: int | None
    quality: int | None = None       # the overall score, rounded (a badge: green, amber, red)
    burst: int = 0                   # BURST_NONE, BURST_MEMBER or BURST_BEST
    stack: int = 0                   # frames under this cell when bursts are stacked (0: no stack)
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.style, self.file_name, self.flags, self.rating, self.quality,
                                                self.burst, self.stack)))

    def __hash__(self) -> int:   # (part of the pixmap cache key, looked up on every paint of a cell)
        return self._hash


BURST_NONE, BURST_MEMBER, BURST_BEST = 0, 1, 2
FRAME_NONE, FRAME_HOVER, FRAME_SELECTED = 0, 1, 2
GOOD_QUALITY, POOR_QUALITY = 70, 40          # the badge turns amber below good, red below poor
_GOOD = QColor(46, 160, 67, 225)
_FAIR = QColor(210, 140, 20, 230)
_POOR = QColor(200, 50, 50, 230)
_GOOD_MARK = QColor(90, 200, 110)
_BEST = QColor(250, 200, 40)


def quality_colour(score: int) -> QColor:
    return _GOOD if score >= GOOD_QUALITY else _FAIR if score >= POOR_QUALITY else _POOR


def fit_rect(w: int, h: int, box: QRect) -> QRect:
    if w <= 0 or h <= 0:
        return QRect(box)
    scale = min(box.width() / w, box.height() / h)
    tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    return QRect(box.x() + (box.width() - tw) // 2, box.y() + (box.height() - th) // 2, tw, th)


def placeholder_rect(box: QRect) -> QRect:
    """A 4:3 landscape frame inside the square box (the shape most photos have)."""
    h = box.width() * 3 // 4
    return QRect(box.x(), box.y() + (box.height() - h) // 2, box.width(), h)


def cell_size(spec: CellSpec) -> tuple[int, int]:
    """The size of the image :func:`render_cell` makes for ``spec``."""
    return spec.style.cell_w, spec.style.cell_h


_PLACEHOLDERS: dict[tuple[int, int], QImage] = {}


def placeholder_image(w: int, h: int) -> QImage:
    """A ``w``×``h`` block of the translucent placeholder colour, made once a size: blitting it
    takes 9 µs where ``fillRect`` with a translucent colour took 90 µs (a screen of placeholders,
    painted on every jump, took 4 ms).  The same pixels either way."""
    image = _PLACEHOLDERS.get((w, h))
    if image is None:
        if len(_PLACEHOLDERS) >= 32:
            _PLACEHOLDERS.clear()
        image = QImage(max(1, w), max(1, h), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(_PLACEHOLDER)
        _PLACEHOLDERS[(w, h)] = image
    return image


def render_cell(image: QImage | None, spec: CellSpec, out: QImage | None = None) -> QImage:
    """The whole cell (transparent background) as a premultiplied ARGB image (GUI thread):
    painted into ``out`` (blank, of :func:`cell_size`) if given, else into a new image."""
    st = spec.style
    flags = spec.flags     # (an int: PhotoFlag's operators cost ~1 µs each, ten a cell)
    if out is None:
        out = QImage(st.cell_w, st.cell_h, QImage.Format.Format_ARGB32_Premultiplied)
        out.fill(Qt.GlobalColor.transparent)
    p = QPainter(out)   # no SmoothPixmapTransform: the picture is drawn at its size (scaled first if
    box = st.box        # not), and the hint made every blit of the edge strips 60 times slower
    if image is not None and not image.isNull():
        area = fit_rect(image.width(), image.height(), box)
        p.drawImage(area, image if image.size() == area.size() else
                    image.scaled(area.size(), Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation))
        _paint_edge(p, area)
    else:
        area = placeholder_rect(box)
        p.drawImage(area.topLeft(), placeholder_image(area.width(), area.height()))
        glyph = "⚠" if flags & _ERROR_F else "?" if flags & _MISSING_F else "▶" if flags & _VIDEO_F else ""
        if glyph:
            f = QFont()
            f.setPixelSize(st.glyph_px)
            p.setFont(f)
            p.setPen(_PLACEHOLDER_GLYPH)
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, glyph)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    _paint_badges(p, area, flags, spec.rating, st.badge_px)
    if spec.quality is not None or spec.burst or spec.stack:
        _paint_culling(p, area, spec, st.badge_px)
    if spec.file_name:
        f = QFont()
        f.setPixelSize(st.name_px)
        fm = QFontMetrics(f)
        p.setFont(f)
        p.setPen(QColor.fromRgba(st.text_rgba))
        text_rect = QRect(PAD_PX, box.bottom() + 3, st.cell_w - 2 * PAD_PX, fm.height())
        p.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
                   fm.elidedText(display_name(spec.file_name), Qt.TextElideMode.ElideMiddle, text_rect.width()))
    p.end()
    return out


_EDGE_STRIPS: list[QImage] = []   # a horizontal and a vertical strip of the edge colour, made once


def _paint_edge(p: QPainter, area: QRect) -> None:
    """A faint one-pixel edge just inside ``area``, blitted from two premade strips: ``drawRect``
    with a pen took 0.26 ms of the 0.43 ms a cell took to compose (cProfile), and a translucent
    ``fillRect`` more than one pixel high 0.08 ms; a blit without SmoothPixmapTransform takes 1 µs."""
    if not _EDGE_STRIPS:
        for w, h in ((MAX_THUMB_PX * 2, 1), (1, MAX_THUMB_PX * 2)):
            strip = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
            strip.fill(_EDGE)
            _EDGE_STRIPS.append(strip)
    across, down = _EDGE_STRIPS
    x, y, w, h = area.x(), area.y(), area.width(), area.height()
    p.drawImage(x, y, across, 0, 0, w, 1)
    if h > 1:
        p.drawImage(x, y + h - 1, across, 0, 0, w, 1)
    if h > 2:
        p.drawImage(x, y + 1, down, 0, 0, 1, h - 2)
        if w > 1:
            p.drawImage(x + w - 1, y + 1, down, 0, 0, 1, h - 2)


def _pill(p: QPainter, fm: QFontMetrics, x: int, y: int, text: str, fg: QColor, bg: QColor) -> None:
    rect = QRect(x, y, fm.horizontalAdvance(text) + 8, fm.height() + 2)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(bg)
    p.drawRoundedRect(QRectF(rect), 3, 3)
    p.setPen(fg)
    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def _paint_badges(p: QPainter, area: QRect, flags: int, rating: int | None, badge_px: int) -> None:
    if not (flags & _BADGED_F or rating):
        return
    font = QFont()
    font.setBold(True)
    font.setPixelSize(badge_px)
    fm = QFontMetrics(font)
    p.setFont(font)
    white = QColor(Qt.GlobalColor.white)
    if flags & _RAW_F:
        _pill(p, fm, area.x() + 3, area.y() + 3, "RAW", white, _BADGE_BG)
    elif flags & _VIDEO_F:
        _pill(p, fm, area.x() + 3, area.y() + 3, "VIDEO", white, _BADGE_BG)
    status = "!" if flags & _ERROR_F else "?" if flags & _MISSING_F else ""
    if status:
        d = fm.height() + 4
        circle = QRect(area.right() - d - 2, area.y() + 3, d, d)
        p.setPen(QPen(white, 1.5))
        p.setBrush(_ERROR if flags & _ERROR_F else _MISSING)
        p.drawEllipse(circle)
        p.setPen(white)
        p.drawText(circle, Qt.AlignmentFlag.AlignCenter, status)
    y = area.bottom() - fm.height() - 4
    x = area.x() + 3
    if flags & _REJECTED_F:
        _pill(p, fm, x, y, "✕", QColor(Qt.GlobalColor.white), _ERROR)
        x += fm.horizontalAdvance("✕") + 12
    elif flags & _PICKED_F:
        _pill(p, fm, x, y, "✓", _GOOD_MARK, _BADGE_BG)
        x += fm.horizontalAdvance("✓") + 12
    if rating and rating > 0:
        _pill(p, fm, x, y, _STARS[max(0, min(5, rating))], _STAR, _BADGE_BG)


def _paint_culling(p: QPainter, area: QRect, spec: CellSpec, badge_px: int) -> None:
    """The quality score (bottom right) and the burst mark (top right: ★ on the best frame)."""
    font = QFont()
    font.setBold(True)
    font.setPixelSize(badge_px)
    fm = QFontMetrics(font)
    p.setFont(font)
    white = QColor(Qt.GlobalColor.white)
    if spec.quality is not None:
        text = str(spec.quality)
        w = fm.horizontalAdvance(text) + 8
        _pill(p, fm, area.right() - w - 2, area.bottom() - fm.height() - 4, text, white, quality_colour(spec.quality))
    if spec.stack:
        # a stack: the frames behind it, drawn as offset edges, and its count (click to open)
        p.setPen(QPen(QColor(255, 255, 255, 140), 1))
        for k in (3, 6):
            p.drawLine(area.left() + k, area.top() - k, area.right() + k, area.top() - k)
            p.drawLine(area.right() + k, area.top() - k, area.right() + k, area.bottom() - k)
        text = f"▣ {spec.stack}"
        w = fm.horizontalAdvance(text) + 8
        _pill(p, fm, area.right() - w - 2, area.y() + 3, text, _BEST, _BADGE_BG)
    elif spec.burst and not spec.flags & (_ERROR_F | _MISSING_F):
        text = "★ best" if spec.burst == BURST_BEST else "burst"
        w = fm.horizontalAdvance(text) + 8
        _pill(p, fm, area.right() - w - 2, area.y() + 3, text, _BEST if spec.burst == BURST_BEST else white,
              _BADGE_BG)


class ThumbnailDelegate(QStyledItemDelegate):
    """Blits the composed cell (``PhotoRole.Thumbnail``) and draws selection; no I/O, few calls."""

    def __init__(self, parent: QObject | None = None, thumb_px: int = DEFAULT_THUMB_PX) -> None:
        super().__init__(parent)
        self._style = CellStyle.for_zoom(thumb_px)
        self._item = self._style.size

    # -- zoom
    @property
    def thumb_px(self) -> int:
        return self._style.thumb_px

    @property
    def cell_style(self) -> CellStyle:
        return self._style

    def set_thumb_px(self, px: int, text_rgba: int | None = None) -> CellStyle:
        rgba = self._style.text_rgba if text_rgba is None else text_rgba
        self._style = CellStyle.for_zoom(px, rgba)
        self._item = self._style.size
        return self._style

    def cell_size(self) -> QSize:
        """The natural cell for the zoom level (the view may widen it to fill a row)."""
        return self._style.size

    def set_item_size(self, size: QSize) -> None:
        """The size items report: the view's grid cell (the natural cell widened to fill a row)."""
        self._item = QSize(size)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(self._item)

    # -- painting
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        state = option.state  # type: ignore[attr-defined]
        model = index.model()
        cell_pixmap = getattr(model, "cell_pixmap", None)   # PhotoGridModel: a direct Python call
        pixmap = cell_pixmap(index.row()) if cell_pixmap is not None else index.data(PhotoRole.Thumbnail)
        frame = FRAME_SELECTED if state & QStyle.StateFlag.State_Selected else \
            FRAME_HOVER if state & QStyle.StateFlag.State_MouseOver else FRAME_NONE
        self.paint_cell(painter, option.rect, pixmap, frame, option.palette)  # type: ignore[attr-defined]

    def paint_cell(self, painter: QPainter, full: QRect, pixmap: object, frame: int, palette: QPalette) -> None:
        """One cell in ``full`` (the grid cell): the frame (``FRAME_*``), then the composed
        cell (a QPixmap, or a QImage painted in the loader's cell memory), or a placeholder
        while it is on its way.  The grid view calls this directly, without a
        QStyleOptionViewItem per cell."""
        st = self._style
        x = full.x() + (full.width() - st.cell_w) // 2
        if frame:
            self._paint_frame(painter, QRect(x, full.y(), st.cell_w, full.height()), palette, frame == FRAME_SELECTED)
        if isinstance(pixmap, (QImage, QPixmap)):
            blit = painter.drawImage if isinstance(pixmap, QImage) else painter.drawPixmap
            if pixmap.width() == st.cell_w and pixmap.height() == st.cell_h:
                blit(x, full.y(), pixmap)                     # the usual case: one blit
            else:                                             # another zoom's cell, until reloaded
                painter.save()
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
                blit(fit_rect(pixmap.width(), pixmap.height(), QRect(x, full.y(), st.cell_w, st.cell_h)), pixmap)
                painter.restore()
        else:
            area = placeholder_rect(st.box)
            painter.drawImage(x + area.x(), full.y() + area.y(), placeholder_image(area.width(), area.height()))

    @staticmethod
    def _paint_frame(painter: QPainter, cell: QRect, palette: QPalette, is_selected: bool) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        hl = QColor(palette.color(QPalette.ColorRole.Highlight))
        fill = QColor(hl)
        fill.setAlpha(70 if is_selected else 28)
        painter.setPen(QPen(hl, 2) if is_selected else Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(QRectF(cell).adjusted(1.5, 1.5, -1.5, -1.5), 5, 5)
        painter.restore()
