"""analysis.xmp: tolerant XMP parsing and IPTC keywords."""
from __future__ import annotations

from lumina_desktop.analysis.xmp import find_packet, iptc_keywords, parse_xmp

ELEMENTS = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""
 xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:aux="http://ns.adobe.com/exif/1.0/aux/">
 <xmp:Rating>-1</xmp:Rating>
 <exif:DateTimeOriginal>2021-02-03T04:05:06.7+01:00</exif:DateTimeOriginal>
 <aux:SerialNumber>SN-42</aux:SerialNumber><aux:Lens>24-70mm</aux:Lens>
 <dc:subject><rdf:Bag><rdf:li>a</rdf:li><rdf:li> b  c </rdf:li><rdf:li>a</rdf:li></rdf:Bag>
 </dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"""


def test_element_form() -> None:
    fields, warning = parse_xmp(ELEMENTS.encode())
    assert warning is None
    assert fields.rating == -1
    assert fields.keywords == ("a", "b c")
    assert fields.date == "2021-02-03T04:05:06.7+01:00"
    assert (fields.serial, fields.lens) == ("SN-42", "24-70mm")


def test_utf16_packet() -> None:
    fields, warning = parse_xmp(ELEMENTS.encode("utf-16-be"))
    assert warning is None and fields.rating == -1


def test_malformed_packet_is_read_leniently() -> None:
    broken = ELEMENTS.replace("</aux:Lens>", "").encode()
    fields, warning = parse_xmp(broken)
    assert warning is not None and "leniently" in warning
    assert fields.rating == -1 and fields.keywords == ("a", "b c")


def test_out_of_range_rating_and_empty_packet() -> None:
    fields, _ = parse_xmp(ELEMENTS.replace(">-1<", ">9<").encode())
    assert fields.rating is None
    fields, warning = parse_xmp(b"   ")
    assert fields.rating is None and warning


def test_entities_are_not_expanded_beyond_the_document() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>' + ELEMENTS.encode())
    fields, _ = parse_xmp(bomb)  # must return promptly, whatever it finds
    assert fields.rating in (-1, None)


def test_find_packet_in_binary() -> None:
    blob = b"\0\1\2junk" + ELEMENTS.encode() + b"\xff\xd9more"
    packet = find_packet(blob)
    assert packet is not None and packet.startswith(b"<x:xmpmeta")
    assert packet.endswith(b"</x:xmpmeta>")
    assert find_packet(b"no xmp here") is None


def test_iptc_keywords() -> None:
    assert iptc_keywords({(2, 25): [b"caf\xc3\xa9", b"caf\xe9", b" x "]}) == ("café", "x")
    assert iptc_keywords({(2, 25): b"single"}) == ("single",)
    assert iptc_keywords(None) == ()
