"""Logging setup (any thread).  A filter masks passwords in every record, wherever it comes from."""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from lumina_desktop.config import mask_url

FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


class MaskCredentialsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        masked = mask_url(msg)
        if masked != msg:
            record.msg, record.args = masked, None
        return True


def setup_logging(*, verbose: int = 0, log_dir: Path | None = None, quiet_console: bool = False) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_lumina", False):
            root.removeHandler(h)
    root.setLevel(logging.DEBUG)
    mask = MaskCredentialsFilter()
    console = logging.StreamHandler()
    console.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else
                     logging.ERROR if quiet_console else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handlers: list[logging.Handler] = [console]
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            fh = logging.handlers.RotatingFileHandler(log_dir / "lumina.log", maxBytes=5_000_000,
                                                      backupCount=3, encoding="utf-8")
            fh.setLevel(logging.INFO)
            fh.setFormatter(logging.Formatter(FORMAT))
            handlers.append(fh)
        except OSError:
            pass
    for h in handlers:
        h.addFilter(mask)
        h._lumina = True  # type: ignore[attr-defined]
        root.addHandler(h)
    # library warnings (e.g. Pillow on odd EXIF) go to the log file, not over the progress bar
    logging.captureWarnings(True)
    if not verbose:
        console.addFilter(lambda record: record.name != "py.warnings")
        # psycopg's clean-up after a lost connection ("error ignored terminating <Pipeline [BAD]>"):
        # the loss itself is said once, in words; this goes to the log file only
        console.addFilter(lambda record: not (record.name == "psycopg" and "error ignored" in record.getMessage()))
    logging.getLogger("PIL").setLevel(logging.WARNING)
    logging.getLogger("psycopg.pool").setLevel(logging.WARNING)
