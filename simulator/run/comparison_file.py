"""A whole comparison in one TOML file: its baseline, its alternatives, the run
settings and a target.

    schema_version = 1
    kind = "comparison"

    [run]                      # optional: the baseline's [simulation] otherwise
    runs = 2000
    horizon_weeks = 104
    warmup_weeks = 52
    seed = 20101

    [target]                   # optional
    figure = "arr_growth_y1"
    value = 0.1

    [baseline]                 # a scenario file's content, as it would be saved
    name = "Mine"
    extends = "siloed"
    company = { initial_customers = 420, initial_arr = 15_080_000.0 }

    [[alternatives]]           # each a set of changes to the baseline
    name = "Aligned"
    extends = "siloed"
    levers = ["enablement", "retention"]

Each scenario is held whole (not as a reference to another file), so the file
moves between machines as one; its ``extends`` and ``levers`` resolve against
the comparison file's folder like a scenario file's. Reading validates every
part with the scenario loader's messages (naming the file and the part);
saving validates first and writes atomically. Scenario files stay as they are.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from simulator.model.errors import ScenarioError
from simulator.model.scenario_io import (
    check_schema_version,
    explain_validation_error,
    read_toml,
    resolve_alternative,
    scenario_from_dict,
    write_atomic,
)
from simulator.model.schema import Scenario, Simulation
from simulator.model.untrusted import refusing, resolved
from simulator.run.figures import FIGURE_ORDER
from simulator.run.runner import RunSettings

KIND = "comparison"
MAX_ALTERNATIVES = 3
_KEYS = ("schema_version", "kind", "run", "target", "baseline", "alternatives")

Raw = dict[str, Any]


@dataclass
class ComparisonFile:
    """A comparison as read from (or to be written to) a comparison file."""

    baseline: Raw
    alternatives: list[Raw]
    run: RunSettings | None = None
    target: tuple[str, float] | None = None

    def resolve(self, anchor: Path, origin: str = "<comparison>") -> list[Scenario]:
        """The baseline and its alternatives, validated; a
        :class:`ScenarioError` names the part that is wrong."""
        baseline = scenario_from_dict(
            self.baseline, origin=f"{origin} [baseline]", base=anchor
        )
        scenarios = [baseline]
        for index, own in enumerate(self.alternatives, start=1):
            scenarios.append(
                resolve_alternative(
                    baseline,
                    own,
                    base=anchor,
                    origin=f"{origin} [alternatives {index}]",
                )
            )
        return scenarios


def is_comparison_file(path: str | Path) -> bool:
    """Whether a TOML file holds a comparison (``kind = "comparison"``)."""
    try:
        return read_toml(Path(path)).get("kind") == KIND
    except ScenarioError:
        return False


def load_comparison(path: str | Path) -> tuple[ComparisonFile, list[Scenario]]:
    """Read and validate a comparison file: the file's content and its
    scenarios resolved (baseline first)."""
    with refusing(str(path)):  # any failure: one line naming the file
        path = Path(path).expanduser()
        raw = read_toml(path)
        comparison = comparison_from_dict(raw, origin=str(path))
        return comparison, comparison.resolve(resolved(path), str(path))


def comparison_from_dict(raw: Mapping[str, Any], *, origin: str) -> ComparisonFile:
    check_schema_version(raw, origin)
    if raw.get("kind") != KIND:
        raise ScenarioError(
            f'is not a comparison file (it needs kind = "{KIND}"; a scenario '
            "file opens as a scenario)",
            file=origin,
        )
    unknown = [key for key in raw if key not in _KEYS]
    if unknown:
        raise ScenarioError(
            f"unknown key; a comparison file holds {', '.join(_KEYS)}",
            file=origin,
            parameter=unknown[0],
        )
    baseline = raw.get("baseline")
    if not isinstance(baseline, dict):
        raise ScenarioError(
            "must be a table (the baseline scenario)", file=origin, parameter="baseline"
        )
    alternatives = raw.get("alternatives", [])
    if (
        not isinstance(alternatives, list)
        or not alternatives
        or not all(isinstance(a, dict) for a in alternatives)
    ):
        raise ScenarioError(
            "must be one or more [[alternatives]] tables",
            file=origin,
            parameter="alternatives",
        )
    parts = [("[baseline]", baseline)] + [
        (f"[alternatives {i + 1}]", part) for i, part in enumerate(alternatives)
    ]
    for where, part in parts:
        # Each part is a scenario of its own, with its own name: the name of a
        # file it extends is not inherited (and must not be blamed).
        if not isinstance(part.get("name"), str) or not part["name"].strip():
            raise ScenarioError(
                "is required: each scenario of a comparison has its own name, e.g. "
                'name = "Ours, aligned"',
                file=origin,
                parameter=f"{where}: name",
            )
    if len(alternatives) > MAX_ALTERNATIVES:
        raise ScenarioError(
            f"a comparison holds at most {MAX_ALTERNATIVES} alternatives, got "
            f"{len(alternatives)}",
            file=origin,
            parameter="alternatives",
        )
    return ComparisonFile(
        baseline=copy.deepcopy(baseline),
        alternatives=copy.deepcopy(alternatives),
        run=_run(raw.get("run"), origin),
        target=_target(raw.get("target"), origin),
    )


def _run(value: Any, origin: str) -> RunSettings | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ScenarioError("must be a table", file=origin, parameter="run")
    try:
        simulation = Simulation.model_validate(value)
    except ValidationError as exc:
        error = explain_validation_error(exc, lambda _d: origin)
        if error.parameter:
            error = ScenarioError(
                error.problem,
                file=origin,
                parameter=f"run.{error.parameter}",
                value=error.value,
                has_value=error.value is not None,
            )
        raise error from None
    return RunSettings(
        runs=simulation.runs,
        horizon_weeks=simulation.horizon_weeks,
        warmup_weeks=simulation.warmup_weeks,
        seed=simulation.seed,
    )


def _target(value: Any, origin: str) -> tuple[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"figure", "value"}:
        raise ScenarioError(
            "must be a table {figure, value}", file=origin, parameter="target"
        )
    figure, number = value["figure"], value["value"]
    if figure not in FIGURE_ORDER:
        raise ScenarioError(
            f"must be one of {', '.join(FIGURE_ORDER)}",
            file=origin,
            parameter="target.figure",
            value=figure,
            has_value=True,
        )
    if (
        isinstance(number, bool)
        or not isinstance(number, int | float)
        or not math.isfinite(number)
    ):
        raise ScenarioError(
            "must be a finite number",
            file=origin,
            parameter="target.value",
            value=number,
            has_value=True,
        )
    return str(figure), float(number)


def comparison_to_toml(comparison: ComparisonFile) -> str:
    out: Raw = {"schema_version": 1, "kind": KIND}
    if comparison.run is not None:
        out["run"] = dataclasses.asdict(comparison.run)
    if comparison.target is not None:
        out["target"] = {"figure": comparison.target[0], "value": comparison.target[1]}
    out["baseline"] = _scenario_table(comparison.baseline)
    out["alternatives"] = [_scenario_table(a) for a in comparison.alternatives]
    return tomli_w.dumps(out)


def _scenario_table(own: Mapping[str, Any]) -> Raw:
    # A scenario inside a comparison file carries no version of its own.
    return {k: copy.deepcopy(v) for k, v in own.items() if k != "schema_version"}


def save_comparison(comparison: ComparisonFile, path: str | Path) -> Path:
    """Validate, then write atomically (never half a file, never an invalid one)."""
    target = Path(path).expanduser()
    text = comparison_to_toml(comparison)
    again = comparison_from_dict({**comparison_as_raw(comparison)}, origin=str(target))
    again.resolve(target.resolve(), str(target))
    write_atomic(target, text)
    return target


def comparison_as_raw(comparison: ComparisonFile) -> Raw:
    import tomllib

    parsed: Raw = tomllib.loads(comparison_to_toml(comparison))
    return parsed


def from_scenarios(
    baseline: Raw,
    alternatives: Sequence[Raw],
    *,
    run: RunSettings | None = None,
    target: tuple[str, float] | None = None,
) -> ComparisonFile:
    return ComparisonFile(
        baseline=copy.deepcopy(dict(baseline)),
        alternatives=[copy.deepcopy(dict(a)) for a in alternatives],
        run=run,
        target=target,
    )
