"""User-provided text made safe to print on a terminal (pure, any thread).

File names may hold any byte but ``/`` and NUL: an escape sequence in a name could recolour,
retitle or clear the terminal, a carriage return could overwrite what was printed, a newline
could forge a line of output.  :func:`printable` shows such characters as visible escapes, the
way Python's ``repr`` does, and leaves every other character (accents, CJK, emoji) alone.
Every CLI line that shows a file name, a path, a catalog name or a stored message goes
through it.
"""
from __future__ import annotations

import re

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# C0 controls, DEL, C1 controls; lone surrogates (names that are not UTF-8, decoded by Python with
# surrogateescape, and invalid text); bidirectional overrides and isolates, which reorder what the
# reader sees; line and paragraph separators, which some terminals break lines at
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    o = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if o <= 0xFF:
        return f"\\x{o:02x}"
    if 0xDC80 <= o <= 0xDCFF:  # one byte that is not UTF-8 (surrogateescape): show the byte
        return f"\\x{o - 0xDC00:02x}"
    return f"\\u{o:04x}"


def printable(text: object) -> str:
    """``text`` (a str, a path, anything with ``str``) with control characters, lone surrogates
    and bidi/line-separator characters shown as ``\\xNN``/``\\uNNNN``/``\\n``; one line, and
    safe to print to a terminal and to encode as UTF-8."""
    s = text if isinstance(text, str) else str(text)
    if s.isprintable():  # the common case: nothing to do (isprintable is False for all of the above)
        return s
    return _UNSAFE.sub(_escape, s)
