"""A scenario being edited: the file's own content, its resolved scenario, undo.

A document keeps the raw content of a scenario file (``own``: ``extends``,
``levers`` and the values the file sets itself), exactly what is saved, and the
validated :class:`~simulator.model.schema.Scenario` it resolves to. Every edit builds a
new ``own``, validates it and, only when it is valid, pushes it on the document's
:class:`QUndoStack` as a snapshot, so undo and redo are exact and the document is
always runnable.

An alternative of a comparison is a set of changes to the baseline: its
document is linked to the baseline's (:meth:`ScenarioDocument.link_baseline`)
and resolves as the baseline as resolved, then its levers, then its own tables
(:func:`~simulator.model.scenario_io.resolve_alternative`). An edit of the baseline
reaches every alternative at once, and is refused when it would leave one of
them invalid.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from simulator.engine.params import Layout
from simulator.model.errors import ScenarioError
from simulator.model.library import (
    bundled_levers,
    bundled_scenario_path,
    bundled_scenarios,
)
from simulator.model.provenance import ENTERED_BY_YOU, user_citation
from simulator.model.scenario_io import (
    flatten,
    inherited_changes,
    lever_keys,
    load_lever,
    load_scenario,
    read_toml,
    resolve_alternative,
    resolve_reference,
    save_scenario,
    scenario_from_dict,
    write_scenario_text,
)
from simulator.model.schema import PARAMETER_TABLES, Scenario
from simulator.model.untrusted import list_index, refusing, resolved

Raw = dict[str, Any]

#: Lists whose items are edited in place (the whole list then belongs to the file).
LIST_PATHS = ("marketing.sources", "pipeline.stages")
#: Groups of values that must sum to 1: editing one rescales the others.
_SUM_GROUPS = {
    "follow_up.response_profile": (
        "within_5min",
        "within_1h",
        "within_1d",
        "within_1w",
    ),
}
_QUALITY = ("ready", "future", "junk")


def _get(data: Any, parts: list[str]) -> Any:
    node = data
    for part in parts:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _set(data: Raw, parts: list[str], value: Any) -> None:
    node: Any = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def _delete(data: Raw, parts: list[str]) -> None:
    """Delete a nested key if present and prune tables left empty."""
    trail = []
    node: Any = data
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            return
        trail.append((node, part))
        node = node[part]
    if isinstance(node, dict):
        node.pop(parts[-1], None)
    for parent, key in reversed(trail):
        if isinstance(parent[key], dict) and not parent[key]:
            del parent[key]


def rescale_others(
    values: dict[str, float], changed: str, new: float
) -> dict[str, float]:
    """Set ``values[changed] = new`` and rescale the others so they sum to 1.

    The others keep their proportions (equal split when they are all 0); results are
    rounded to 4 decimals with the rounding residue on the largest other value.
    """
    new = min(max(float(new), 0.0), 1.0)
    others = [k for k in values if k != changed]
    out = dict(values)
    out[changed] = new
    if not others:
        return out
    remaining = 1.0 - new
    total = math.fsum(values[k] for k in others)
    for key in others:
        share = values[key] / total if total > 0 else 1.0 / len(others)
        out[key] = round(remaining * share, 4)
    largest = max(others, key=lambda k: out[k])
    out[largest] = round(out[largest] + (1.0 - math.fsum(out.values())), 10)
    if out[largest] < 0:
        out[largest] = 0.0
    return out


class SnapshotCommand(QUndoCommand):
    """One edit: the document's ``own`` before and after. Consecutive edits of the
    same field within :attr:`merge_seconds` merge into one undo step (spin-box
    arrows otherwise make one step per click)."""

    merge_seconds = 1.0

    def __init__(
        self,
        doc: ScenarioDocument,
        before: Raw,
        after: Raw,
        text: str,
        key: str | None = None,
    ) -> None:
        super().__init__(text)
        self.doc = doc
        self.before = before
        self.after = after
        self.key = key
        self.stamp = time.monotonic()
        self.resolved: Scenario | None = None

    def redo(self) -> None:
        self.doc._apply(self.after, self.resolved)
        self.resolved = None  # later redos resolve again (the files may have changed)

    def undo(self) -> None:
        self.doc._apply(self.before)

    def id(self) -> int:
        return 7301 if self.key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (
            isinstance(other, SnapshotCommand)
            and other.doc is self.doc
            and other.key == self.key
            and other.stamp - self.stamp < self.merge_seconds
        ):
            self.after = other.after
            self.stamp = other.stamp
            self.resolved = None
            # "Annual churn 10 % → 11 %" and "... 11 % → 12 %": "10 % → 12 %"
            arrow = " → "
            if arrow in self.text() and arrow in other.text():
                first = self.text().split(arrow)[0]
                self.setText(first + arrow + other.text().split(arrow, 1)[1])
            return True
        return False


class ScenarioDocument(QObject):
    """A scenario open in the app.

    Parameters
    ----------
    own
        The file's own content (as read from TOML).
    path
        Where it is saved; ``None`` for an untitled document.
    anchor
        The file that relative ``extends`` and ``levers`` resolve against (the
        document's path, or the bundled preset it came from).
    """

    changed = Signal()
    modifiedChanged = Signal(bool)
    #: The baseline this document is an alternative to changed (what the
    #: alternative's tab says about it may have too, even when its values not).
    baselineChanged = Signal()

    def __init__(
        self,
        own: Raw,
        *,
        path: Path | None = None,
        anchor: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.path = path
        self.anchor = anchor or path
        #: The bundled preset this untitled document equals until it is edited.
        self.preset_id: str | None = None
        #: The baseline this document is an alternative to (None: it is the
        #: baseline, or stands alone), and the alternatives linked to it.
        self.baseline: ScenarioDocument | None = None
        self.dependents: list[ScenarioDocument] = []
        self.own: Raw = copy.deepcopy(own)
        self.scenario: Scenario = self._resolve(self.own)
        self._parent_cache: tuple[Any, Scenario | None] = (object(), None)
        self.undo_stack = QUndoStack(self)
        self._lever_cache: tuple[Any, list[tuple[str, str]]] = (object(), [])
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    def _on_clean_changed(self, clean: bool) -> None:
        self.modifiedChanged.emit(not clean)

    # ------------------------------------------------------------------ creation

    @classmethod
    def from_file(cls, path: str | Path) -> ScenarioDocument:
        """Open a scenario file; a :class:`ScenarioError` names what is wrong."""
        with refusing(str(path)):
            path = resolved(Path(path).expanduser(), origin=str(path))
            load_scenario(path)  # the loader's own messages, with the file named
            return cls(read_toml(path), path=path, anchor=path)

    @classmethod
    def from_preset(cls, preset_id: str) -> ScenarioDocument:
        """An untitled document equal to a bundled preset.

        A preset that extends another is taken as written (its levers can then be
        switched); a preset that extends nothing becomes ``extends = "<id>"``, so
        edits show as differences from it and levers can be added on top.
        """
        bundled = bundled_scenario_path(preset_id)
        if bundled is None:
            raise ScenarioError("no bundled scenario of that name", file=preset_id)
        raw = read_toml(bundled)
        if raw.get("extends"):
            own = raw
        else:
            own = {
                "schema_version": 1,
                "name": raw.get("name", preset_id),
                "description": raw.get("description", ""),
                "extends": preset_id,
            }
        # A virtual file next to the preset: its references resolve as the preset's
        # do, without the preset extending itself.
        doc = cls(
            own, path=None, anchor=bundled.with_name(f"_untitled_{preset_id}.toml")
        )
        doc.preset_id = preset_id
        return doc

    @classmethod
    def extending(cls, other: ScenarioDocument, *, name: str) -> ScenarioDocument:
        """A new untitled document whose values start as ``other``'s."""
        own = copy.deepcopy(other.own)
        own["name"] = name
        return cls(own, path=None, anchor=other.anchor)

    # ------------------------------------------------------------------ state

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def extends(self) -> str | None:
        value = self.own.get("extends")
        return value if isinstance(value, str) and value else None

    @property
    def levers(self) -> list[str]:
        return list(self.own.get("levers", []))

    def display_name(self) -> str:
        return self.name + (" *" if self.modified else "")

    def cli_ref(self) -> str | None:
        """How the command line names this scenario, if it can."""
        if self.modified:
            return None
        if self.path is not None:
            return str(self.path)
        return self.preset_id

    def file_label(self) -> str:
        return str(self.path) if self.path else "not saved yet"

    def _resolve(self, own: Raw, baseline: Scenario | None = None) -> Scenario:
        origin = str(self.path) if self.path else f"<{own.get('name', 'scenario')}>"
        if baseline is None and self.baseline is not None:
            baseline = self.baseline.scenario
        if baseline is not None:
            return resolve_alternative(baseline, own, base=self.anchor, origin=origin)
        return scenario_from_dict(own, origin=origin, base=self.anchor)

    # ------------------------------------------------------------------ baseline

    def link_baseline(self, baseline: ScenarioDocument | None) -> None:
        """Make this document an alternative to ``baseline`` (or, with ``None``,
        a scenario of its own). Raises :class:`ScenarioError`, changing nothing,
        when it cannot be resolved that way."""
        if baseline is self.baseline:
            return
        resolved = (
            self._resolve(self.own, baseline.scenario if baseline is not None else None)
            if baseline is not None
            else scenario_from_dict(self.own, origin=self._origin(), base=self.anchor)
        )
        self.baseline = baseline
        if resolved != self.scenario:
            self.scenario = resolved
            self.changed.emit()
        # What the document is changed even when its values are not: an
        # alternative now reads "Baseline + N levers + M changes".
        self.baselineChanged.emit()

    def _origin(self) -> str:
        return str(self.path) if self.path else f"<{self.own.get('name', 'scenario')}>"

    def rebase(self) -> None:
        """Resolve again on the baseline as it now is (after it changed)."""
        try:
            resolved = self._resolve(self.own)
        except ScenarioError:
            return  # (edits of the baseline that would do this are refused)
        if resolved != self.scenario:
            self.scenario = resolved
            self.changed.emit()
        self.baselineChanged.emit()

    def check_alternative(self, scenario: Scenario) -> None:
        """Raise :class:`ScenarioError` if ``scenario``, as this document's
        baseline, would leave this document invalid."""
        try:
            self._resolve(self.own, scenario)
        except ScenarioError as exc:
            raise ScenarioError(
                f"it would leave the alternative “{self.name}” invalid ({exc})"
            ) from None

    def _change_files(self) -> list[Raw]:
        """The contents that make this document's changes: for an alternative,
        the files it extends above its company (an alternative that extends
        ``aligned`` keeps aligned's levers and values), then its own."""
        if self.baseline is None:
            return [self.own]
        try:
            return [*inherited_changes(self.own, base=self.anchor), self.own]
        except ScenarioError:
            return [self.own]

    def changes(self) -> list[str]:
        """The parameters this document's own file sets (dotted; a list counts
        as one), and for an alternative those the files it extends above its
        company set: what it changes beyond its levers."""
        names: set[str] = set()
        for own in self._change_files():
            names.update(
                flatten({k: v for k, v in own.items() if k in PARAMETER_TABLES})
            )
        return sorted(names)

    def lever_names(self) -> list[str]:
        """The names of the levers this scenario applies (for an alternative,
        also those of the files it extends above its company)."""
        ids = [x for own in self._change_files() for x in own.get("levers", [])]
        names = []
        for lever_id in dict.fromkeys(ids):
            try:
                names.append(load_lever(_lever_ref(lever_id, self.anchor)).name)
            except ScenarioError:
                names.append(lever_id)
        return names

    def parent_scenario(self) -> Scenario | None:
        """What this scenario's values are compared with, for highlighting: the
        baseline for an alternative, else the scenario it extends (without its
        levers)."""
        if self.baseline is not None:
            return self.baseline.scenario
        extends = self.extends
        key = (extends, str(self.anchor))
        if self._parent_cache[0] != key:
            parent = None
            if extends:
                try:
                    anchor = self.anchor or Path.cwd() / "_new_.toml"
                    parent = load_scenario(
                        resolve_reference(extends, relative_to=anchor)
                    )
                except ScenarioError:
                    parent = None
            self._parent_cache = (key, parent)
        return self._parent_cache[1]

    def lever_of(self, dotted: str) -> str | None:
        """Name of the lever of this document that sets ``dotted`` (index form), if
        any; the last lever wins as in the loader."""
        found = None
        for name, key in self._lever_keys():
            if dotted == key or dotted.startswith(key + "."):
                found = name
        return found

    def _lever_keys(self) -> list[tuple[str, str]]:
        """(lever name, key in index form) of every key the levers set, made
        once for the current levers, sources and stages (the editor asks for
        each of its fields at every edit)."""
        scenario = self.scenario
        key = (tuple(self.levers), str(self.anchor), Layout.of(scenario))
        if self._lever_cache[0] != key:
            keys = []
            for lever_id in self.levers:
                try:
                    lever = load_lever(_lever_ref(lever_id, self.anchor))
                except ScenarioError:
                    continue
                keys += [
                    (lever.name, _index_form(k, scenario))
                    for k in lever_keys(lever, scenario.model_dump())
                ]
            self._lever_cache = (key, keys)
        return self._lever_cache[1]

    # ------------------------------------------------------------------ edits

    def _apply(self, own: Raw, resolved: Scenario | None = None) -> None:
        self.own = copy.deepcopy(own)
        self.scenario = resolved if resolved is not None else self._resolve(self.own)
        self.changed.emit()
        for dependent in self.dependents:
            dependent.rebase()

    def edit(
        self, mutate: Callable[[Raw, Raw], None], text: str, key: str | None = None
    ) -> None:
        """Apply ``mutate(new_own, resolved_dump)`` as one undoable edit.

        Raises :class:`ScenarioError` (and changes nothing) when the result is not
        a valid scenario.
        """
        before = copy.deepcopy(self.own)
        after = copy.deepcopy(self.own)
        mutate(after, self.scenario.model_dump(mode="python"))
        if after == before:
            return
        if key not in ("name", "description"):
            _stop_claiming_bundled(after, self.scenario.name)
        command = SnapshotCommand(self, before, after, text, key)
        command.resolved = self._resolve(after)  # raises ScenarioError when invalid
        for dependent in self.dependents:
            dependent.check_alternative(command.resolved)
        self.undo_stack.push(command)

    def set_value(self, dotted: str, value: Any) -> None:
        """Set one parameter (``handoff.ignore_base``, ``marketing.sources.0.share``).

        Shares that must sum to 1 stay consistent: the other budget shares, the
        other quality shares of the source or the other response-time shares are
        rescaled in proportion.
        """
        parts = dotted.split(".")

        def mutate(own: Raw, resolved: Raw) -> None:
            _own_list(own, resolved, parts)
            group = _sum_group(parts, resolved)
            if group is None:
                _set(own, parts, value)
                _mark_yours(own, resolved, [parts])
                return
            paths, changed = group
            current = {k: float(_get(resolved, path)) for k, path in paths.items()}
            new = rescale_others(current, changed, float(value))
            for k, path in paths.items():
                _set(own, path, new[k])
            # the others follow the user's value: theirs too
            _mark_yours(own, resolved, list(paths.values()))

        self.edit(mutate, self._edit_text(dotted, value), key=dotted)

    def _edit_text(self, dotted: str, value: Any) -> str:
        """The undo step's text in words ("Annual churn 10 % → 12 %")."""
        from gui.wording import edit_text

        try:
            before = _get(self.scenario.model_dump(mode="python"), dotted.split("."))
        except (KeyError, IndexError, TypeError, ValueError):
            before = None
        return edit_text(dotted, before, value, self.scenario)

    def set_range(self, dotted: str, low: float, mode: float, high: float) -> None:
        """Give a parameter a range: drawn once per run between ``low`` and
        ``high``, most often near ``mode`` (which the scenario's value becomes).
        Written into the file where the parameter is, as ``{low, mode, high}``."""
        parts = _index_form(dotted, self.scenario).split(".")
        new = {"low": float(low), "mode": float(mode), "high": float(high)}

        def mutate(own: Raw, resolved: Raw) -> None:
            _own_list(own, resolved, parts)
            _drop_declared_range(own, dotted)
            _set(own, parts, new)

        before = self.scenario.uncertainty.get(dotted)
        old = (
            {"low": before.low, "mode": before.mode, "high": before.high}
            if before is not None
            else _get(self.scenario.model_dump(mode="python"), parts)
        )
        from gui.wording import edit_text

        self.edit(mutate, edit_text(dotted, old, new, self.scenario), key=f"{dotted}~")

    def clear_range(self, dotted: str) -> None:
        """Take a parameter's range away: it keeps the range's most likely value."""
        parts = _index_form(dotted, self.scenario).split(".")
        tri = self.scenario.uncertainty.get(dotted)
        if tri is None:
            return

        def mutate(own: Raw, resolved: Raw) -> None:
            _own_list(own, resolved, parts)
            _drop_declared_range(own, dotted)
            _set(own, parts, float(tri.mode))

        from gui.wording import format_value, parameter_label

        value = format_value(dotted, float(tri.mode))
        label = parameter_label(dotted, self.scenario)
        self.edit(mutate, f"{label}: no range, {value}")

    def set_source(self, dotted: str, source: str) -> None:
        """Say where the user's value of ``dotted`` comes from ("our CRM,
        2025"): its citation becomes the user's, with that source."""
        parts = dotted.split(".")

        def mutate(own: Raw, resolved: Raw) -> None:
            _mark_yours(own, resolved, [parts], source)

        from gui.wording import parameter_label

        label = parameter_label(dotted, self.scenario)
        self.edit(mutate, f"Source of {label}: {source}", key=f"source:{dotted}")

    def add_item(self, list_path: str) -> None:
        """Append a source (with no budget share yet) or a pipeline stage."""
        parts = list_path.split(".")

        def mutate(own: Raw, resolved: Raw) -> None:
            items = _list_in(own, resolved, parts)
            names = {item["name"] for item in items}
            if list_path == "marketing.sources":
                item = {
                    "name": _unique("new_source", names),
                    "cost_per_lead": 100.0,
                    "share": 0.0,
                    "ready": 0.2,
                    "future": 0.5,
                    "junk": 0.3,
                }
            else:
                item = {
                    "name": _unique("new_stage", names),
                    "conversion": 0.5,
                    "mean_weeks": 2.0,
                }
            items.append(item)
            citations = own.setdefault("citations", {})
            citations[f"{list_path}.{item['name']}"] = user_citation()

        what = "a lead source" if list_path == "marketing.sources" else "a stage"
        self.edit(mutate, f"Add {what}")

    def remove_item(self, list_path: str, index: int) -> None:
        """Remove a source (its budget share goes to the others) or a stage."""
        parts = list_path.split(".")

        def mutate(own: Raw, resolved: Raw) -> None:
            items = _list_in(own, resolved, parts)
            if len(items) <= 1:
                raise ScenarioError(
                    "the last item cannot be removed", parameter=list_path
                )
            removed = items.pop(index)
            if list_path == "marketing.sources":
                shares = {str(i): float(it["share"]) for i, it in enumerate(items)}
                shares["_removed"] = float(removed["share"])
                new = rescale_others(shares, "_removed", 0.0)
                for i, it in enumerate(items):
                    it["share"] = new[str(i)]

        self.edit(mutate, f"Remove {self._item_name(list_path, index)}")

    def move_item(self, list_path: str, index: int, offset: int) -> None:
        parts = list_path.split(".")
        target = index + offset

        def mutate(own: Raw, resolved: Raw) -> None:
            items = _list_in(own, resolved, parts)
            if 0 <= target < len(items):
                items.insert(target, items.pop(index))

        direction = "up" if offset < 0 else "down"
        self.edit(mutate, f"Move {self._item_name(list_path, index)} {direction}")

    def _item_name(self, list_path: str, index: int) -> str:
        """``"lead source paid search"``, ``"stage demo"`` (for undo texts)."""
        sources = list_path == "marketing.sources"
        items = (
            self.scenario.marketing.sources
            if sources
            else self.scenario.pipeline.stages
        )
        kind = "lead source" if sources else "stage"
        if 0 <= index < len(items):
            return f"{kind} {items[index].name.replace('_', ' ')}"
        return f"{kind} {index + 1}"

    def set_lever(self, lever_id: str, on: bool) -> None:
        """Switch a lever on or off.

        Switching resets the parameters the lever sets to what ``extends`` and the
        levers now give, so the switch has a visible effect even where the file had
        set those values itself (undo brings them back).
        """
        if not self.extends and self.baseline is None:
            raise ScenarioError(
                "levers apply on top of the scenario a file extends, and this one "
                "extends none; start from a bundled preset or File > New",
                parameter="levers",
            )
        lever = load_lever(_lever_ref(lever_id, self.anchor))
        order = [e.id for e in bundled_levers()]

        def mutate(own: Raw, resolved: Raw) -> None:
            levers = [x for x in own.get("levers", []) if x != lever_id]
            if on:
                levers.append(lever_id)
                levers.sort(key=lambda x: order.index(x) if x in order else len(order))
            if levers:
                own["levers"] = levers
            else:
                own.pop("levers", None)
            skeleton: Raw = {"name": "inherited", "levers": levers}
            if self.baseline is not None:
                inherited = resolve_alternative(
                    self.baseline.scenario, skeleton, base=self.anchor
                ).model_dump(mode="python")
            else:
                inherited = scenario_from_dict(
                    {**skeleton, "extends": own["extends"]},
                    origin="<levers>",
                    base=self.anchor,
                ).model_dump(mode="python")
            for dotted in lever_keys(lever, inherited):
                _reset_to_inherited(own, inherited, dotted.split("."))

        self.edit(
            mutate, f"{'Switch on' if on else 'Switch off'} the lever {lever.name}"
        )

    # ------------------------------------------------------------------ files

    def save(self, path: str | Path | None = None) -> Path:
        """Save atomically (temporary file, then rename) as TOML, keeping
        ``extends`` and ``levers``; the document then belongs to that file."""
        target = Path(path or self.path or "").expanduser()
        if not str(target) or target.is_dir():
            raise ScenarioError("choose a file name to save to")
        target = target.resolve()
        anchor_before = self.anchor
        if self.extends and target.parent != (anchor_before or target).parent:
            # A relative `extends` must still be found from the new folder.
            resolve_reference(self.extends, relative_to=target)
        if self.baseline is not None:
            # An alternative is saved as what it is: its levers and the values
            # it sets itself, so that reopened against a baseline it is that
            # baseline with these changes.
            write_scenario_text(
                target, tomli_w.dumps(_saved_own(self.own)), standalone=False
            )
        else:
            save_scenario(self.scenario, target)
        self.path = target
        self.anchor = target
        self.preset_id = None
        self.own = read_toml(target)
        self.scenario = self._resolve(self.own)
        self.undo_stack.setClean()
        self.changed.emit()
        return target


def _mark_yours(
    own: Raw, resolved: Raw, paths: list[list[str]], source: str = ENTERED_BY_YOU
) -> None:
    """Cite the values at ``paths`` as the user's: the citation of the value
    they replaced no longer applies (list items are cited by name)."""
    citations = own.setdefault("citations", {})
    for parts in paths:
        named = list(parts)
        for list_path in LIST_PATHS:
            lp = list_path.split(".")
            if (
                parts[: len(lp)] == lp
                and len(parts) > len(lp)
                and (index := list_index(parts[len(lp)])) is not None
            ):
                try:
                    items = _get(own, lp)
                    named[len(lp)] = str(items[index]["name"])
                except (KeyError, IndexError, TypeError):
                    pass
        if named[0] in PARAMETER_TABLES:
            citations[".".join(named)] = user_citation(source)


def _bundled_descriptions() -> dict[str, str]:
    """The bundled presets' descriptions (words joined by single spaces), by
    name."""
    return {entry.description: entry.name for entry in bundled_scenarios()}


def _stop_claiming_bundled(own: Raw, name: str) -> None:
    """A scenario the user has changed no longer carries a bundled preset's
    description (it describes the bundled company, not the user's); the
    user can write their own."""
    text = " ".join(str(own.get("description", "")).split())
    preset = _bundled_descriptions().get(text)
    if preset is not None:
        own["description"] = (
            f"Started from the bundled preset “{preset}”; values marked as "
            "yours are your own."
        )


def _saved_own(own: Raw) -> Raw:
    out: Raw = {"schema_version": 1}
    out.update({k: v for k, v in own.items() if k != "schema_version"})
    return out


def _lever_ref(lever_id: str, anchor: Path | None) -> Path:
    return resolve_reference(
        lever_id, kind="lever", relative_to=anchor or Path.cwd() / "_new_.toml"
    )


def _drop_declared_range(own: Raw, dotted: str) -> None:
    """Remove a range declared in the file's ``[uncertainty]`` table (a range
    may be written there or inline, where the parameter is)."""
    declared = own.get("uncertainty")
    if isinstance(declared, dict):
        declared.pop(dotted, None)
        if not declared:
            own.pop("uncertainty")


def _unique(stem: str, names: set[str]) -> str:
    index = 1
    while f"{stem}_{index}" in names:
        index += 1
    return f"{stem}_{index}"


def _list_in(own: Raw, resolved: Raw, list_parts: list[str]) -> list[Any]:
    """The list at ``list_parts`` (sources, stages), held whole by ``own``."""
    items = _own_list(own, resolved, [*list_parts, "0"])
    if items is None:
        raise ScenarioError("not a list", parameter=".".join(list_parts))
    return items


def _own_list(own: Raw, resolved: Raw, parts: list[str]) -> list[Any] | None:
    """If ``parts`` goes through a list (sources, stages), make sure ``own`` holds
    the whole list (a list in a file replaces the inherited one whole)."""
    for list_path in LIST_PATHS:
        lp = list_path.split(".")
        if parts[: len(lp)] == lp and len(parts) > len(lp):
            try:
                current = _get(own, lp)
            except (KeyError, TypeError, IndexError):
                current = None
            if not isinstance(current, list):
                current = copy.deepcopy(_get(resolved, lp))
                _set(own, lp, current)
            return current
    return None


def _sum_group(
    parts: list[str], resolved: Raw
) -> tuple[dict[str, list[str]], str] | None:
    """The sum-to-1 group of a parameter: ({member: path}, changed member)."""
    container = ".".join(parts[:-1])
    if container in _SUM_GROUPS:
        keys = _SUM_GROUPS[container]
        return {k: [*parts[:-1], k] for k in keys}, parts[-1]
    if parts[:2] == ["marketing", "sources"] and len(parts) == 4:
        if parts[3] in _QUALITY:
            return {k: [*parts[:3], k] for k in _QUALITY}, parts[3]
        if parts[3] == "share":
            count = len(resolved["marketing"]["sources"])
            paths = {
                str(i): ["marketing", "sources", str(i), "share"] for i in range(count)
            }
            return paths, parts[2]
    return None


def _index_form(lever_key: str, scenario: Scenario) -> str:
    """A lever's dotted key (list items by name) as the editor names parameters
    (list items by index)."""
    parts = lever_key.split(".")
    for list_path, items in (
        ("marketing.sources", scenario.marketing.sources),
        ("pipeline.stages", scenario.pipeline.stages),
    ):
        lp = list_path.split(".")
        if (
            parts[: len(lp)] == lp
            and len(parts) > len(lp)
            and list_index(parts[len(lp)]) is None
        ):
            names = [item.name for item in items]
            if parts[len(lp)] in names:
                parts[len(lp)] = str(names.index(parts[len(lp)]))
    return ".".join(parts)


def _reset_to_inherited(own: Raw, inherited: Raw, parts: list[str]) -> None:
    for list_path in LIST_PATHS:
        lp = list_path.split(".")
        if parts[: len(lp)] == lp and len(parts) > len(lp):
            try:
                items = _get(own, lp)
            except (KeyError, TypeError):
                return
            if not isinstance(items, list):
                _delete(own, parts)
                return
            item_ref, rest = parts[len(lp)], parts[len(lp) + 1 :]
            source = _get(inherited, lp)
            own_names = [it.get("name") for it in items if isinstance(it, dict)]
            src_names = [it.get("name") for it in source]
            if (index := list_index(item_ref)) is not None:
                i_own = i_src = index
            elif item_ref in own_names and item_ref in src_names:
                i_own, i_src = own_names.index(item_ref), src_names.index(item_ref)
            else:
                return
            if i_own >= len(items) or i_src >= len(source):
                return
            if rest:
                _set(items[i_own], rest, copy.deepcopy(_get(source[i_src], rest)))
            else:
                items[i_own] = copy.deepcopy(source[i_src])
            return
    _delete(own, parts)
