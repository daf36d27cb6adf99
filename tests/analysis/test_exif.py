"""analysis.exif: every metadata field, written with Pillow and read back through ingest."""
from __future__ import annotations

from datetime import datetime

import pytest
from PIL import Image, IptcImagePlugin, PngImagePlugin, TiffImagePlugin

from lumina_desktop.analysis import exif
from lumina_desktop.analysis.ingest import analyse_bytes

from .builders import encode, upright

XMP = (b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
       b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
       b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
       b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="4">'
       b'<dc:subject><rdf:Bag><rdf:li>beach</rdf:li><rdf:li>Caf&#233; &amp; bar</rdf:li>'
       b'</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>'
       b'<?xpacket end="w"?>')


def full_exif(orientation: int = 1) -> Image.Exif:
    ex = Image.Exif()
    ex[0x010F] = "Canon"
    ex[0x0110] = "Canon EOS R5"
    ex[0x0112] = orientation
    ex[0x0132] = "2023:06:01 09:00:00"
    ifd = ex.get_ifd(exif.IFD_EXIF)
    ifd[exif.DT_ORIGINAL] = "2023:05:14 10:11:12"
    ifd[exif.SUBSEC_ORIGINAL] = "123"
    ifd[exif.OFFSET_ORIGINAL] = "+02:00"
    ifd[exif.DT_DIGITIZED] = "2023:05:14 10:11:13"
    ifd[exif.EXPOSURE_TIME] = TiffImagePlugin.IFDRational(1, 250)
    ifd[exif.F_NUMBER] = TiffImagePlugin.IFDRational(28, 10)
    ifd[exif.ISO] = 400
    ifd[exif.FOCAL_LENGTH] = TiffImagePlugin.IFDRational(50, 1)
    ifd[exif.BODY_SERIAL] = "012345678901"
    ifd[exif.LENS_MODEL] = "RF50mm F1.8 STM"
    gps = ex.get_ifd(exif.IFD_GPS)
    gps[1] = "S"
    gps[2] = (TiffImagePlugin.IFDRational(33, 1), TiffImagePlugin.IFDRational(51, 1),
              TiffImagePlugin.IFDRational(3096, 100))
    gps[3] = "E"
    gps[4] = (TiffImagePlugin.IFDRational(151, 1), TiffImagePlugin.IFDRational(12, 1),
              TiffImagePlugin.IFDRational(5112, 100))
    gps[5] = b"\x00"
    gps[6] = TiffImagePlugin.IFDRational(125, 2)
    return ex


def test_every_exif_field_from_jpeg() -> None:
    data = encode(upright(96, 64), "JPEG", exif=full_exif(), xmp=XMP)
    meta = analyse_bytes(data, name="IMG_0001.JPG").metadata
    assert meta.capture_time == datetime(2023, 5, 14, 10, 11, 12, 123000)
    assert meta.utc_offset_minutes == 120
    assert (meta.date_source, meta.date_confidence) == ("exif", "high")
    assert (meta.make, meta.model) == ("Canon", "Canon EOS R5")
    assert meta.body_serial == "012345678901"
    assert meta.lens == "RF50mm F1.8 STM"
    assert meta.iso == 400
    assert meta.aperture == pytest.approx(2.8)
    assert meta.shutter_s == pytest.approx(1 / 250)
    assert meta.focal_length_mm == pytest.approx(50.0)
    assert meta.gps_lat == pytest.approx(-(33 + 51 / 60 + 30.96 / 3600))
    assert meta.gps_lon == pytest.approx(151 + 12 / 60 + 51.12 / 3600)
    assert meta.gps_alt == pytest.approx(62.5)
    assert meta.rating == 4
    assert meta.keywords == ("beach", "Café & bar")
    assert (meta.width, meta.height, meta.orientation) == (96, 64, 1)


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("WEBP", "webp"), ("TIFF", "tif")])
def test_exif_in_other_containers(fmt: str, ext: str) -> None:
    data = encode(upright(96, 64), fmt, exif=full_exif())
    meta = analyse_bytes(data, name=f"a.{ext}").metadata
    assert meta.model == "Canon EOS R5"
    if fmt != "TIFF":  # Pillow's TIFF writer keeps IFD0 only
        assert meta.capture_time == datetime(2023, 5, 14, 10, 11, 12, 123000)
        assert meta.gps_lon == pytest.approx(151.214, abs=1e-3)


def test_orientation_6_swaps_displayed_dimensions() -> None:
    meta = analyse_bytes(encode(upright(96, 64), "JPEG", exif=full_exif(6)), name="a.jpg").metadata
    assert (meta.orientation, meta.width, meta.height) == (6, 64, 96)


def test_gps_altitude_below_sea_level_and_null_island() -> None:
    ex = Image.Exif()
    gps = ex.get_ifd(exif.IFD_GPS)
    gps.update({1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0), 5: b"\x01", 6: 12.0})
    meta = analyse_bytes(encode(upright(), "JPEG", exif=ex), name="a.jpg").metadata
    assert meta.gps_lat is None and meta.gps_lon is None  # 0,0 = no fix
    assert meta.gps_alt == pytest.approx(-12.0)


def test_date_fallbacks_digitized_then_ifd0() -> None:
    ex = Image.Exif()
    ex.get_ifd(exif.IFD_EXIF)[exif.DT_DIGITIZED] = "2020:01:02 03:04:05"
    meta = analyse_bytes(encode(upright(), "JPEG", exif=ex), name="a.jpg").metadata
    assert (meta.capture_time, meta.date_confidence) == (datetime(2020, 1, 2, 3, 4, 5), "high")
    ex = Image.Exif()
    ex[0x0132] = "2019:12:31 23:59:58"
    meta = analyse_bytes(encode(upright(), "JPEG", exif=ex), name="a.jpg").metadata
    assert (meta.capture_time, meta.date_source, meta.date_confidence) == (
        datetime(2019, 12, 31, 23, 59, 58), "exif", "medium")


def test_zero_date_falls_back_to_filename() -> None:
    ex = Image.Exif()
    ex.get_ifd(exif.IFD_EXIF)[exif.DT_ORIGINAL] = "0000:00:00 00:00:00"
    meta = analyse_bytes(encode(upright(), "JPEG", exif=ex), name="PXL_20230514_101112123.jpg",
                         mtime_s=0).metadata
    assert meta.capture_time == datetime(2023, 5, 14, 10, 11, 12, 123000)
    assert meta.date_source == "filename"


def test_apex_fallbacks_for_shutter_and_aperture() -> None:
    ex = Image.Exif()
    ifd = ex.get_ifd(exif.IFD_EXIF)
    ifd[exif.SHUTTER_APEX] = TiffImagePlugin.IFDRational(7, 1)  # 1/128 s
    ifd[exif.APERTURE_APEX] = TiffImagePlugin.IFDRational(4, 1)  # f/4
    meta = analyse_bytes(encode(upright(), "JPEG", exif=ex), name="a.jpg").metadata
    assert meta.shutter_s == pytest.approx(1 / 128)
    assert meta.aperture == pytest.approx(4.0)


def test_xmp_in_png_itxt_and_windows_keywords() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode("utf-8"))
    meta = analyse_bytes(encode(upright(), "PNG", pnginfo=info), name="a.png").metadata
    assert meta.rating == 4 and meta.keywords[0] == "beach"
    ex = Image.Exif()
    ex[exif.WIN_KEYWORDS] = "sun;sea; sand ".encode("utf-16-le") + b"\0\0"
    ex[exif.WIN_RATING] = 3
    meta = analyse_bytes(encode(upright(), "JPEG", exif=ex), name="a.jpg").metadata
    assert meta.keywords == ("sun", "sea", "sand") and meta.rating == 3


def test_iptc_keywords_are_merged_with_xmp() -> None:
    def iptc_dataset(record: int, tag: int, value: bytes) -> bytes:
        return bytes([0x1C, record, tag]) + len(value).to_bytes(2, "big") + value

    iim = iptc_dataset(2, 25, b"holiday") + iptc_dataset(2, 25, b"beach")
    resource = b"8BIM" + (0x0404).to_bytes(2, "big") + b"\0\0" + len(iim).to_bytes(4, "big") + iim
    if len(iim) % 2:
        resource += b"\0"
    app13 = b"Photoshop 3.0\0" + resource
    jpeg = encode(upright(), "JPEG", xmp=XMP)
    seg = b"\xff\xed" + (len(app13) + 2).to_bytes(2, "big") + app13
    data = jpeg[:2] + seg + jpeg[2:]
    im = Image.open(__import__("io").BytesIO(data))
    assert IptcImagePlugin.getiptcinfo(im)  # the fixture really carries IPTC
    meta = analyse_bytes(data, name="a.jpg").metadata
    assert meta.keywords == ("beach", "Café & bar", "holiday")


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
def test_corrupt_exif_still_ingests_with_warning() -> None:
    bad = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00" + b"\x0f\x01\x02\x00\xff\xff\xff\x7f" * 3
    result = analyse_bytes(encode(upright(), "JPEG", exif=bad), name="a.jpg", mtime_s=0)
    assert result.thumbnails and result.perceptual is not None
    assert any("EXIF" in w for w in result.warnings), result.warnings


def test_garbage_values_are_ignored_not_fatal() -> None:
    ex = Image.Exif()
    ex[0x0112] = 42  # invalid orientation
    ifd = ex.get_ifd(exif.IFD_EXIF)
    ifd[exif.F_NUMBER] = TiffImagePlugin.IFDRational(1, 0)  # division by zero
    ifd[exif.DT_ORIGINAL] = "not a date"
    gps = ex.get_ifd(exif.IFD_GPS)
    gps.update({1: "N", 2: (200.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)})
    result = analyse_bytes(encode(upright(), "JPEG", exif=ex), name="x.jpg", mtime_s=0)
    meta = result.metadata
    assert meta.orientation == 1 and meta.aperture is None and meta.gps_lat is None
    assert meta.date_source == "file_mtime"
    assert any("orientation" in w for w in result.warnings)
    assert any("GPS" in w for w in result.warnings)


def test_build_metadata_never_raises_on_weird_values() -> None:
    dirs = exif.ExifDirs(base={exif.MAKE: b"\xff\xfeCan\x00", exif.ORIENTATION: "x"},
                         exif={exif.ISO: (0, 0), exif.EXPOSURE_TIME: "fast"},
                         gps={2: "north", 4: ()})
    warnings: list[str] = []
    meta = exif.build_metadata(dirs, path="/a/b.jpg", mtime_s=None, size=(10, 20),
                               warnings=warnings)
    assert meta.iso is None and meta.shutter_s is None and meta.gps_lat is None
    assert meta.make is not None
