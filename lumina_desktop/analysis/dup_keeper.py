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
then lossless over lossy, upright over needing the EXIF orientation turn, larger
file at equal pixels and format, earliest capture/modification time, and path
hints (Downloads, WhatsApp, "Copy of", " (1)"). Users who prefer the brief's
"format first" order can reorder.
Each rule compares one fact; ``file_size`` placed after ``pixels`` and
``format`` (as by default) therefore means "larger file at equal pixels and
format".

A RAW is the better original only when its picture is there: a RAW whose
recorded size is under a quarter (``RAW_MIN_PIXEL_SHARE``) of the pixels of
the largest photo it is compared with (its hash candidates, ``peer_px``) does
not count as RAW for the ``raw`` and ``format`` rules -- e.g. a RAW that
LibRaw could not size, so that it was recorded at its 8x8 or 160x120
embedded preview. Otherwise the pixels decide. (When the RAW's full size is
recorded its format wins, even if only a tiny preview could be decoded: the
decoded size does not reach the keeper rules.)

``orientation`` prefers a copy whose pixels are stored upright (EXIF
orientation 1 or none) to one that needs turning (2-8): a viewer that ignores
the tag shows the latter rotated or mirrored. It comes before ``file_size``
because a rotated re-save of the same picture differs in size for no reason
that matters.

Every reason states the two values it compared, and they differ (``earliest``
compares times to the millisecond -- closer times tie -- and shows
milliseconds when the seconds agree).
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    "pixel_count",
    "counts_as_raw",
    "needs_turn",
    "RAW_MIN_PIXEL_SHARE",
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
    @property
    def orientation(self) -> int | None: ...


RAW_MIN_PIXEL_SHARE = 0.25
"""A RAW counts as RAW only with at least this share of its largest peer's pixels (half the width and height)."""


def pixel_count(p: KeeperFacts) -> float:
    """Recorded width x height (0 when unknown)."""
    return float(max(p.width, 0)) * float(max(p.height, 0))


def _is_raw_file(p: KeeperFacts) -> bool:
    return bool(p.is_raw) or (p.format or "").upper() in RAW_FORMATS


def counts_as_raw(p: KeeperFacts, peer_px: float = 0.0) -> bool:
    """A RAW file whose recorded pixels are at least comparable to ``peer_px`` (the largest peer's pixels)."""
    return _is_raw_file(p) and pixel_count(p) >= RAW_MIN_PIXEL_SHARE * peer_px


def format_level(p: KeeperFacts, peer_px: float = 0.0) -> int:
    """2 = RAW, 1 = lossless (PNG, TIFF, ...), 0 = lossy or unknown (JPEG, HEIF, WebP) or a RAW too small to count."""
    if _is_raw_file(p):
        return 2 if counts_as_raw(p, peer_px) else 0
    return 1 if (p.format or "").upper() in LOSSLESS_FORMATS else 0


def path_penalties(path: str) -> list[str]:
    """Path hints that suggest a copy ('in Downloads', 'from WhatsApp', ...)."""
    return [label for label, rx in _PATH_HINTS if rx.search(path or "")]


def _time_ms(p: KeeperFacts) -> tuple[int, bool] | None:
    """(milliseconds since the epoch, is it the capture time) of the photo's earliest date, or None.

    Integer milliseconds so that the rule's key and the reason's text show the same value.
    """
    t = p.capture_time
    if t is not None:
        try:
            return int(t.replace(microsecond=0).timestamp()) * 1000 + t.microsecond // 1000, True
        except (OverflowError, OSError, ValueError):
            pass
    if math.isfinite(p.mtime):
        return math.floor(p.mtime * 1000.0), False
    return None


def _earliest(p: KeeperFacts) -> float:
    t = _time_ms(p)
    return math.inf if t is None else float(t[0])


def _when(p: KeeperFacts, with_ms: bool) -> tuple[str, str]:
    """(label, time) as shown in a reason: ('taken', '2020-01-01 12:00:00[.123]'), ('', 'no date')."""
    t = _time_ms(p)
    if t is None:
        return "", "no date"
    ms, taken = t
    if taken and p.capture_time is not None:
        text, frac = f"{p.capture_time:%Y-%m-%d %H:%M:%S}", p.capture_time.microsecond // 1000
    else:
        try:
            text = f"{datetime.fromtimestamp(ms // 1000):%Y-%m-%d %H:%M:%S}"
        except (OverflowError, OSError, ValueError):
            text = f"{ms // 1000} s after 1970"
        frac = ms % 1000
    return ("taken" if taken else "modified"), (f"{text}.{frac:03d}" if with_ms else text)


def _say_earliest(w: KeeperFacts, l: KeeperFacts) -> str:
    """Seconds, or milliseconds when the seconds agree: the two times shown always differ."""
    for with_ms in (False, True):
        (lw, tw), (ll, tl) = _when(w, with_ms), _when(l, with_ms)
        if tw != tl:
            return f"older: {' '.join(filter(None, (lw, tw)))} vs {' '.join(filter(None, (ll, tl)))}"
    return f"older by {int(_earliest(l) - _earliest(w))} ms"  # one wall-clock time twice (a DST change)


_TURNS = {2: "mirrored", 3: "rotated", 4: "mirrored", 5: "rotated and mirrored", 6: "rotated",
          7: "rotated and mirrored", 8: "rotated"}


def needs_turn(p: KeeperFacts) -> bool:
    """Its pixels are shown turned or mirrored (EXIF orientation 2-8), not as stored."""
    return p.orientation in _TURNS


def _orientation_words(p: KeeperFacts) -> str:
    o = p.orientation
    if o is None:
        return "upright (no EXIF orientation)"
    if o not in _TURNS:
        return f"upright (EXIF orientation {o})"
    return f"{_TURNS[o]} (orientation {o})"


def _path_words(p: KeeperFacts) -> str:
    return ", ".join(path_penalties(p.path)) or "no copy hint in the path"


def _fmt_name(p: KeeperFacts) -> str:
    return (p.format or "unknown").upper()


def _size_words(p: KeeperFacts) -> str:
    if p.width > 0 and p.height > 0:
        return f"only {p.width}\N{MULTIPLICATION SIGN}{p.height} px"
    return "unknown size"


@dataclass(frozen=True)
class _Seen:
    """A photo as the rules see it: its facts and whether it counts as RAW among its peers."""

    p: KeeperFacts
    is_raw: bool


def _format_words(s: _Seen) -> str:
    if s.is_raw:
        return f"RAW {_fmt_name(s.p)}"
    if _is_raw_file(s.p):
        return f"{_fmt_name(s.p)} with {_size_words(s.p)}"
    return f"{_LEVEL_NAMES[format_level(s.p)]} {_fmt_name(s.p)}"


def _raw_loser(s: _Seen) -> str:
    return f"{_fmt_name(s.p)} with {_size_words(s.p)}" if _is_raw_file(s.p) else _fmt_name(s.p)


def _level(s: _Seen) -> int:
    return 2 if s.is_raw else (0 if _is_raw_file(s.p) else format_level(s.p))


@dataclass(frozen=True)
class _Rule:
    """key: smaller is better. say(winner, loser): the reason, in words."""

    key: Callable[[_Seen], float]
    say: Callable[[_Seen, _Seen], str]


RULES: dict[str, _Rule] = {
    "raw": _Rule(
        lambda s: 0.0 if s.is_raw else 1.0,
        lambda w, l: f"RAW ({_fmt_name(w.p)}) beats {_raw_loser(l)}",
    ),
    "pixels": _Rule(
        lambda s: -pixel_count(s.p),
        lambda w, l: f"{w.p.width}\N{MULTIPLICATION SIGN}{w.p.height} beats {l.p.width}\N{MULTIPLICATION SIGN}{l.p.height}",
    ),
    "camera_exif": _Rule(
        lambda s: 0.0 if s.p.has_camera_exif else 1.0,
        lambda w, l: "camera EXIF (make or model) vs none",
    ),
    "format": _Rule(
        lambda s: -float(_level(s)),
        lambda w, l: f"{_format_words(w)} beats {_format_words(l)}",
    ),
    "orientation": _Rule(
        lambda s: 1.0 if needs_turn(s.p) else 0.0,
        lambda w, l: f"{_orientation_words(w.p)} vs {_orientation_words(l.p)}",
    ),
    "file_size": _Rule(
        lambda s: -float(s.p.size),
        lambda w, l: f"larger file ({w.p.size:,} bytes vs {l.p.size:,})",
    ),
    "earliest": _Rule(
        lambda s: _earliest(s.p),
        lambda w, l: _say_earliest(w.p, l.p),
    ),
    "path": _Rule(
        lambda s: float(len(path_penalties(s.p.path))),
        lambda w, l: f"{_path_words(w.p)} vs {_path_words(l.p)}",
    ),
}

DEFAULT_RULES: tuple[str, ...] = ("raw", "pixels", "camera_exif", "format", "orientation", "file_size", "earliest", "path")


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


def rank_key(p: KeeperFacts, rules: Sequence[str] = DEFAULT_RULES, *, peer_px: float = 0.0) -> tuple[float, ...]:
    """Sort key: the best keeper sorts first; photo id breaks ties.

    ``peer_px``: the largest pixel count among the photos ``p`` is compared with (see ``counts_as_raw``).
    """
    seen = _Seen(p, counts_as_raw(p, peer_px))
    return (*(RULES[r].key(seen) for r in rules), float(p.id))


def explain(
    keeper: KeeperFacts, other: KeeperFacts, rules: Sequence[str] = DEFAULT_RULES, *, peer_px: Mapping[int, float] | None = None
) -> str:
    """Why `keeper` is preferred to `other`: the first deciding rule, in words, with both values.

    ``peer_px`` maps photo ids to the values given to ``rank_key`` (missing: 0).
    """
    peers = peer_px or {}
    sk = _Seen(keeper, counts_as_raw(keeper, peers.get(keeper.id, 0.0)))
    so = _Seen(other, counts_as_raw(other, peers.get(other.id, 0.0)))
    for name in rules:
        rule = RULES[name]
        kk, ko = rule.key(sk), rule.key(so)
        if kk != ko:
            return rule.say(sk, so) if kk < ko else f"kept although {name} prefers the other copy: {rule.say(so, sk)}"
    if keeper.id < other.id:
        return f"equal on every rule; lower id kept ({keeper.id} vs {other.id})"
    return "equal on every rule"
