"""The bundle sees every command and every job kind: both are listed by explicit imports.

PyInstaller finds modules only through imports it can read; a module looked up by name at run time
is left out of the bundle and silently missing there ("invalid choice: 'scan'", issue 18).
"""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

from lumina_desktop.cli import build_parser, command_modules
from lumina_desktop.jobs.kinds import BUILTIN_KINDS

PKG = Path(__file__).resolve().parents[2] / "lumina_desktop"


def test_every_cli_command_module_is_registered() -> None:
    on_disk = {p.stem for p in (PKG / "cli").glob("*_cmd.py")}
    listed = {m.__name__.rsplit(".", 1)[1] for m in command_modules()}
    assert on_disk and listed == on_disk


def test_the_parser_offers_every_command_group() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    commands = set(sub.choices)
    assert {"config", "db", "catalog", "scan", "duplicates", "jobs", "worker", "thumbnails",
            "quality", "bursts", "operations", "undo"} <= commands


def test_every_job_kind_module_is_in_builtin_kinds() -> None:
    registered_modules = {type(kind).__module__ for kind in BUILTIN_KINDS}
    for path in (PKG / "jobs" / "kinds").glob("*.py"):
        if path.stem == "__init__":
            continue
        module = importlib.import_module(f"lumina_desktop.jobs.kinds.{path.stem}")
        kinds_defined = [c for _, c in inspect.getmembers(module, inspect.isclass)
                         if c.__module__ == module.__name__ and c.__name__.endswith("Kind")
                         and getattr(c, "name", "")]      # a named kind, not a shared base (AfterScanKind)
        if kinds_defined:
            assert module.__name__ in registered_modules, f"{path.name} defines a kind missing from BUILTIN_KINDS"


def test_registries_use_no_name_lookups() -> None:
    for rel in ("cli/__init__.py", "jobs/kinds/__init__.py"):
        tree = ast.parse((PKG / rel).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
                assert not any(n and n.startswith("importlib") for n in names), f"{rel} imports importlib"
            if isinstance(node, ast.Name):
                assert node.id != "__import__", f"{rel} uses __import__"
