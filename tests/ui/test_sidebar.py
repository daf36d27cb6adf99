"""The catalog sidebar without a database: views, folders, greyed views (GUI thread, fake state)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidgetItem

from lumina_desktop.core.models import Catalog, CatalogFolder
from lumina_desktop.core.library import LibraryState
from lumina_desktop.ui.widgets.catalog_sidebar import CatalogSidebarWidget

pytestmark = [pytest.mark.ui]
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _item(sidebar: CatalogSidebarWidget, label: str) -> QTreeWidgetItem:
    items = sidebar.tree.findItems(label, Qt.MatchFlag.MatchRecursive)
    assert items, label
    return items[0]


@pytest.fixture
def sidebar(qtbot) -> CatalogSidebarWidget:  # type: ignore[no-untyped-def]
    w = CatalogSidebarWidget()
    qtbot.addWidget(w)
    cat = Catalog(1, "Photos", NOW, 1, 3)
    folder = CatalogFolder(7, 1, "/home/me/Pictures", NOW, None, 3)
    w.set_state(LibraryState((cat,), cat, (folder,), {"ok": 3}))
    w.show()
    return w


def test_clicking_the_smart_views_selects_them(sidebar: CatalogSidebarWidget, qtbot) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    sidebar.view_selected.connect(seen.append)
    sidebar.tree.itemClicked.emit(_item(sidebar, "Has errors"), 0)
    assert seen == ["errors"]
    sidebar.tree.itemClicked.emit(_item(sidebar, "Duplicates"), 0)  # the duplicate review
    assert seen == ["errors", "duplicates"]
    sidebar.tree.itemClicked.emit(_item(sidebar, "Bursts"), 0)      # enabled: the bursts job exists
    assert seen == ["errors", "duplicates", "bursts"]
