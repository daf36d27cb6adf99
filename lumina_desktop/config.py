"""Settings: one place for every configurable value (runs on any thread; no Qt).

Precedence, lowest to highest: built-in defaults < settings file (``settings.json`` in the
config dir) < environment variables (``LUMINA_*``, plus ``BACKGROUND_WORKERS`` as in the seed)
< command-line options.  ``Settings`` is frozen; ``load_settings`` builds it.

A password for an external database belongs anywhere but the command line (which every local
user can read): libpq's own ``PGPASSFILE`` (``~/.pgpass``) or ``PGPASSWORD``, the
``LUMINA_DATABASE_URL`` environment variable, or the settings file, which is written mode 0600.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from lumina_desktop.core.errors import ConfigError

log = logging.getLogger(__name__)

APP_DIR_NAME = "lumina-desktop"
SETTINGS_FILE = "settings.json"
DEFAULT_WORKERS = 8
DEFAULT_THUMB_CACHE_MB = 4096


def _platform_dir(kind: str) -> Path:
    import platformdirs

    if kind == "data":
        return Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))
    return Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Effective configuration.  ``database_url`` empty means: the embedded cluster."""

    data_dir: Path
    config_dir: Path
    database_url: str = ""
    background_workers: int = DEFAULT_WORKERS
    interactive_workers: int = 2
    thumbnail_cache_dir: Path | None = None
    thumbnail_cache_mb: int = DEFAULT_THUMB_CACHE_MB
    batch_size: int = 50
    previews: str = "job"
    """When 1280 px previews are made: "job" (by the thumbnails job that follows each scan, in the
    background), "scan" (with the grid thumbnail, while scanning: slower scans) or "on_demand"
    (only when a photo is first shown large).  A photo shown large before its preview exists
    gets it made on the spot in every mode."""
    burst_gap_s: float = 1.0
    """The longest pause between two frames of one burst, in seconds."""
    disabled_follow_ons: tuple[str, ...] = ()
    """Job kinds that do not run by themselves after a scan (Settings › After a scan)."""
    theme: str = "dark"
    """The window's colours: "dark" (neutral greys, for judging photos) or "light"."""
    memory_budget_mb: int = 1536
    """The most memory (MB) one process's scan may hold: big pictures are decoded one at a time
    (and shrunk strip by strip) so the whole process stays within it."""
    outside_links: str = "skip"
    """Symbolic links to files outside the scanned folders: "skip" (never read; counted in the
    scan summary) or "follow"."""
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def thumbnails_dir(self) -> Path:
        return self.thumbnail_cache_dir or (self.data_dir / "thumbnails")

    @property
    def uses_embedded_server(self) -> bool:
        return not self.database_url

    @property
    def settings_path(self) -> Path:
        return self.config_dir / SETTINGS_FILE

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, value, source) rows for ``config show``; passwords are masked."""
        rows = [
            ("data_dir", str(self.data_dir)),
            ("config_dir", str(self.config_dir)),
            ("database_url", mask_url(self.database_url) if self.database_url else "(embedded server)"),
            ("background_workers", str(self.background_workers)),
            ("interactive_workers", str(self.interactive_workers)),
            ("thumbnail_cache_dir", str(self.thumbnails_dir)),
            ("thumbnail_cache_mb", str(self.thumbnail_cache_mb)),
            ("batch_size", str(self.batch_size)),
            ("previews", self.previews),
            ("burst_gap_s", f"{self.burst_gap_s:g}"),
            ("disabled_follow_ons", ", ".join(self.disabled_follow_ons) or "(none)"),
            ("theme", self.theme),
            ("memory_budget_mb", str(self.memory_budget_mb)),
            ("outside_links", self.outside_links),
        ]
        return [(k, v, self.sources.get(k, "default")) for k, v in rows]


# setting name -> (environment variables, converter)
_INT_KEYS = {"background_workers", "interactive_workers", "thumbnail_cache_mb", "batch_size", "memory_budget_mb"}
_FLOAT_KEYS = {"burst_gap_s": (0.1, 30.0)}
_PATH_KEYS = {"data_dir", "thumbnail_cache_dir"}
_LIST_KEYS = {"disabled_follow_ons"}
PREVIEW_CHOICES = ("job", "scan", "on_demand")
THEME_CHOICES = ("dark", "light")
OUTSIDE_LINK_CHOICES = ("skip", "follow")
_CHOICE_KEYS = {"previews": PREVIEW_CHOICES, "theme": THEME_CHOICES, "outside_links": OUTSIDE_LINK_CHOICES}
_ENV = {
    "data_dir": ("LUMINA_DATA_DIR",),
    "database_url": ("LUMINA_DATABASE_URL",),
    "background_workers": ("LUMINA_BACKGROUND_WORKERS", "BACKGROUND_WORKERS"),
    "interactive_workers": ("LUMINA_INTERACTIVE_WORKERS",),
    "thumbnail_cache_dir": ("LUMINA_THUMBNAIL_CACHE_DIR",),
    "thumbnail_cache_mb": ("LUMINA_THUMBNAIL_CACHE_MB",),
    "batch_size": ("LUMINA_BATCH_SIZE",),
    "previews": ("LUMINA_PREVIEWS",),
    "burst_gap_s": ("LUMINA_BURST_GAP_S",),
    "disabled_follow_ons": ("LUMINA_DISABLED_FOLLOW_ONS",),
    "theme": ("LUMINA_THEME",),
    "memory_budget_mb": ("LUMINA_MEMORY_BUDGET_MB",),
    "outside_links": ("LUMINA_OUTSIDE_LINKS",),
}
SETTING_NAMES = tuple(_ENV)


# scheme://user:PASSWORD@host — libpq ends the user part at the first "@" or "/", so a password
# may hold anything else, spaces included (percent-encoded or not)
_URI_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:]*:)([^/@\n]*)(?=@)")
_KEY_PASSWORD = re.compile(r"\b((?:ssl)?password\s*=\s*)", re.IGNORECASE)


def mask_url(url: str) -> str:
    """Hide every password in ``url``: a libpq URI (``scheme://user:pw@host``, ``?password=pw``),
    a keyword/value conninfo string (``password=pw``, ``password='a \\'quoted\\' pw'``) or any text
    holding them, such as an error message.  Empty passwords are left as they are."""
    text = _URI_PASSWORD.sub(lambda m: m.group(1) + ("****" if m.group(2) else ""), url)
    out: list[str] = []
    pos = 0
    for m in _KEY_PASSWORD.finditer(text):
        if m.start() < pos:
            continue
        start = m.end()
        end = _value_end(text, start, in_query=m.start() > 0 and text[m.start() - 1] in "?&")
        value = text[start:end]
        out.append(text[pos:start])
        out.append(value if value in ("", "''") else "****")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _value_end(text: str, i: int, *, in_query: bool) -> int:
    """Where a conninfo value starting at ``i`` ends (libpq's quoting: '...' with backslash
    escapes, or a bare word with backslash escapes; in a URI query, up to "&" or "#")."""
    n = len(text)
    if i < n and text[i] == "'":
        i += 1
        while i < n:
            if text[i] == "\\":
                i += 2
            elif text[i] == "'":
                return i + 1
            else:
                i += 1
        return n
    stops = " \t\r\n&#" if in_query else " \t\r\n"
    while i < n and text[i] not in stops:
        i += 2 if text[i] == "\\" else 1
    return min(i, n)


def url_has_password(url: str) -> bool:
    """Does a database URL or conninfo string carry a (non-empty) password?"""
    return mask_url(url) != url


def _convert(key: str, value: Any, source: str) -> Any:
    if key in _INT_KEYS:
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} from {source} must be a whole number, got {value!r}") from None
        if n < 1:
            raise ConfigError(f"{key} from {source} must be at least 1, got {n}")
        return n
    if key in _FLOAT_KEYS:
        lo, hi = _FLOAT_KEYS[key]
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} from {source} must be a number, got {value!r}") from None
        if not lo <= x <= hi:
            raise ConfigError(f"{key} from {source} must be between {lo:g} and {hi:g}, got {x:g}")
        return x
    if key in _LIST_KEYS:  # a JSON list, or comma-separated names (environment)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key} from {source} must be a list of names, got {value!r}")
        return tuple(value)
    if key in _PATH_KEYS:
        if value in (None, ""):
            return None
        return Path(os.path.expanduser(str(value))).absolute()
    if not isinstance(value, str):
        raise ConfigError(f"{key} from {source} must be a string")
    choices = _CHOICE_KEYS.get(key)
    if choices is not None and value not in choices:
        raise ConfigError(f"{key} from {source} must be one of {', '.join(choices)}; got {value!r}")
    return value


def read_settings_file(path: Path) -> dict[str, Any]:
    """The settings file's values; a missing file is empty, a corrupt one is a clear error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read settings file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"settings file {path} is not valid JSON (line {exc.lineno}: {exc.msg}); "
            "fix or delete it"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"settings file {path} must hold a JSON object")
    unknown = sorted(set(data) - set(SETTING_NAMES))
    if unknown:
        raise ConfigError(f"settings file {path} has unknown settings: {', '.join(unknown)}")
    url = data.get("database_url")
    if isinstance(url, str) and url_has_password(url):
        _keep_private(path)
    return data


def _keep_private(path: Path) -> None:
    """A settings file holding a password is readable by its owner only (older versions wrote
    it 0644): tighten it, or say how."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, 0o600)
            log.warning("settings file %s holds a database password and was readable by other users; "
                        "it is now readable by you only (mode 600)", path)
    except OSError:
        raise ConfigError(f"settings file {path} holds a database password but other users can read it; "
                          f"make it private (chmod 600 {path})") from None


def write_settings_file(path: Path, values: Mapping[str, Any]) -> None:
    """Merge ``values`` into the settings file atomically (None removes a key)."""
    current = read_settings_file(path)
    for key, value in values.items():
        if key not in SETTING_NAMES:
            raise ConfigError(f"unknown setting {key!r}")
        if value is None:
            current.pop(key, None)
        else:
            current[key] = str(value) if isinstance(value, Path) else list(value) if isinstance(value, tuple) else value
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
    # mode 0600 from the first byte (it may hold a database password); atomic for other readers
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(current, indent=2, sort_keys=True) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config_dir: Path | None = None,
) -> Settings:
    """Defaults < settings file < environment < ``overrides`` (command-line options)."""
    env = os.environ if environ is None else environ
    cfg_dir = config_dir or (
        Path(env["LUMINA_CONFIG_DIR"]) if env.get("LUMINA_CONFIG_DIR") else _platform_dir("config")
    )
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    file_path = cfg_dir / SETTINGS_FILE
    for key, value in read_settings_file(file_path).items():
        values[key] = _convert(key, value, f"settings file {file_path}")
        sources[key] = "settings file"
    for key, names in _ENV.items():
        for name in names:
            if env.get(name):
                values[key] = _convert(key, env[name], f"environment variable {name}")
                sources[key] = f"env {name}"
                break
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = _convert(key, value, "the command line")
            sources[key] = "command line"
    data_dir = values.pop("data_dir", None) or _platform_dir("data")
    return Settings(data_dir=data_dir, config_dir=cfg_dir, sources=sources, **values)
