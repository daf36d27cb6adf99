"""Configuration: defaults < settings file < environment < command line; clear errors; masking."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from lumina_desktop.config import DEFAULT_WORKERS, load_settings, mask_url, write_settings_file
from lumina_desktop.core.errors import ConfigError


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(environ={}, config_dir=tmp_path)
    assert s.background_workers == DEFAULT_WORKERS == 8
    assert s.uses_embedded_server
    assert s.thumbnails_dir == s.data_dir / "thumbnails"


def test_precedence(tmp_path: Path) -> None:
    write_settings_file(tmp_path / "settings.json", {"background_workers": 3, "data_dir": str(tmp_path / "f")})
    s = load_settings(environ={}, config_dir=tmp_path)
    assert (s.background_workers, s.data_dir) == (3, tmp_path / "f")
    assert s.sources["background_workers"] == "settings file"
    s = load_settings(environ={"BACKGROUND_WORKERS": "5"}, config_dir=tmp_path)
    assert s.background_workers == 5 and s.sources["background_workers"].startswith("env")
    s = load_settings({"data_dir": str(tmp_path / "cli")},
                      environ={"LUMINA_DATA_DIR": str(tmp_path / "env")}, config_dir=tmp_path)
    assert s.data_dir == tmp_path / "cli"


def test_corrupt_settings_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON.*line 1"):
        load_settings(environ={}, config_dir=tmp_path)
    assert (tmp_path / "settings.json").read_text() == "{not json"  # untouched


@pytest.mark.parametrize("content,match", [
    ('{"background_workers": "many"}', "whole number"),
    ('{"background_workers": 0}', "at least 1"),
    ('{"colour": "blue"}', "unknown settings: colour"),
    ('[1, 2]', "JSON object"),
])
def test_invalid_values(tmp_path: Path, content: str, match: str) -> None:
    (tmp_path / "settings.json").write_text(content)
    with pytest.raises(ConfigError, match=match):
        load_settings(environ={}, config_dir=tmp_path)


def test_env_errors_name_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="BACKGROUND_WORKERS"):
        load_settings(environ={"BACKGROUND_WORKERS": "x"}, config_dir=tmp_path)


@pytest.mark.parametrize("url,expected", [
    ("postgresql://bob:s3cret@host:5432/db", "postgresql://bob:****@host:5432/db"),
    ("host=h user=bob password=s3cret dbname=x", "host=h user=bob password=**** dbname=x"),
    ("postgresql://host/db", "postgresql://host/db"),
])
def test_mask_url(url: str, expected: str) -> None:
    assert mask_url(url) == expected


def test_describe_masks_password(tmp_path: Path) -> None:
    s = load_settings(environ={"LUMINA_DATABASE_URL": "postgresql://u:pw@h/d"}, config_dir=tmp_path)
    text = json.dumps(s.describe())
    assert "pw@" not in text and "****" in text


def test_previews_setting_from_file_and_env_with_a_clear_error(tmp_path: Path) -> None:
    from lumina_desktop.config import load_settings, write_settings_file
    from lumina_desktop.core.errors import ConfigError

    assert load_settings(environ={}, config_dir=tmp_path).previews == "job"   # the thumbnails job makes them
    write_settings_file(tmp_path / "settings.json", {"previews": "on_demand"})
    assert load_settings(environ={}, config_dir=tmp_path).previews == "on_demand"
    assert load_settings(environ={"LUMINA_PREVIEWS": "scan"}, config_dir=tmp_path).previews == "scan"
    with pytest.raises(ConfigError, match="previews from environment variable LUMINA_PREVIEWS must be one of job, scan, on_demand"):
        load_settings(environ={"LUMINA_PREVIEWS": "later"}, config_dir=tmp_path)


def test_burst_gap_from_file_and_env_with_a_clear_error(tmp_path: Path) -> None:
    from lumina_desktop.config import load_settings, write_settings_file
    from lumina_desktop.core.errors import ConfigError

    assert load_settings(environ={}, config_dir=tmp_path).burst_gap_s == 1.0
    write_settings_file(tmp_path / "settings.json", {"burst_gap_s": 0.5})
    assert load_settings(environ={}, config_dir=tmp_path).burst_gap_s == 0.5
    assert load_settings(environ={"LUMINA_BURST_GAP_S": "2.5"}, config_dir=tmp_path).burst_gap_s == 2.5
    with pytest.raises(ConfigError, match="burst_gap_s from environment variable LUMINA_BURST_GAP_S must be a number"):
        load_settings(environ={"LUMINA_BURST_GAP_S": "soon"}, config_dir=tmp_path)
    with pytest.raises(ConfigError, match="must be between 0.1 and 30"):
        load_settings(environ={"LUMINA_BURST_GAP_S": "90"}, config_dir=tmp_path)
