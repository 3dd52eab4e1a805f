"""Autosave of unsaved edits, and their recovery after a crash.

Each running app owns a *session* folder under the autosave root, held by a
:class:`QLockFile`. While documents have unsaved changes, they are written there
(one TOML file per modified document, written atomically, plus ``index.json``
naming every open document, its original file and when it was saved): shortly
after each burst of edits and at least every :data:`MAX_DELAY_MS` while edits keep
coming. A save, an undo back to the saved state or a discarded document removes its
file; a clean close removes the session folder.

A session folder whose lock is no longer held (its app crashed or was killed) is a
leftover; at start the app offers to restore the newest one (see
:meth:`AutosaveManager.leftovers`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer

from simulator.model.errors import ScenarioError
from simulator.model.scenario_io import read_toml, scenario_to_toml, write_atomic
from simulator.model.untrusted import read_text, refusing

ENV_VAR = "FUNNELSIM_AUTOSAVE_DIR"
INDEX = "index.json"
LOCK = "session.lock"
#: Quiet time after an edit before the burst is written.
BURST_MS = 2_000
#: Longest time an edit stays unwritten while edits keep coming.
MAX_DELAY_MS = 30_000
#: Unsaved edits are the user's alone, whatever the umask.
PRIVATE = 0o600
_SLOT_FILE = re.compile(r"slot[0-9]{1,3}\.toml")


def default_root() -> Path:
    """``$FUNNELSIM_AUTOSAVE_DIR`` or the platform's app data folder + ``autosave``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    base = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation
    )
    return Path(base or Path.home() / ".funnelsim") / "autosave"


@dataclass
class SavedDocument:
    """One document of an autosaved session, as named by its index."""

    slot: int
    name: str
    path: Path | None
    anchor: Path | None
    preset_id: str | None
    file: Path | None  # the autosaved edits; None when the document was unmodified
    saved_at: str

    def own(self) -> dict[str, Any]:
        """The document's content: the autosaved edits or its file/preset."""
        if self.file is None:
            raise ScenarioError("no autosaved edits", file=str(self.path))
        return read_toml(self.file)


@dataclass
class Leftover:
    """The autosave of a session that did not close cleanly."""

    folder: Path
    saved_at: str
    documents: list[SavedDocument] = field(default_factory=list)

    @property
    def modified(self) -> list[SavedDocument]:
        return [d for d in self.documents if d.file is not None]

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _time_stamp() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


class AutosaveManager(QObject):
    """Write the open documents' unsaved edits to this session's folder.

    Parameters
    ----------
    root
        The autosave folder; by default :func:`default_root`.
    burst_ms, max_delay_ms
        Debounce of an edit burst and the longest delay while edits keep coming.
    """

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        burst_ms: int = BURST_MS,
        max_delay_ms: int = MAX_DELAY_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.root = Path(root) if root is not None else default_root()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.folder = self.root / f"session-{stamp}-{os.getpid()}-{id(self):x}"
        self._lock: QLockFile | None = None
        self._docs: Sequence[Any] = ()
        self._written: dict[int, tuple[int, int]] = {}  # slot -> (doc id, undo index)
        self._stamps: dict[int, str] = {}
        self.writes = 0
        self.last_error = ""
        self._burst = QTimer(self)
        self._burst.setSingleShot(True)
        self._burst.setInterval(burst_ms)
        self._burst.timeout.connect(self.write_now)
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.setInterval(max_delay_ms)
        self._deadline.timeout.connect(self.write_now)

    # ------------------------------------------------------------------ session

    def _ensure_session(self) -> bool:
        if self._lock is not None:
            return True
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.last_error = str(exc)
            return False
        lock = QLockFile(str(self.folder / LOCK))
        lock.setStaleLockTime(0)  # only a dead owner makes a lock stale, not age
        if not lock.tryLock(0):
            self.last_error = f"cannot lock {self.folder}"
            return False
        self._lock = lock
        return True

    def leftovers(self) -> list[Leftover]:
        """Autosaves of other sessions that ended without a clean close, newest
        first; only those holding unsaved edits (empty ones are removed)."""
        if not self.root.is_dir():
            return []
        out = []
        for folder in sorted(self.root.glob("session-*")):
            if folder == self.folder or not folder.is_dir():
                continue
            lock = QLockFile(str(folder / LOCK))
            lock.setStaleLockTime(0)
            if not lock.tryLock(0):  # its app is still running
                continue
            lock.unlock()
            leftover = _read_leftover(folder)
            if leftover is None or not leftover.modified:
                shutil.rmtree(folder, ignore_errors=True)
                continue
            out.append(leftover)
        out.sort(key=lambda item: item.saved_at, reverse=True)
        return out

    # ------------------------------------------------------------------ writing

    def track(self, docs: Sequence[Any]) -> None:
        """The documents to keep safe (the window's list, read at each write)."""
        self._docs = docs

    def note_change(self) -> None:
        """An edit happened: write after the burst, and within the deadline."""
        self._burst.start()
        if not self._deadline.isActive():
            self._deadline.start()

    @property
    def pending(self) -> bool:
        return self._burst.isActive() or self._deadline.isActive()

    def write_now(self) -> bool:
        """Write every modified document not yet written and the index; remove
        files of documents no longer modified. ``False`` when writing failed (the
        reason is in :attr:`last_error`; the app keeps working)."""
        self._burst.stop()
        self._deadline.stop()
        docs = list(self._docs)
        modified = [doc.modified for doc in docs]
        if self._lock is None and not any(modified):
            return True  # nothing to keep, no folder needed
        if not self._ensure_session():
            return False
        try:
            entries = []
            keep = set()
            for slot, (doc, is_modified) in enumerate(zip(docs, modified, strict=True)):
                name = f"slot{slot}.toml"
                entry = {
                    "slot": slot,
                    "name": doc.name,
                    "path": str(doc.path) if doc.path else None,
                    "anchor": str(doc.anchor) if doc.anchor else None,
                    "preset_id": doc.preset_id,
                    "file": name if is_modified else None,
                    "saved_at": _time_stamp(),
                }
                if is_modified:
                    keep.add(name)
                    version = (id(doc), doc.undo_stack.index())
                    if self._written.get(slot) != version:
                        text = scenario_to_toml(doc.scenario, relative_to=doc.anchor)
                        write_atomic(self.folder / name, text, new_mode=PRIVATE)
                        self._written[slot] = version
                    else:
                        entry["saved_at"] = self._stamps.get(slot, entry["saved_at"])
                else:
                    self._written.pop(slot, None)
                entries.append(entry)
            self._stamps = {e["slot"]: e["saved_at"] for e in entries}
            for stale in self.folder.glob("slot*.toml"):
                if stale.name not in keep:
                    stale.unlink(missing_ok=True)
            index = {
                "version": 1,
                "pid": os.getpid(),
                "saved_at": _time_stamp(),
                "documents": entries,
            }
            write_atomic(
                self.folder / INDEX,
                json.dumps(index, indent=2) + "\n",
                new_mode=PRIVATE,
            )
        except (OSError, ScenarioError) as exc:
            self.last_error = str(exc)
            self._written.clear()
            return False
        self.writes += 1
        return True

    def close(self) -> None:
        """A clean close: stop the timers and remove this session's autosave."""
        self._burst.stop()
        self._deadline.stop()
        if self._lock is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self._lock.unlock()
            self._lock = None
        self._written.clear()


def _read_leftover(folder: Path) -> Leftover | None:
    try:
        index = json.loads(read_text(folder / INDEX))
        documents = []
        for entry in index["documents"]:
            name = entry.get("file")
            # Only this session's own slot files: an index must not point away.
            own_file = isinstance(name, str) and _SLOT_FILE.fullmatch(name)
            file = folder / name if own_file else None
            if file is not None and not file.is_file():
                file = None
            documents.append(
                SavedDocument(
                    slot=int(entry["slot"]),
                    name=str(entry.get("name", "")),
                    path=Path(entry["path"]) if entry.get("path") else None,
                    anchor=Path(entry["anchor"]) if entry.get("anchor") else None,
                    preset_id=entry.get("preset_id"),
                    file=file,
                    saved_at=str(entry.get("saved_at", "")),
                )
            )
        return Leftover(folder, str(index.get("saved_at", "")), documents)
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        # No readable index (ScenarioError is a ValueError): salvage the TOML
        # files alone, as untitled documents.
        files = sorted(folder.glob("slot*.toml"))
        if not files:
            return None
        stamp = datetime.fromtimestamp(max(f.stat().st_mtime for f in files)).isoformat(
            timespec="seconds"
        )
        return Leftover(
            folder,
            stamp,
            [
                SavedDocument(i, f.stem, None, None, None, f, stamp)
                for i, f in enumerate(files)
            ],
        )


def restore_document(saved: SavedDocument) -> Any:
    """A document holding the autosaved edits, modified (unsaved).

    It belongs to its original file when that still exists (Save writes there);
    undo goes back to that file's content, or to the preset the document came from.
    Raises :class:`ScenarioError` when the edits no longer make a valid scenario.
    """
    with refusing(str(saved.file or saved.path or saved.name)):
        return _restore(saved)


def _restore(saved: SavedDocument) -> Any:
    from gui.document import ScenarioDocument, SnapshotCommand

    edits = saved.own()
    base = None
    if saved.path is not None and saved.path.is_file():
        with contextlib.suppress(ScenarioError, OSError):
            base = ScenarioDocument.from_file(saved.path)
    if base is None and saved.preset_id:
        with contextlib.suppress(ScenarioError, OSError):
            base = ScenarioDocument.from_preset(saved.preset_id)
    if base is None:
        anchor = saved.anchor or saved.path
        base = ScenarioDocument(edits, path=None, anchor=anchor)
    before = dict(base.own)
    command = SnapshotCommand(base, before, edits, "Restore autosaved edits")
    command.resolved = base._resolve(edits)  # raises ScenarioError when invalid
    base.undo_stack.push(command)
    return base


__all__ = [
    "AutosaveManager",
    "Leftover",
    "SavedDocument",
    "default_root",
    "restore_document",
]
