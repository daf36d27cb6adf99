"""Keeper suggestion for duplicate groups: an ordered, user-editable rule list with reasons.

Runs on any thread (worker): pure functions over plain values, no state.

A rule list is a tuple of rule names (serialisable as a list of strings, see
``rules_to_strings`` / ``rules_from_strings``). Photos are ranked by the first
rule that tells them apart, then the next, ...; ties after every rule go to the
lower photo id, so the result is deterministic. ``explain`` names the rule
that decided between the keeper and another member, in words.

Default order and why it differs from "format first": a PNG or TIFF made from
a camera JPEG is lossless but not the original; ranking lossless before
everything else would keep the conversion and trash the camera file. So RAW
(always the camera original) comes first, then pixels (resized copies lose),
then camera EXIF (conversions and messenger copies usually drop it), and only
then lossless over lossy, larger file at equal pixels and format, earliest
capture/modification time, and path hints (Downloads, WhatsApp, "Copy of",
" (1)"). Users who prefer the brief's "format first" order can reorder.
Each rule compares one fact; ``file_size`` placed after ``pixels`` and
``format`` (as by default) therefore means "larger file at equal pixels and
format".
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = [
    "RULES",
    "DEFAULT_RULES",
    "KeeperFacts",
    "rank_key",
    "explain",
    "rules_to_strings",
    "rules_from_strings",
    "format_level",
    "path_penalties",
]

RAW_FORMATS = frozenset(
    {"CR2", "CR3", "CRW", "NEF", "NRW", "ARW", "SR2", "SRF", "DNG", "RAF", "ORF", "RW2", "PEF", "SRW", "X3F", "IIQ", "MRW", "3FR", "ERF", "KDC", "MEF", "MOS", "RWL"}
)
LOSSLESS_FORMATS = frozenset({"PNG", "TIFF", "TIF", "BMP", "GIF", "PPM", "PGM", "QOI"})
_LEVEL_NAMES = {2: "RAW", 1: "lossless", 0: "lossy"}

_PATH_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("in Downloads", re.compile(r"(^|[/\\])downloads?([/\\]|$)", re.I)),
    ("from WhatsApp", re.compile(r"whatsapp", re.I)),
    ("from Telegram", re.compile(r"telegram", re.I)),
    ("from a messenger", re.compile(r"messenger|signal|viber|wechat|line[/\\]|facebook|instagram", re.I)),
    ("named 'Copy of'", re.compile(r"(^|[/\\])copy of ", re.I)),
    ("named as a copy", re.compile(r"( - copy| copy| \(\d+\)|_copy|-copy)(\.[^./\\]+)?$", re.I)),
)


class KeeperFacts(Protocol):
    """What the rules read from a photo (PhotoFingerprint satisfies it)."""

    @property
    def id(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def format(self) -> str: ...
    @property
    def is_raw(self) -> bool: ...
    @property
    def has_camera_exif(self) -> bool: ...
    @property
    def capture_time(self) -> datetime | None: ...
    @property
    def mtime(self) -> float: ...
    @property
    def path(self) -> str: ...


def format_level(p: KeeperFacts) -> int:
    """2 = RAW, 1 = lossless (PNG, TIFF, ...), 0 = lossy or unknown (JPEG, HEIF, WebP)."""
    fmt = (p.format or "").upper()
    if p.is_raw or fmt in RAW_FORMATS:
        return 2
    return 1 if fmt in LOSSLESS_FORMATS else 0


def path_penalties(path: str) -> list[str]:
    """Path hints that suggest a copy ('in Downloads', 'from WhatsApp', ...)."""
    return [label for label, rx in _PATH_HINTS if rx.search(path or "")]


def _earliest(p: KeeperFacts) -> float:
    t = p.capture_time
    if t is not None:
        try:
            return t.timestamp()
        except (OverflowError, OSError, ValueError):
            pass
    return float(p.mtime) if math.isfinite(p.mtime) else math.inf


def _fmt_name(p: KeeperFacts) -> str:
    return (p.format or "unknown").upper()


def _when(p: KeeperFacts) -> str:
    if p.capture_time is not None:
        return f"taken {p.capture_time:%Y-%m-%d %H:%M:%S}"
    return f"modified {datetime.fromtimestamp(p.mtime):%Y-%m-%d %H:%M:%S}" if math.isfinite(p.mtime) else "no date"


@dataclass(frozen=True)
class _Rule:
    """key: smaller is better. say(winner, loser): the reason, in words."""

    key: Callable[[KeeperFacts], float]
    say: Callable[[KeeperFacts, KeeperFacts], str]


RULES: dict[str, _Rule] = {
    "raw": _Rule(
        lambda p: 0.0 if format_level(p) == 2 else 1.0,
        lambda w, l: f"RAW ({_fmt_name(w)}) beats {_fmt_name(l)}",
    ),
    "pixels": _Rule(
        lambda p: -float(p.width) * float(p.height),
        lambda w, l: f"{w.width}\N{MULTIPLICATION SIGN}{w.height} beats {l.width}\N{MULTIPLICATION SIGN}{l.height}",
    ),
    "camera_exif": _Rule(
        lambda p: 0.0 if p.has_camera_exif else 1.0,
        lambda w, l: "has camera EXIF",
    ),
    "format": _Rule(
        lambda p: -float(format_level(p)),
        lambda w, l: f"{_LEVEL_NAMES[format_level(w)]} {_fmt_name(w)} beats {_LEVEL_NAMES[format_level(l)]} {_fmt_name(l)}",
    ),
    "file_size": _Rule(
        lambda p: -float(p.size),
        lambda w, l: f"larger file ({w.size:,} bytes vs {l.size:,})",
    ),
    "earliest": _Rule(
        _earliest,
        lambda w, l: f"older: {_when(w)} vs {_when(l)}",
    ),
    "path": _Rule(
        lambda p: float(len(path_penalties(p.path))),
        lambda w, l: "other copy is " + ", ".join(path_penalties(l.path)) if path_penalties(l.path) else "better location",
    ),
}

DEFAULT_RULES: tuple[str, ...] = ("raw", "pixels", "camera_exif", "format", "file_size", "earliest", "path")


def rules_to_strings(rules: Sequence[str]) -> list[str]:
    """A rule list as plain strings (for settings files)."""
    return [str(r) for r in rules]


def rules_from_strings(names: Iterable[str]) -> tuple[str, ...]:
    """Validate a stored rule list; unknown names raise, duplicates are dropped."""
    out: list[str] = []
    for n in names:
        n = n.strip()
        if n not in RULES:
            raise ValueError(f"unknown keeper rule {n!r}; known: {', '.join(RULES)}")
        if n not in out:
            out.append(n)
    return tuple(out)


def rank_key(p: KeeperFacts, rules: Sequence[str] = DEFAULT_RULES) -> tuple[float, ...]:
    """Sort key: the best keeper sorts first; photo id breaks ties."""
    return (*(RULES[r].key(p) for r in rules), float(p.id))


def explain(keeper: KeeperFacts, other: KeeperFacts, rules: Sequence[str] = DEFAULT_RULES) -> str:
    """Why `keeper` is preferred to `other`: the first deciding rule, in words."""
    for name in rules:
        rule = RULES[name]
        kk, ko = rule.key(keeper), rule.key(other)
        if kk != ko:
            return rule.say(keeper, other) if kk < ko else f"{name} prefers the other copy"
    return "equal on every rule; lower id kept"
