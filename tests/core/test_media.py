"""core.media: value types and MediaError."""
from __future__ import annotations

import dataclasses
import pickle

import pytest

from lumina_desktop.core.media import (
    FailureReason,
    FileIdentity,
    IngestResult,
    MediaError,
    MediaKind,
    PerceptualData,
    PhotoMetadata,
)


def test_media_error_has_reason_and_readable_text() -> None:
    err = MediaError("truncated", "JPEG ends early")
    assert err.reason is FailureReason.TRUNCATED
    assert err.message == "JPEG ends early"
    assert str(err) == "truncated: JPEG ends early"


def test_media_error_rejects_unknown_reason() -> None:
    with pytest.raises(ValueError):
        MediaError("no_such_reason", "x")


def test_media_error_pickles_for_process_pools() -> None:
    err = pickle.loads(pickle.dumps(MediaError(FailureReason.VANISHED, "gone")))
    assert err.reason is FailureReason.VANISHED and err.message == "gone"


def test_reason_and_kind_values_are_stable_strings() -> None:
    assert {r.value for r in FailureReason} >= {
        "empty_file", "not_an_image", "truncated", "decompression_bomb", "unreadable",
        "vanished", "unsupported", "corrupt"}
    assert [k.value for k in MediaKind] == ["image", "raw", "video"]
    assert MediaKind.RAW == "raw"


def test_dataclasses_are_frozen_values() -> None:
    meta = PhotoMetadata(make="Canon")
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.make = "Nikon"  # type: ignore[misc]
    assert meta.orientation == 1 and meta.keywords == () and meta.capture_time is None
    result = IngestResult(file_type="JPEG", kind=MediaKind.IMAGE, format="JPEG",
                          identity=FileIdentity(1, "ab"), metadata=meta,
                          perceptual=PerceptualData(b"\0" * 32, b"\0" * 32, b"\0" * 4096, 64, 1.5))
    assert result.thumbnails == {} and result.warnings == ()
    assert pickle.loads(pickle.dumps(result)) == result


def test_media_error_is_a_user_facing_lumina_error_and_pickles() -> None:
    import pickle

    from lumina_desktop.core.errors import LuminaError
    from lumina_desktop.core.media import FailureReason, MediaError

    err = MediaError(FailureReason.TRUNCATED, "ends early")
    assert isinstance(err, LuminaError) and str(err) == "truncated: ends early"
    back = pickle.loads(pickle.dumps(err))
    assert back.reason is FailureReason.TRUNCATED and back.message == "ends early"
