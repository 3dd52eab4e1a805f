"""The app's log: what went wrong, with tracebacks, in a file in the user's data
folder (the user sees one line; the file has the details for a bug report)."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QStandardPaths

#: The log file's name in the data folder.
LOG_NAME = "funnelsim.log"
#: Size at which the log starts a new file (one older file is kept).
LOG_BYTES = 1_000_000

_handler: logging.Handler | None = None
_path: Path | None = None


def data_folder() -> Path:
    """The user's data folder for the app (Qt's AppDataLocation)."""
    location = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation
    )
    return Path(location) if location else Path.home() / ".funnelsim"


def start_logging(folder: Path | None = None) -> Path | None:
    """Log warnings and errors of the app and the simulator to
    ``folder``/funnelsim.log (the data folder by default); returns the file, or
    None when the folder cannot be written (the app then runs without a log)."""
    global _handler, _path
    stop_logging()
    folder = data_folder() if folder is None else Path(folder)
    path = folder / LOG_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=1, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.setLevel(logging.INFO)
    for name in ("gui", "simulator"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    _handler, _path = handler, path
    return path


def stop_logging() -> None:
    global _handler, _path
    if _handler is not None:
        for name in ("gui", "simulator"):
            logging.getLogger(name).removeHandler(_handler)
        _handler.close()
    _handler, _path = None, None


def log_file() -> Path | None:
    """The log file in use, if any."""
    return _path


def log_uncaught(
    kind: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
) -> None:
    """``sys.excepthook`` of the app: an exception no code caught (in a slot, say)
    goes to the log with its traceback, and to stderr as before."""
    logging.getLogger("gui").error("Uncaught exception", exc_info=(kind, exc, tb))
    sys.__excepthook__(kind, exc, tb)
