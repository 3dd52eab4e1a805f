"""Reading and writing scenario and lever files (TOML).

A scenario is resolved in layers, each overriding the one before:

1. the scenario it ``extends`` (resolved the same way, recursively);
2. its ``levers``, applied in order (each lever is a table of dotted overrides);
3. the tables of the file itself;
4. overrides given by the caller (the CLI's ``--set``, the GUI's edits).

A list (sources, stages) or a table given as a dotted override replaces the
inherited one whole. The result is validated by :mod:`simulator.model.schema`; every
error names the file the offending value came from, the dotted parameter, the
value and what is allowed. Nothing read from a file is ever executed.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import math
import os
import re
import stat
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from simulator.model.command import funnelsim_command
from simulator.model.errors import ScenarioError
from simulator.model.library import (
    bundled_dir,
    bundled_lever_path,
    bundled_scenario_path,
)
from simulator.model.schema import (
    MAX_LEVERS,
    PARAMETER_TABLES,
    Lever,
    Scenario,
    field_info,
    limits,
    value_at,
)
from simulator.model.uncertainty import extract_ranges, is_range, range_problem
from simulator.model.untrusted import (
    MAX_FILE_BYTES,
    MAX_INTEGER,
    check_numbers,
    check_path,
    describe_os_error,
    line_of,
    list_index,
    parse_toml,
    read_text,
    refusing,
    resolved,
)

MAX_EXTENDS_DEPTH = 16
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_LOADER_KEYS = ("schema_version", "extends", "levers")

Raw = dict[str, Any]


@dataclass
class _Layers:
    """A raw (unvalidated) scenario and which file set each of its values."""

    raw: Raw = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    #: When each origin was recorded (later layers have higher numbers).
    order: dict[str, int] = field(default_factory=dict)
    clock: int = 0

    def record(self, dotted: str, origin: str) -> None:
        self.clock += 1
        self.origin[dotted] = origin
        self.order[dotted] = self.clock

    def origin_of(self, dotted: str) -> str | None:
        """The layer that set ``dotted`` last: the longest recorded prefix (a
        list set by a lever owns its items), or a layer that set something
        inside it later. A problem of a whole table (shares that do not sum to
        1, names not unique) is then blamed on the file or ``--set`` that
        changed it last, not on the bundled scenario it extends. List items
        may be named by index or by name."""
        best: tuple[int, str] | None = None
        for form in {dotted, _index_form(self.raw, dotted)}:
            found = self._ranked_origin(form)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        return best[1] if best is not None else None

    def _ranked_origin(self, dotted: str) -> tuple[int, str] | None:
        parts = dotted.split(".") if dotted else []
        best: tuple[int, str] | None = None
        for end in range(len(parts), 0, -1):
            key = ".".join(parts[:end])
            found = self.origin.get(key)
            if found is not None:
                best = (self.order.get(key, 0), found)
                break
        inside = dotted + "." if dotted else ""
        for key, found in self.origin.items():
            if key.startswith(inside) and key != dotted:
                rank = self.order.get(key, 0)
                if best is None or rank > best[0]:
                    best = (rank, found)
        return best


def _index_form(raw: Raw, dotted: str) -> str:
    """``pipeline.stages.proposal.conversion`` as origins are recorded,
    ``pipeline.stages.1.conversion`` (list items by index)."""
    parts = dotted.split(".")
    node: Any = raw
    for i, part in enumerate(parts):
        if isinstance(node, list):
            names = [it.get("name") if isinstance(it, dict) else None for it in node]
            index = list_index(part)
            if index is None and part in names:
                index = names.index(part)
                parts[i] = str(index)
            if index is None or index >= len(node):
                break
            node = node[index]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            break
    return ".".join(parts)


# --------------------------------------------------------------------------- reading


#: Files parsed lately, by path, with the modification time and size they had:
#: the app resolves a scenario's whole ``extends`` chain and its levers at every
#: edit, and parsing them (TOML in pure Python) was half of that. Only files of
#: a scenario's size are kept (the bundled ones are under 20 KB), so that files
#: from strangers cannot make the cache large.
_PARSED: dict[Path, tuple[tuple[int, int], Raw]] = {}
_PARSED_MAX_FILES = 32
_PARSED_MAX_BYTES = 100_000
_PARSED_LOCK = threading.Lock()


def read_toml(path: Path) -> Raw:
    """Parse one TOML file, refusing huge files and turning every failure into a
    :class:`ScenarioError` that names the file. A file unchanged since it was
    last parsed (same modification time and size) is not parsed again; each
    caller gets its own copy."""
    check_path(path, origin=str(path))
    try:
        stat = path.stat()
    except OSError as exc:
        raise ScenarioError(describe_os_error(exc), file=path) from None
    if not path.is_file():
        raise ScenarioError("is not a file", file=path)
    if stat.st_size > MAX_FILE_BYTES:
        raise ScenarioError(
            f"file is {stat.st_size:,} bytes; scenario files are limited to "
            f"{MAX_FILE_BYTES:,} bytes",
            file=path,
        )
    version = (stat.st_mtime_ns, stat.st_size)
    with _PARSED_LOCK:
        known = _PARSED.get(path)
    if known is not None and known[0] == version:
        return copy.deepcopy(known[1])
    raw = _parse_toml(path)
    if stat.st_size > _PARSED_MAX_BYTES:
        return raw
    with _PARSED_LOCK:
        if path not in _PARSED and len(_PARSED) >= _PARSED_MAX_FILES:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[path] = (version, raw)
    return copy.deepcopy(raw)


def _parse_toml(path: Path) -> Raw:
    return parse_toml(read_text(path), origin=str(path))


def resolve_reference(
    ref: str | Path, *, kind: str = "scenario", relative_to: Path | None = None
) -> Path:
    """Find the file a scenario or lever reference names.

    A reference is a bundled id (``siloed``, ``speed_to_lead``) or a path. Inside a
    file, relative paths are resolved against that file's folder and may not leave
    it: a shared scenario must not reach into the rest of the disk.
    """
    text = str(ref)
    parameter = ("extends" if kind == "scenario" else "levers") if relative_to else None
    origin = str(relative_to) if relative_to is not None else None
    if not text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ScenarioError(
            f"{kind} reference {text[:60]!r} is not a usable name or path",
            file=origin,
            parameter=parameter,
        )
    check_path(text, origin=origin, parameter=parameter)
    if relative_to is None:
        path = Path(text).expanduser()
        try:
            exists = path.exists()
        except OSError as exc:
            raise ScenarioError(describe_os_error(exc), file=text) from None
        if path.suffix.lower() == ".toml" or exists:
            return path
        bundled = (bundled_scenario_path if kind == "scenario" else bundled_lever_path)(
            text
        )
        if bundled is not None:
            return bundled
        raise ScenarioError(
            f"no such file and no bundled {kind} of that name "
            f"(see `{funnelsim_command()} list`)",
            file=text,
        )
    if _ID_PATTERN.match(text) and not text.lower().endswith(".toml"):
        bundled = (bundled_scenario_path if kind == "scenario" else bundled_lever_path)(
            text
        )
        if bundled is not None:
            return bundled
    folder = resolved(relative_to.parent, origin=origin, parameter=parameter)
    candidate = Path(text)
    if candidate.is_absolute():
        raise ScenarioError(
            f"{kind} reference {text!r} is an absolute path; use a bundled id "
            "or a path "
            f"relative to the file",
            file=relative_to,
            parameter=parameter,
        )
    target = resolved(
        folder / candidate, origin=origin, parameter=parameter, shown=text
    )
    if not target.is_relative_to(folder):
        raise ScenarioError(
            f"{kind} reference {text!r} leaves the scenario's folder",
            file=relative_to,
            parameter=parameter,
        )
    try:
        exists = target.exists()
    except OSError as exc:
        raise ScenarioError(
            describe_os_error(exc),
            file=origin,
            parameter=parameter,
            value=text,
            has_value=True,
        ) from None
    if not exists:
        raise ScenarioError(
            f"{kind} {text!r} not found (neither a bundled id nor a file next "
            "to this one)",
            file=relative_to,
            parameter=parameter,
        )
    return target


def load_scenario(
    ref: str | Path,
    *,
    overrides: Mapping[str, Any] | None = None,
    overrides_origin: str = "--set",
) -> Scenario:
    """Load, resolve and validate a scenario file or bundled id.

    Parameters
    ----------
    ref
        A path to a TOML file or the id of a bundled scenario.
    overrides
        Dotted parameter names and values applied last
        (``{"handoff.ignore_base": 0.2}``).
    overrides_origin
        How errors name the overrides' origin.
    """
    with refusing(str(ref)), naming_the_line():
        path = resolve_reference(ref)
        layers = _resolve_file(path, chain=())
        if overrides:
            for dotted, value in overrides.items():
                check_numbers(value, origin=overrides_origin, prefix=f"{dotted}.")
                apply_override(layers, dotted, value, origin=overrides_origin)
        return validate_scenario(layers, default_file=str(path))


@contextlib.contextmanager
def naming_the_line() -> Iterator[None]:
    """Add the line of the file that sets the offending parameter to an error
    (``user.toml, line 12: handoff.ignore_base = 2: ...``), where it can be
    found: a file's values carry no positions once parsed."""
    try:
        yield
    except ScenarioError as exc:
        if exc.file and exc.parameter and not exc.line:
            with contextlib.suppress(ScenarioError, OSError, ValueError):
                text = read_text(Path(exc.file))
                line = line_of(text, exc.parameter)
                if line is not None:
                    exc.name_line(line)
        raise


def scenario_from_dict(
    raw: Mapping[str, Any], *, origin: str = "<scenario>", base: Path | None = None
) -> Scenario:
    """Validate a scenario held in memory (as read from TOML), resolving its
    ``extends`` and ``levers`` relative to ``base`` (a file path) if given."""
    anchor = base if base is not None else Path.cwd() / "_in_memory_.toml"
    with refusing(origin), naming_the_line():
        check_numbers(raw, origin=origin)
        layers = _resolve_raw(copy.deepcopy(dict(raw)), anchor, origin, chain=())
        return validate_scenario(layers, default_file=origin)


#: The parameters that make the company every run of a comparison starts from.
STARTING_COMPANY = ("company.initial_customers", "company.initial_arr")


def resolve_alternative(
    baseline: Scenario,
    alternative: str | Path | Mapping[str, Any],
    *,
    base: Path | None = None,
    origin: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    overrides_origin: str = "--set",
) -> Scenario:
    """An alternative of a comparison: a set of changes to the baseline.

    The changes are those of the alternative's file and of every file in its
    ``extends`` chain above the company it was written for: the first file
    down the chain in which no lever is in force (neither its own nor one it
    inherits) is "a company" and is replaced by the baseline. The alternative
    is resolved as the baseline as resolved, then, from the top of the chain
    down to the alternative, each file's ``levers`` then its own tables, then
    ``overrides``. So ``aligned`` is "this baseline with the alignment levers"
    whatever company the baseline is, and a file that ``extends = "aligned"``
    keeps those levers (and aligned's own values) under its own values.

    ``alternative`` is a bundled id, a path, or a file's content held in memory
    (then ``base`` is the file its references resolve against and ``origin``
    how errors name it). An alternative may not change the starting company
    (:data:`STARTING_COMPANY`): every scenario of a comparison continues from
    the baseline's warmed-up company, so a :class:`ScenarioError` says so.
    """
    shown = origin or (
        "<alternative>" if isinstance(alternative, Mapping) else str(alternative)
    )
    with refusing(shown), naming_the_line():
        if isinstance(alternative, Mapping):
            own = copy.deepcopy(dict(alternative))
            check_numbers(own, origin=shown)
            path = base if base is not None else Path.cwd() / "_in_memory_.toml"
            name = origin or f"<{own.get('name', 'alternative')}>"
        else:
            path = resolve_reference(alternative)
            own = read_toml(path)
            name = origin or str(path)
        check_schema_version(own, name)
        changes = [*_changes_above_company(own, path, name), (own, path, name)]
        layers = _Layers(raw=scenario_raw(baseline))
        # What an alternative takes from the baseline is not its identity.
        for inherited in ("name", "description", "extends", "levers"):
            layers.raw.pop(inherited, None)
        for file_own, file_path, file_origin in changes:
            _apply_own(layers, file_own, file_path, file_origin)
        # The resolved alternative names its own `extends` and every lever it
        # applies to the baseline (the bridge and the drivers take them as steps).
        layers.raw.pop("extends", None)
        if own.get("extends") is not None:
            layers.raw["extends"] = own["extends"]
        applied = [lever for file, _, _ in changes for lever in file.get("levers", [])]
        layers.raw.pop("levers", None)
        if applied:
            layers.raw["levers"] = list(dict.fromkeys(applied))
        if overrides:
            for dotted, value in overrides.items():
                check_numbers(value, origin=overrides_origin, prefix=f"{dotted}.")
                apply_override(layers, dotted, value, origin=overrides_origin)
        scenario = validate_scenario(layers, default_file=name)
        check_same_start(baseline, scenario, origin=layers.origin_of)
        return scenario


def _changes_above_company(
    own: Raw, path: Path, origin: str
) -> list[tuple[Raw, Path, str]]:
    """The files an alternative extends that are changes, not its company:
    ``(content, path, origin)`` from the top of the ``extends`` chain (nearest
    the company) down. The company is the part of the chain in which no lever
    is in force, so everything from the lowest file with levers upwards is a
    change; a chain without levers holds no changes."""
    files: list[tuple[Raw, Path, str]] = []
    seen: tuple[Path, ...] = (path.resolve(),)
    current, current_path, current_origin = own, path, origin
    while (extends := current.get("extends")) is not None:
        if not (isinstance(extends, str) and extends):
            raise ScenarioError(
                "must be a bundled scenario id or a relative path (a string)",
                file=current_origin,
                parameter="extends",
                value=extends,
                has_value=True,
            )
        parent = resolve_reference(extends, kind="scenario", relative_to=current_path)
        if parent.resolve() in seen:
            loop = " -> ".join(p.name for p in (*seen, parent.resolve()))
            raise ScenarioError(f"extends loop: {loop}", file=current_origin)
        if len(seen) > MAX_EXTENDS_DEPTH:
            raise ScenarioError(
                f"extends chain deeper than {MAX_EXTENDS_DEPTH} files",
                file=current_origin,
            )
        seen = (*seen, parent.resolve())
        current, current_path, current_origin = read_toml(parent), parent, str(parent)
        check_schema_version(current, current_origin)
        files.append((current, current_path, current_origin))
    with_levers = [i for i, (raw, _, _) in enumerate(files) if raw.get("levers")]
    if not with_levers:
        return []
    return files[: with_levers[-1] + 1][::-1]


def inherited_changes(own: Mapping[str, Any], *, base: Path | None = None) -> list[Raw]:
    """The content of each file an alternative (``own``, a file's content;
    references resolve against ``base``) extends that is a change rather than
    its company (see :func:`resolve_alternative`), from the top of the chain
    down: what an alternative's summary lists beside its own levers and values."""
    path = base if base is not None else Path.cwd() / "_in_memory_.toml"
    origin = str(base) if base is not None else "<alternative>"
    return [raw for raw, _, _ in _changes_above_company(dict(own), path, origin)]


def company_of(ref: str | Path) -> Path | None:
    """The file of the company a scenario was written for (see
    :func:`resolve_alternative`): the first file down its ``extends`` chain in
    which no lever is in force, or ``None`` when none is in force in the
    scenario itself (it is a company)."""
    path = resolve_reference(ref)
    own = read_toml(path)
    changes = _changes_above_company(own, path, str(path))
    if not changes and not own.get("levers"):
        return None
    top = changes[0] if changes else (own, path, str(path))
    extends = top[0].get("extends")
    if not isinstance(extends, str) or not extends:
        return None
    return resolve_reference(extends, kind="scenario", relative_to=top[1])


def check_same_start(
    baseline: Scenario, alternative: Scenario, *, origin: Any = None
) -> None:
    """Refuse an alternative that starts from another company than the baseline.

    Every scenario of a comparison continues from the baseline's warmed-up
    company, and growth is measured from that start; an alternative with its
    own starting customers or ARR would be reported from a start it never had.
    """
    for dotted in STARTING_COMPANY:
        table, key = dotted.split(".")
        mine = getattr(getattr(alternative, table), key)
        theirs = getattr(getattr(baseline, table), key)
        if mine != theirs:
            where = origin(dotted) if origin is not None else None
            raise ScenarioError(
                f"differs from the baseline's {theirs:,}: every scenario of a "
                "comparison starts from the baseline's company (one warm-up, "
                "then each continues from it), so an alternative cannot change "
                "the starting company. Change it in the baseline, or run the two "
                "companies as separate comparisons",
                file=where or alternative.name,
                parameter=dotted,
                value=mine,
                has_value=True,
            )


def scenario_raw(scenario: Scenario) -> Raw:
    """A resolved scenario as raw content (what a file setting every value would
    hold): ranges written where their parameter is, as ``{low, mode, high}``."""
    data = scenario.model_dump(mode="python", exclude_none=True)
    citations = copy.deepcopy(data.get("citations", {}))
    for dotted, tri in data.pop("uncertainty").items():
        apply_override(data, dotted, tri, origin="<scenario>")
    # a range written where its value was is that value's, citation and all
    data["citations"] = citations
    return data


def scenario_from_resolved(raw: Raw, *, origin: str = "<scenario>") -> Scenario:
    """Validate a scenario dict whose ``extends`` and ``levers`` are already
    applied (a validated scenario's ``model_dump``, then edited): no files are
    read and nothing is merged, which makes the hundreds of variants of a value
    bridge cheap. ``raw`` is not changed."""
    own = {k: v for k, v in raw.items() if k not in ("extends", "levers")}
    check_schema_version(own, origin)
    return validate_scenario(_Layers(raw=own), default_file=origin)


def _resolve_file(path: Path, chain: tuple[Path, ...]) -> _Layers:
    return _resolve_raw(read_toml(path), path, str(path), chain)


def _resolve_raw(own: Raw, path: Path, origin: str, chain: tuple[Path, ...]) -> _Layers:
    key = resolved(path, origin=origin)
    if key in chain:
        loop = " -> ".join(p.name for p in (*chain, key))
        raise ScenarioError(f"extends loop: {loop}", file=origin)
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            f"extends chain deeper than {MAX_EXTENDS_DEPTH} files", file=origin
        )
    check_schema_version(own, origin)

    extends = own.get("extends")
    if extends is None:
        layers = _Layers()
    elif isinstance(extends, str) and extends:
        parent = resolve_reference(extends, kind="scenario", relative_to=path)
        layers = _resolve_file(parent, (*chain, key))
        # What a scenario inherits is not its parent's identity.
        for inherited in ("name", "description", "extends", "levers"):
            layers.raw.pop(inherited, None)
    else:
        raise ScenarioError(
            "must be a bundled scenario id or a relative path (a string)",
            file=origin,
            parameter="extends",
            value=extends,
            has_value=True,
        )

    _apply_own(layers, own, path, origin)
    return layers


def _apply_own(layers: _Layers, own: Raw, path: Path, origin: str) -> None:
    """Apply a file's levers, then its own tables, on top of ``layers``."""
    levers = own.get("levers", [])
    if not isinstance(levers, list) or not all(isinstance(x, str) for x in levers):
        raise ScenarioError(
            'must be a list of lever ids, e.g. levers = ["nurture"]',
            file=origin,
            parameter="levers",
            value=levers,
            has_value=True,
        )
    _check_lever_list(levers, origin)
    for lever_id in levers:
        lever_path = resolve_reference(lever_id, kind="lever", relative_to=path)
        lever = load_lever(lever_path)
        for dotted, value in lever.set.items():
            apply_override(layers, dotted, value, origin=str(lever_path))
        _merge_citations(layers, lever.citations, str(lever_path))

    _merge_tables(layers, own, origin)
    if _is_users_file(path):
        _credit_user_file(layers, own, f"from your file {path.name}")


def _is_users_file(path: Path) -> bool:
    """Whether ``path`` is a file of the user's own (not a bundled scenario or
    lever, not content held in memory, whose values the app marks itself)."""
    if not path.is_file():
        return False
    try:
        path.resolve().relative_to(bundled_dir().resolve())
    except ValueError:
        return True
    return False


def _credit_user_file(layers: _Layers, own: Raw, source: str) -> None:
    """Cite every value a user's own file sets, and does not cite itself, to
    that file: the value is the user's, whatever it replaced (or equals)."""
    own_cited = own.get("citations")
    cited = list(own_cited) if isinstance(own_cited, dict) else []
    citations = layers.raw.setdefault("citations", {})
    for dotted in _set_keys(own, ""):
        if any(dotted == c or dotted.startswith(c + ".") for c in cited):
            continue
        for key in [k for k in citations if k.startswith(dotted + ".")]:
            if key not in cited:
                del citations[key]  # inherited citations of the values inside
        citations[dotted] = {"source": source, "confidence": "user"}


def _set_keys(node: Mapping[str, Any], prefix: str) -> list[str]:
    """The parameters a file's tables set: values, tables' values, and the
    items of a list of named items (``pipeline.stages.qualify``)."""
    keys: list[str] = []
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if not prefix and key not in PARAMETER_TABLES:
            continue
        if isinstance(value, dict) and not is_range(value):
            keys += _set_keys(value, dotted + ".")
        elif (
            isinstance(value, list)
            and value
            and all(
                isinstance(item, dict) and isinstance(item.get("name"), str)
                for item in value
            )
        ):
            keys += [f"{dotted}.{item['name']}" for item in value]
        else:
            keys.append(dotted)
    return keys


def _check_lever_list(levers: list[str], origin: str) -> None:
    """Refuse more levers than a scenario may hold, or one listed twice, before
    any is read (ten thousand entries once froze the app at every edit)."""
    if len(levers) > MAX_LEVERS:
        raise ScenarioError(
            f"lists {len(levers):,} levers; a scenario takes at most {MAX_LEVERS}",
            file=origin,
            parameter="levers",
        )
    seen: set[str] = set()
    for lever_id in levers:
        if lever_id in seen:
            raise ScenarioError(
                "lists this lever twice; each lever applies once",
                file=origin,
                parameter="levers",
                value=lever_id,
                has_value=True,
            )
        seen.add(lever_id)


def check_schema_version(raw: Mapping[str, Any], origin: str) -> None:
    """Refuse a file of a schema version this FunnelSim cannot read."""
    version = raw.get("schema_version", 1)
    if version != 1 or isinstance(version, bool):
        raise ScenarioError(
            "this version of FunnelSim reads schema_version 1",
            file=origin,
            parameter="schema_version",
            value=version,
            has_value=True,
        )


def _merge_tables(layers: _Layers, own: Raw, origin: str) -> None:
    """Merge a file's own tables key by key into the inherited ones."""

    def merge(target: Raw, source: Mapping[str, Any], prefix: str) -> None:
        for key, value in source.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                merge(target[key], value, dotted + ".")
            else:
                replaced = key in target and (
                    _normalise(target[key]) != _normalise(value)
                )
                if replaced and not _only_cited_fields_change(
                    target[key], value, dotted, own.get("citations")
                ):
                    _drop_citations(layers.raw, dotted)
                target[key] = copy.deepcopy(value)
                _record_origin(layers, dotted, value, origin)

    rest = {k: v for k, v in own.items() if k not in ("extends", "levers", "citations")}
    merge(layers.raw, rest, "")
    for key in ("extends", "levers"):
        if key in own:
            layers.raw[key] = copy.deepcopy(own[key])
    if "citations" in own:
        citations = own["citations"]
        if not isinstance(citations, dict):
            raise ScenarioError(
                "must be a table of dotted names",
                file=origin,
                parameter="citations",
                value=citations,
                has_value=True,
            )
        _merge_citations(layers, citations, origin)


def _record_origin(layers: _Layers, dotted: str, value: Any, origin: str) -> None:
    for known in [k for k in layers.origin if k.startswith(dotted + ".")]:
        del layers.origin[known]
        layers.order.pop(known, None)
    layers.record(dotted, origin)
    if isinstance(value, list):
        # A replaced list takes its items' inherited citations with it: they
        # described items that are gone.
        citations = layers.raw.get("citations", {})
        for key in [k for k in citations if k.startswith(dotted + ".")]:
            del citations[key]
    if isinstance(value, dict):
        for key, sub in value.items():
            _record_origin(layers, f"{dotted}.{key}", sub, origin)


def _merge_citations(
    layers: _Layers, citations: Mapping[str, Any], origin: str
) -> None:
    target = layers.raw.setdefault("citations", {})
    for cited, citation in citations.items():
        # A citation of ``pipeline.stages.*.conversion`` cites every stage's.
        names = (
            expand_dotted(layers.raw, cited, origin=origin)
            if "*" in cited.split(".")
            else [cited]
        )
        for dotted in names:
            target[dotted] = copy.deepcopy(citation)
            layers.record(f"citations.{dotted}", origin)


def apply_override(
    layers: _Layers | Raw, dotted: str, value: Any, *, origin: str
) -> None:
    """Set one dotted parameter (``follow_up.response_profile.within_5min``) in a raw
    scenario. List items are addressed by index or by name
    (``pipeline.stages.demo.conversion``), or all at once by ``*``.

    ``value`` may be an effect instead of a value (see :func:`apply_effect`):
    ``{times = 0.64}`` multiplies the value in force, ``{times_together = 1.38}``
    multiplies the product of the values ``*`` names, each by the same factor.
    Levers use effects so that they change a user's company by what the
    evidence says, not set it to the bundled company's aligned figure."""
    if isinstance(layers, dict):
        layers = _Layers(raw=layers)
    if "*" in dotted.split(".") or is_effect(value):
        targets = expand_dotted(layers.raw, dotted, origin=origin)
        values = (
            apply_effect(layers.raw, targets, value, dotted=dotted, origin=origin)
            if is_effect(value)
            else [value] * len(targets)
        )
        for target, new in zip(targets, values, strict=True):
            _set_dotted(layers, target, new, origin=origin)
        return
    _set_dotted(layers, dotted, value, origin=origin)


def _set_dotted(layers: _Layers, dotted: str, value: Any, *, origin: str) -> None:
    parts = dotted.split(".")
    if not dotted or any(not p for p in parts):
        raise ScenarioError(
            "is not a dotted parameter name", file=origin, parameter=repr(dotted)
        )
    if parts[0] not in PARAMETER_TABLES and parts[0] not in ("name", "description"):
        raise ScenarioError(
            f"unknown parameter{_suggest(parts[0], PARAMETER_TABLES)}; a parameter "
            f"starts with one of {', '.join(PARAMETER_TABLES)}",
            file=origin,
            parameter=dotted,
        )
    node: Any = layers.raw
    # Where the value lands, list items by index: how validation names it.
    landed: list[str] = []
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            index = _list_index(node, part, where, origin)
            landed.append(str(index))
            node = node[index]
            continue
        landed.append(part)
        if isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            raise ScenarioError(
                f"{where} is a value, not a table", file=origin, parameter=dotted
            )
    last = parts[-1]
    if isinstance(node, list):
        index = _list_index(node, last, dotted, origin)
        old = node[index]
        node[index] = copy.deepcopy(value)
        landed.append(str(index))
    elif isinstance(node, dict):
        old = node.get(last, _MISSING)
        node[last] = copy.deepcopy(value)
        landed.append(last)
    else:
        raise ScenarioError(
            "is inside a value, not a table", file=origin, parameter=dotted
        )
    if old is not _MISSING and _normalise(old) != _normalise(value):
        _drop_citations(layers.raw, dotted)
    _record_origin(layers, ".".join(landed), value, origin)
    # A value set here replaces any range the parameter had.
    declared = layers.raw.get("uncertainty")
    if isinstance(declared, dict):
        for key in [k for k in declared if k == dotted or k.startswith(dotted + ".")]:
            del declared[key]


_MISSING = object()


def _only_cited_fields_change(old: Any, new: Any, dotted: str, cited: Any) -> bool:
    """Whether a list of named items (stages, sources) replaced by a file
    changes only fields the file cites itself: the citation of the list as a
    whole then still holds for the rest (the same items, the same other
    values)."""
    if not (isinstance(old, list) and isinstance(new, list) and len(old) == len(new)):
        return False
    if not isinstance(cited, dict):
        return False
    for before, after in zip(old, new, strict=True):
        if not (isinstance(before, dict) and isinstance(after, dict)):
            return False
        name = before.get("name")
        if name != after.get("name") or set(before) != set(after):
            return False
        for field_name, value in after.items():
            if _normalise(before[field_name]) != _normalise(value) and (
                f"{dotted}.{name}.{field_name}" not in cited
            ):
                return False
    return True


def _drop_citations(raw: Raw, dotted: str) -> None:
    """A value replaced by another loses the citation of the one it replaced
    (and of what was inside it): a source never vouches for a value it did not
    give. A citation for the new value, if any, is merged after this."""
    citations = raw.get("citations")
    if not isinstance(citations, dict):
        return
    named = _name_form(raw, dotted)
    keys = {dotted, named}
    for key in list(citations):
        if any(key == k or key.startswith(k + ".") for k in keys):
            del citations[key]
    # A citation of a table or list that holds the value vouched for it too:
    # it now vouches only for the values beside it that did not change.
    parts = named.split(".")
    for end in range(len(parts) - 1, 0, -1):
        for form in {".".join(parts[:end]), ".".join(dotted.split(".")[:end])}:
            if form in citations:
                _split_citation(raw, citations, form, parts)


def _split_citation(raw: Raw, citations: Raw, parent: str, path: list[str]) -> None:
    """Replace ``parent``'s citation by the same citation on each of its
    values except the one along ``path`` (a changed value, names for items)."""
    citation = citations.pop(parent)
    depth = len(parent.split("."))
    prefix = ".".join(path[:depth])
    for step in range(depth, len(path)):
        node = _get_named(raw, path[:step])
        if isinstance(node, dict):
            children = [k for k in node if k != "name"]
        elif isinstance(node, list):
            children = [
                str(item.get("name", i)) if isinstance(item, dict) else str(i)
                for i, item in enumerate(node)
            ]
        else:
            return
        for child in children:
            key = f"{prefix}.{child}"
            if child != path[step] and key not in citations:
                citations[key] = copy.deepcopy(citation)
        prefix = f"{prefix}.{path[step]}"


def _get_named(raw: Raw, parts: list[str]) -> Any:
    node: Any = raw
    for part in parts:
        if isinstance(node, list):
            names = [i.get("name") if isinstance(i, dict) else None for i in node]
            index = list_index(part)
            if part in names:
                node = node[names.index(part)]
            elif index is not None and index < len(node):
                node = node[index]
            else:
                return None
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _name_form(raw: Raw, dotted: str) -> str:
    """``pipeline.stages.0.conversion`` as citations name it,
    ``pipeline.stages.discovery.conversion`` (list items by name)."""
    parts = dotted.split(".")
    node: Any = raw
    for i, part in enumerate(parts):
        if isinstance(node, list):
            index = list_index(part)
            if index is None or index >= len(node):
                return dotted
            item = node[index]
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                parts[i] = item["name"]
            node = item
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return dotted
    return ".".join(parts)


#: The keys of an effect value (``{times = 0.64}``), with what each means.
EFFECTS = {
    "times": "multiplies the value in force",
    "times_together": "multiplies the product of the values named (each by the "
    "same factor)",
}


def is_effect(value: Any) -> bool:
    """Whether an override is an effect (``{times = 0.64}``), not a value."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in EFFECTS


def effect_text(value: Any) -> str:
    """An effect as people read it: "x 0.64", "x 1.38 together"."""
    ((kind, factor),) = value.items()
    return f"x {factor:g}" + (" together" if kind == "times_together" else "")


def lever_keys(lever: Lever, raw: Raw) -> list[str]:
    """The dotted parameters ``lever`` changes in ``raw`` (a scenario's content),
    its ``*`` names spelled out item by item (items by name)."""
    keys: list[str] = []
    for dotted in lever.set:
        try:
            keys += expand_dotted(raw, dotted, origin=lever.name)
        except ScenarioError:
            keys.append(dotted)
    return keys


def expand_dotted(raw: Raw, dotted: str, *, origin: str) -> list[str]:
    """The dotted names ``dotted`` stands for in ``raw``: itself, or one name for
    each item of a list it addresses with ``*`` (items by name where they have
    one, as citations name them)."""
    names = [""]
    node_of: dict[str, Any] = {"": raw}
    for depth, part in enumerate(dotted.split(".")):
        where = ".".join(dotted.split(".")[: depth + 1])
        following: list[str] = []
        for name in names:
            node = node_of[name]
            if part == "*":
                if not isinstance(node, list):
                    raise ScenarioError(
                        "* stands for every item of a list (stages, sources), and "
                        f"{where.rsplit('.', 1)[0]} is not a list",
                        file=origin,
                        parameter=dotted,
                    )
                keys = [
                    item["name"]
                    if isinstance(item, dict) and isinstance(item.get("name"), str)
                    else str(i)
                    for i, item in enumerate(node)
                ]
                items = list(node)
            elif isinstance(node, list):
                index = _list_index(node, part, where, origin)
                keys, items = [part], [node[index]]
            elif isinstance(node, dict):
                keys, items = [part], [node.get(part)]
            else:
                keys, items = [part], [None]
            for key, item in zip(keys, items, strict=True):
                full = f"{name}.{key}" if name else key
                following.append(full)
                node_of[full] = item
        names = following
    return names


def apply_effect(
    raw: Raw, targets: list[str], effect: dict[str, Any], *, dotted: str, origin: str
) -> list[Any]:
    """The values an effect gives the parameters ``targets`` (what ``dotted``
    names in ``raw``). A range ``{low, mode, high}`` is scaled end by end, and
    no value is taken past its parameter's limits (a conversion stays at most
    1): the evidence says how much better, the schema how far that can go."""
    ((kind, factor),) = effect.items()
    if isinstance(factor, bool) or not isinstance(factor, int | float):
        raise ScenarioError(
            f"{kind} takes a number, e.g. {{{kind} = 0.64}}",
            file=origin,
            parameter=dotted,
            value=effect,
            has_value=True,
        )
    if not (math.isfinite(factor) and factor >= 0):
        raise ScenarioError(
            "must be a finite factor of at least 0",
            file=origin,
            parameter=dotted,
            value=effect,
            has_value=True,
        )
    if kind == "times_together" and targets:
        factor = float(factor) ** (1 / len(targets))
    info = field_info(dotted)
    low, high, _ = limits(info) if info is not None else (-math.inf, math.inf, False)
    out = []
    declared = raw.get("uncertainty")
    # Ranges kept beside the values (a dumped scenario's), by the names used here.
    ranges = (
        {_name_form(raw, key): tri for key, tri in declared.items() if is_range(tri)}
        if isinstance(declared, dict)
        else {}
    )
    for target in targets:
        current = ranges.get(target, value_at(raw, target))
        if is_range(current):
            new: Any = {
                end: min(high, max(low, float(current[end]) * factor))
                for end in ("low", "mode", "high")
            }
        elif isinstance(current, int | float) and not isinstance(current, bool):
            new = min(high, max(low, float(current) * factor))
        else:
            raise ScenarioError(
                f"an effect ({kind}) changes a number, and {target} is "
                f"{'not set' if current is None else repr(current)}",
                file=origin,
                parameter=dotted,
                value=effect,
                has_value=True,
            )
        out.append(new)
    return out


def _list_index(items: list[Any], part: str, where: str, origin: str) -> int:
    index = list_index(part)
    if index is not None:
        if index < len(items):
            return index
        raise ScenarioError(
            f"index {index} is out of range (the list has {len(items)} items)",
            file=origin,
            parameter=where,
        )
    names = [item.get("name") for item in items if isinstance(item, dict)]
    if part in names:
        return names.index(part)
    raise ScenarioError(
        f"no item named {part[:40] + '...' if len(part) > 40 else part!r}; "
        "the list holds "
        f"{', '.join(map(str, names)) or 'nothing'}",
        file=origin,
        parameter=where,
    )


def load_lever(ref: str | Path) -> Lever:
    """Load and validate a lever file (a bundled id or a path)."""
    with refusing(str(ref)), naming_the_line():
        path = resolve_reference(ref, kind="lever")
        raw = read_toml(path)
        return _validate_lever(raw, path)


def _validate_lever(raw: Raw, path: Path) -> Lever:
    check_schema_version(raw, str(path))
    raw.pop("schema_version", None)
    try:
        lever = Lever.model_validate(raw)
    except ValidationError as exc:
        raise explain_validation_error(exc, lambda dotted: str(path)) from None
    for dotted in lever.set:
        if dotted.split(".")[0] not in PARAMETER_TABLES:
            raise ScenarioError(
                f"unknown parameter{_suggest(dotted.split('.')[0], PARAMETER_TABLES)}",
                file=path,
                parameter=f"set.{dotted}",
            )
    return lever


def validate_scenario(layers: _Layers, *, default_file: str) -> Scenario:
    raw = copy.deepcopy({k: v for k, v in layers.raw.items() if k != "schema_version"})
    declared = raw.pop("uncertainty", {})
    if not isinstance(declared, dict):
        raise ScenarioError(
            "must be a table of ranges", file=default_file, parameter="uncertainty"
        )
    ranges = {**declared, **extract_ranges(raw, PARAMETER_TABLES)}

    def origin_of(dotted: str) -> str:
        return layers.origin_of(dotted) or default_file

    def range_origin(dotted: str) -> str:
        # A range declared in an [uncertainty] table is that table's.
        if dotted in declared:
            return layers.origin_of(f"uncertainty.{dotted}") or default_file
        return origin_of(dotted)

    for dotted, value in ranges.items():
        problem = (
            range_problem(dotted, value)
            if isinstance(value, dict)
            else ("a range is a table {low, mode, high}")
        )
        if problem:
            raise ScenarioError(
                problem,
                file=range_origin(dotted),
                parameter=dotted,
                value=value,
                has_value=True,
            )
    raw["uncertainty"] = ranges
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise explain_validation_error(exc, origin_of, raw) from None
    _check_range_ends(scenario, raw, origin_of, range_origin)
    return scenario


def _check_range_ends(
    scenario: Scenario, raw: Raw, origin_of: Any, range_origin: Any
) -> None:
    """A range must name a continuous parameter and stay within its limits."""
    dumped = scenario.model_dump()
    for dotted, tri in scenario.uncertainty.items():
        current = value_at(dumped, dotted)
        if current is None:
            raise ScenarioError(
                "cannot be a range: no such parameter (list items are named by "
                "index from 0 or by name)",
                file=range_origin(dotted),
                parameter=dotted,
            )
        if not isinstance(current, float):
            raise ScenarioError(
                "cannot be a range: only continuous parameters (not whole numbers, "
                "switches or names) can",
                file=range_origin(dotted),
                parameter=dotted,
            )
        for end in (tri.low, tri.high):
            probe = copy.deepcopy(raw)
            probe.pop("uncertainty")
            apply_override(probe, dotted, end, origin=origin_of(dotted))
            try:
                Scenario.model_validate(probe)
            except ValidationError as exc:
                raise explain_validation_error(exc, origin_of) from None


def explain_validation_error(
    exc: ValidationError, origin_of: Any, raw: Raw | None = None
) -> ScenarioError:
    """Turn pydantic's report into one readable line: the first problem, then
    up to three more. List items are named by their name where they have one
    (``pipeline.stages.qualify``), as found in ``raw``."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    dotted = _named_loc(first["loc"], raw)
    kind = first["type"]
    message = str(first["msg"]).removeprefix("Value error, ")
    value = first.get("input")
    if kind == "extra_forbidden":
        parent, _, key = dotted.rpartition(".")
        known = _known_keys(parent)
        problem = f"unknown parameter{_suggest(key, known)}"
        if known:
            problem += f"; {parent or 'the file'} takes {', '.join(known)}"
        error = ScenarioError(problem, file=origin_of(dotted), parameter=dotted)
    elif kind == "missing":
        error = ScenarioError(
            "is required but missing", file=origin_of(dotted), parameter=dotted
        )
    elif kind.startswith("value_error") or kind == "assertion_error":
        error = ScenarioError(message, file=origin_of(dotted), parameter=dotted or None)
    else:
        error = ScenarioError(
            _allowed(message),
            file=origin_of(dotted),
            parameter=dotted,
            value=value,
            has_value=True,
        )
    if len(errors) > 1:
        more = _more_problems(errors[1:], origin_of, raw, origin_of(dotted))
        error.args = (f"{error.args[0]}{more}",)
    return error


def _named_loc(loc: Iterable[Any], raw: Raw | None) -> str:
    """A validation error's location as a dotted name, list items by name."""
    parts: list[str] = []
    node: Any = raw
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            item = node[part]
            name = item.get("name") if isinstance(item, dict) else None
            parts.append(name if isinstance(name, str) and name else str(part))
            node = item
            continue
        parts.append(str(part))
        node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


def _more_problems(
    errors: list[Any], origin_of: Any, raw: Raw | None, first_file: Any, shown: int = 3
) -> str:
    """The problems after the first, on the same line: up to ``shown`` of them
    named (parameter, what is wrong; the file if another), then how many more."""
    parts = []
    for problem in errors[:shown]:
        dotted = _named_loc(problem["loc"], raw)
        message = _allowed(str(problem["msg"]).removeprefix("Value error, "))
        if problem["type"] == "missing":
            message = "is required but missing"
        elif problem["type"] == "extra_forbidden":
            message = "unknown parameter"
        where = origin_of(dotted)
        file = f"{where}: " if where and where != first_file else ""
        parts.append(f"{file}{dotted}: {message}")
    rest = len(errors) - len(parts)
    tail = f"; and {rest} more" if rest else ""
    return f"; also: {'; '.join(parts)}{tail}"


def _allowed(message: str) -> str:
    replacements = {
        "Input should be a valid number": "must be a number",
        "Input should be a valid integer": "must be a whole number",
        "Input should be a valid boolean": "must be true or false",
        "Input should be a valid string": "must be a string in quotes",
        "Input should be a finite number": "must be a finite number",
        "Input should be a valid dictionary or instance of": "must be a table",
        "Input should be a valid list": "must be a list",
    }
    for prefix, plain in replacements.items():
        if message.startswith(prefix):
            return plain
    too_long = re.match(
        r"(List|Dictionary|String) should have at most (\d+) (items?|characters?)"
        r"(?: after validation)?(?:, not (\d+))?",
        message,
    )
    if too_long:
        _, most, unit, given = too_long.groups()
        unit = unit.rstrip("s") + "s"
        return f"at most {most} {unit} allowed" + (f", not {given}" if given else "")
    return message.replace("Input should be", "must be")


def _known_keys(parent: str) -> list[str]:
    model: Any = Scenario
    for part in [p for p in parent.split(".") if p]:
        if list_index(part) is not None:
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            return []
        annotation = info.annotation
        args = getattr(annotation, "__args__", ())
        model = args[0] if args else annotation
    fields = getattr(model, "model_fields", None)
    return list(fields) if fields else []


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``dotted.name=value`` where the value is a TOML literal."""
    name, sep, literal = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ScenarioError(
            "expected dotted.name=value", file="--set", parameter=repr(text)
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        # A newline would end the TOML literal and silently drop what follows.
        raise ScenarioError(
            "holds a control character (a newline?); give one name=value per --set",
            file="--set",
            parameter=repr(text),
        )
    try:
        value = tomllib.loads(f"v = {literal.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        hint = ""
        if re.fullmatch(r"[A-Za-z_][\w-]*", literal.strip()):
            hint = f'; strings need quotes: {name}="{literal.strip()}"'
        raise ScenarioError(
            f'value {literal.strip()!r} is not a TOML literal (0.3, true, "text", '
            f"{{a = 1}}){hint}",
            file="--set",
            parameter=name,
        ) from None
    except ValueError:  # over 4,300 digits
        raise ScenarioError(
            f"holds a number of thousands of digits; whole numbers are limited "
            f"to ±{MAX_INTEGER:,}",
            file="--set",
            parameter=name,
        ) from None
    check_numbers(value, origin="--set", prefix=f"{name}.")
    return name, value


# --------------------------------------------------------------------------- writing


def scenario_to_toml(scenario: Scenario, *, relative_to: Path | None = None) -> str:
    """Render a scenario as TOML, keeping its ``extends`` and ``levers`` and writing
    only the values that differ from what they give (or every value when the
    scenario extends nothing). Loading the text gives the same scenario."""
    data = scenario_raw(scenario)
    base: Raw = {}
    if scenario.extends or scenario.levers:
        anchor = relative_to if relative_to is not None else Path.cwd() / "_new_.toml"
        skeleton = {"extends": scenario.extends, "levers": list(scenario.levers)}
        if scenario.extends is None:
            skeleton.pop("extends")
        base = _resolve_raw(skeleton, anchor, str(anchor), chain=()).raw

    out: Raw = {"schema_version": 1, "name": scenario.name}
    if scenario.description:
        out["description"] = scenario.description
    if scenario.extends:
        out["extends"] = scenario.extends
    if scenario.levers:
        out["levers"] = list(scenario.levers)
    for table in PARAMETER_TABLES:
        diff = _diff(data[table], base.get(table)) if base else data[table]
        if diff:
            out[table] = diff
    citations = {
        k: v
        for k, v in data["citations"].items()
        if not base or _normalise(base.get("citations", {}).get(k)) != _normalise(v)
    }
    if citations:
        out["citations"] = {
            k: {kk: vv for kk, vv in v.items() if vv not in (None, "")}
            for k, v in citations.items()
        }
    return tomli_w.dumps(out)


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items() if v not in (None, "")}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return float(value)


def _diff(value: Any, base: Any) -> Any:
    if isinstance(value, dict) and isinstance(base, dict):
        out = {}
        for key, sub in value.items():
            if key not in base:
                out[key] = sub
                continue
            changed = _diff(sub, base[key])
            if changed is not None and changed != {}:
                out[key] = changed
        return out
    return None if _normalise(value) == _normalise(base) else value


def save_scenario(scenario: Scenario, path: str | Path) -> None:
    """Write a scenario atomically: a temporary file in the same folder, flushed to
    disk, then renamed over the target, so a crash never leaves half a file."""
    target = Path(path)
    write_scenario_text(target, scenario_to_toml(scenario, relative_to=target))


def write_scenario_text(target: Path, text: str, *, standalone: bool = True) -> None:
    """Write a scenario file's text atomically, only if it opens again: within
    the reader's size limit and, for a ``standalone`` file (not an alternative,
    which is read on top of a baseline), valid when read back as the file
    would be. Otherwise nothing is written and the error says why."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            f"would be {size:,} bytes; scenario files are limited to "
            f"{MAX_FILE_BYTES:,} bytes (shorten the description or notes)",
            file=target,
        )
    try:
        raw = tomllib.loads(text)
        if standalone:
            scenario_from_dict(raw, origin=str(target), base=target)
    except (ScenarioError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(
            f"was not saved, because it could not be opened again: {exc}",
            file=target,
        ) from None
    write_atomic(target, text)


def write_atomic(
    target: Path, text: str | bytes, *, new_mode: int | None = None
) -> None:
    """Write ``text`` (or bytes: a deck, a PDF) to ``target`` so that a crash or
    a full disk never leaves half a file: a temporary file in the same folder,
    flushed to disk, then renamed over the target. A symbolic link is written
    through (its target gets the text, the link stays), and a file that exists
    keeps its permissions; a new file gets ``new_mode`` (by default what
    ``open()`` gives, the umask applied). Leftovers of writes to the same file
    that were killed half-way are removed."""
    target = _through_links(Path(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = new_mode if new_mode is not None else 0o666 & ~_UMASK
    clean_stale_temps(target)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent
    )
    try:
        with contextlib.suppress(OSError):  # e.g. a file system without modes
            os.fchmod(fd, mode)
        if isinstance(text, bytes):
            with os.fdopen(fd, "wb") as raw:
                raw.write(text)
                raw.flush()
                os.fsync(raw.fileno())
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def _read_umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


_UMASK = _read_umask()
TEMP_SUFFIX = ".tmp"
#: A temporary file older than this is a leftover of a save that was killed
#: (a save takes milliseconds), not one another process is writing now.
STALE_TEMP_SECONDS = 60.0


def _through_links(target: Path) -> Path:
    if not target.is_symlink():
        return target
    return resolved(target, origin=str(target))


def stale_temps(target: Path, *, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Temporary files that saves to ``target`` left behind when killed."""
    pattern = re.compile(
        rf"\.{re.escape(target.name)}\.[A-Za-z0-9_]+{re.escape(TEMP_SUFFIX)}"
    )
    found = []
    now = time.time()
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > older_than:
                found.append(Path(entry.path))
    return found


def clean_stale_temps(target: Path, *, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Remove what :func:`stale_temps` finds; how many went."""
    removed = 0
    for leftover in stale_temps(target, older_than=older_than):
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed += 1
    return removed


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists are leaves."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out
