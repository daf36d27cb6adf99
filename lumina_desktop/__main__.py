from __future__ import annotations

def main() -> int:
    return 0

def gui_main() -> int:
    return 0
