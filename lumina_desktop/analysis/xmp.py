"""Tolerant XMP packet and IPTC keyword parsing (no defusedxml needed).

Runs on any thread (worker).  Pure functions over bytes.  XMP is parsed with the
standard library's expat-based ElementTree (entity expansion is bounded by expat
≥ 2.4, external entities are never fetched); a packet that is not well-formed falls
back to regular expressions, so a damaged packet still yields what it can.
"""
from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "exifEX": "http://cipa.jp/exif/1.0/",
    "aux": "http://ns.adobe.com/exif/1.0/aux/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
}
MAX_PACKET_BYTES = 4 << 20
_PACKET = re.compile(rb"<x:xmpmeta[\s>].*?</x:xmpmeta>", re.S)
_PACKET_RDF = re.compile(rb"<rdf:RDF[\s>].*?</rdf:RDF>", re.S)

# Properties read, as (namespace prefix, local name); the first one found wins.
_DATE_PROPS = (("exif", "DateTimeOriginal"), ("photoshop", "DateCreated"),
               ("xmp", "CreateDate"), ("exif", "DateTimeDigitized"))
_SERIAL_PROPS = (("exifEX", "BodySerialNumber"), ("aux", "SerialNumber"))
_LENS_PROPS = (("exifEX", "LensModel"), ("aux", "Lens"))


@dataclass(frozen=True, slots=True)
class XmpFields:
    """The XMP properties ingest uses; None/() where absent."""

    rating: int | None = None
    keywords: tuple[str, ...] = ()
    date: str | None = None
    serial: str | None = None
    lens: str | None = None


def find_packet(data: bytes, limit: int = MAX_PACKET_BYTES) -> bytes | None:
    """The first ``<x:xmpmeta>…</x:xmpmeta>`` (or bare ``<rdf:RDF>``) in ``data``.

    Used for containers whose decoder does not expose XMP (e.g. RAW files).
    """
    start = data.find(b"<x:xmpmeta")
    if start < 0:
        start = data.find(b"<rdf:RDF")
        if start < 0:
            return None
        m = _PACKET_RDF.match(data, start, start + limit)
    else:
        m = _PACKET.match(data, start, start + limit)
    return m.group(0) if m else None


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None


def _parse_rating(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = round(float(text.strip()))
    except ValueError:
        return None
    return value if -1 <= value <= 5 else None


def _prop(root: ET.Element, prefix: str, local: str) -> str | None:
    """A simple property: attribute of any rdf:Description, or a child element's text."""
    qname = f"{{{NS[prefix]}}}{local}"
    for desc in root.iter(f"{{{NS['rdf']}}}Description"):
        if qname in desc.attrib:
            return _clean(desc.attrib[qname])
        elem = desc.find(qname)
        if elem is not None:
            li = elem.find(f".//{{{NS['rdf']}}}li")
            return _clean(li.text if li is not None else elem.text)
    return None


def _first(get: Callable[[str, str], str | None], props: tuple[tuple[str, str], ...]
           ) -> str | None:
    for prefix, local in props:
        value = get(prefix, local)
        if value:
            return value
    return None


def _parse_tree(root: ET.Element) -> XmpFields:
    keywords: list[str] = []
    for subject in root.iter(f"{{{NS['dc']}}}subject"):
        for li in subject.iter(f"{{{NS['rdf']}}}li"):
            word = _clean(li.text)
            if word:
                keywords.append(word)
    return XmpFields(
        rating=_parse_rating(_prop(root, "xmp", "Rating")),
        keywords=tuple(dict.fromkeys(keywords)),
        date=_first(lambda p, n: _prop(root, p, n), _DATE_PROPS),
        serial=_first(lambda p, n: _prop(root, p, n), _SERIAL_PROPS),
        lens=_first(lambda p, n: _prop(root, p, n), _LENS_PROPS),
    )


def _regex_prop(text: str, prefix: str, local: str) -> str | None:
    m = re.search(rf'{prefix}:{local}\s*=\s*"([^"]*)"', text) or re.search(
        rf"<{prefix}:{local}>\s*(?:<rdf:\w+>\s*<rdf:li[^>]*>)?([^<]*)<", text)
    return _clean(html.unescape(m.group(1))) if m else None


def _parse_regex(text: str) -> XmpFields:
    keywords: list[str] = []
    subject = re.search(r"<dc:subject>(.*?)</dc:subject>", text, re.S)
    if subject:
        for word in re.findall(r"<rdf:li[^>]*>([^<]*)</rdf:li>", subject.group(1)):
            cleaned = _clean(html.unescape(word))
            if cleaned:
                keywords.append(cleaned)
    return XmpFields(
        rating=_parse_rating(_regex_prop(text, "xmp", "Rating")),
        keywords=tuple(dict.fromkeys(keywords)),
        date=_first(lambda p, n: _regex_prop(text, p, n), _DATE_PROPS),
        serial=_first(lambda p, n: _regex_prop(text, p, n), _SERIAL_PROPS),
        lens=_first(lambda p, n: _regex_prop(text, p, n), _LENS_PROPS),
    )


def _decode_packet(raw: bytes) -> str:
    """XMP may be UTF-8, UTF-16 or UTF-32 (XMP spec §7.1); detect by the first '<'."""
    raw = raw[:MAX_PACKET_BYTES]
    for prefix, codec in ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
                          (b"\x00<", "utf-16-be"), (b"<\x00", "utf-16-le")):
        at = raw.find(prefix)
        if 0 <= at < 8:
            return raw[at:].decode(codec, "replace")
    return raw.decode("utf-8", "replace")


def parse_xmp(packet: bytes | str) -> tuple[XmpFields, str | None]:
    """Parse an XMP packet; returns ``(fields, warning or None)``.  Never raises."""
    text = packet if isinstance(packet, str) else _decode_packet(packet.lstrip(b"\xef\xbb\xbf"))
    start = -1
    for opener in ("<x:xmpmeta", "<x:xapmeta", "<rdf:RDF"):
        start = text.find(opener)
        if start >= 0:
            break
    if start < 0:
        return XmpFields(), "XMP packet has no <x:xmpmeta> or <rdf:RDF> element"
    body = text[start:]
    for closer in ("</x:xmpmeta>", "</x:xapmeta>", "</rdf:RDF>"):
        end = body.rfind(closer)
        if end >= 0:
            body = body[:end + len(closer)]
            break
    try:
        return _parse_tree(ET.fromstring(body)), None
    except ET.ParseError as exc:
        return _parse_regex(body), f"XMP packet is not well-formed XML ({exc}); read leniently"


def iptc_keywords(iptc: dict[tuple[int, int], object] | None) -> tuple[str, ...]:
    """Keywords (IPTC IIM 2:25) from ``PIL.IptcImagePlugin.getiptcinfo`` output."""
    if not iptc:
        return ()
    value = iptc.get((2, 25))
    items = value if isinstance(value, list) else [value] if value is not None else []
    words: list[str] = []
    for item in items:
        if isinstance(item, bytes):
            try:
                text = item.decode("utf-8")
            except UnicodeDecodeError:
                text = item.decode("latin-1")
        else:
            text = str(item)
        cleaned = _clean(text.strip("\x00"))
        if cleaned:
            words.append(cleaned)
    return tuple(dict.fromkeys(words))
