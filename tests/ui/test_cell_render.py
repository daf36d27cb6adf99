"""render_cell: the composed grid cell, pixel by pixel (picture placed, faint edge, badges, name)."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from lumina_desktop.core.library import PhotoFlag
from lumina_desktop.ui.delegates.thumbnail_delegate import CellSpec, CellStyle, fit_rect, render_cell

pytestmark = pytest.mark.ui


def as_array(image: QImage) -> np.ndarray:
    """Premultiplied ARGB32 pixels as an (h, w, 4) int array in B, G, R, A order."""
    image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return raw[:, :image.width() * 4].reshape(image.height(), image.width(), 4).astype(int)


def picture(w: int, h: int, bgr: tuple[int, int, int]) -> QImage:
    data = np.empty((h, w, 4), np.uint8)
    data[..., 0], data[..., 1], data[..., 2], data[..., 3] = *bgr, 255
    return QImage(data.tobytes(), w, h, w * 4, QImage.Format.Format_RGB32).copy()


def test_the_picture_is_placed_in_its_box_with_a_faint_one_pixel_edge(qapp) -> None:  # type: ignore[no-untyped-def]
    style = CellStyle.for_zoom(180)
    cell = as_array(render_cell(picture(180, 120, (200, 150, 100)), CellSpec(style, "", 0, None)))
    area = fit_rect(180, 120, style.box)
    x0, y0, x1, y1 = area.x(), area.y(), area.right(), area.bottom()
    inside = cell[y0 + 1:y1, x0 + 1:x1]
    assert (inside == [200, 150, 100, 255]).all()                       # the picture, untouched
    darker = np.round(np.array([200, 150, 100]) * (255 - 48) / 255)      # black at alpha 48 over it
    for edge in (cell[y0, x0:x1 + 1], cell[y1, x0:x1 + 1], cell[y0:y1 + 1, x0], cell[y0:y1 + 1, x1]):
        assert np.abs(edge[:, :3] - darker).max() <= 1 and (edge[:, 3] == 255).all()
    outside = np.ones(cell.shape[:2], bool)
    outside[y0:y1 + 1, x0:x1 + 1] = False
    assert (cell[outside] == 0).all()                                     # transparent around it


def test_a_tall_picture_and_a_one_pixel_picture_keep_their_edge_inside_the_box(qapp) -> None:  # type: ignore[no-untyped-def]
    style = CellStyle.for_zoom(96)
    for w, h in ((120, 180), (180, 2), (3, 180)):
        cell = as_array(render_cell(picture(w, h, (90, 90, 90)), CellSpec(style, "", 0, None)))
        area = fit_rect(w, h, style.box)
        painted = np.argwhere(cell[..., 3] > 0)
        assert painted.min(axis=0).tolist() == [area.y(), area.x()], (w, h)
        assert painted.max(axis=0).tolist() == [area.bottom(), area.right()], (w, h)
        assert cell[area.y(), area.x(), 0] < 90                            # the edge darkens


def test_badges_and_the_name_are_drawn_over_the_picture_and_below_it(qapp) -> None:  # type: ignore[no-untyped-def]
    style = CellStyle.for_zoom(180)
    plain = as_array(render_cell(picture(180, 135, (40, 160, 40)), CellSpec(style, "", 0, None)))
    full = as_array(render_cell(picture(180, 135, (40, 160, 40)),
                                CellSpec(style, "IMG_0001.jpg", int(PhotoFlag.RAW), 4, quality=35, burst=2)))
    area = fit_rect(180, 135, style.box)
    changed = np.abs(full - plain).max(axis=2) > 0
    corners = {"top left (RAW)": changed[area.y():area.y() + 20, area.x():area.x() + 40],
               "top right (best)": changed[area.y():area.y() + 20, area.right() - 50:area.right()],
               "bottom left (stars)": changed[area.bottom() - 20:area.bottom(), area.x():area.x() + 60],
               "bottom right (quality)": changed[area.bottom() - 20:area.bottom(), area.right() - 30:area.right()],
               "the name": changed[style.box.bottom() + 1:, :]}
    for where, region in corners.items():
        assert region.any(), where
    assert not changed[area.y() + 40:area.bottom() - 40, area.x() + 60:area.right() - 60].any()   # the middle stays


def test_placeholders_are_blitted_with_the_pixels_a_translucent_fill_gives(qapp) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QColor, QPainter, QPalette

    from lumina_desktop.ui.delegates.thumbnail_delegate import ThumbnailDelegate, placeholder_rect

    delegate = ThumbnailDelegate(thumb_px=180)
    style = delegate.cell_style
    for paint in ("cell", "composed"):
        blitted = QImage(style.cell_w, style.cell_h, QImage.Format.Format_RGB32)
        blitted.fill(QColor(240, 240, 240))
        filled = blitted.copy()
        painter = QPainter(blitted)
        if paint == "cell":     # a cell whose thumbnail is on its way
            delegate.paint_cell(painter, QRect(0, 0, style.cell_w, style.cell_h), None, 0, QPalette())
        else:                   # a cell composed without a thumbnail (none stored)
            painter.drawImage(0, 0, render_cell(None, CellSpec(style, "", 0, None)))
        painter.end()
        painter = QPainter(filled)
        painter.fillRect(placeholder_rect(style.box), QColor(128, 128, 128, 48))
        painter.end()
        assert np.array_equal(as_array(blitted), as_array(filled)), paint
        assert (as_array(blitted)[style.box.center().y(), style.box.center().x(), :3] < 240).all()
