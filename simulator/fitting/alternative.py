"""The aligned alternative of a fitted company: the bundled ``aligned`` levers
applied to the fitted baseline, written as a file beside it.

Most levers set policies (pass rates, an ignore rate, a response profile) that
mean the same for any company. The ``enablement`` lever is an effect: it sets the
conversions of the stages it was written for (siloed's ``discovery``,
``proposal``, ``negotiation``) to absolute values, siloed's times a factor. On a
fitted pipeline those names may not exist and absolute values may even lower a
better company's win rate, so the factor is applied to the fitted stages instead
(the lever's stated effect: win rate x 1.38, spread evenly over the stages).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from simulator.errors import ScenarioError
from simulator.scenario_io import (
    load_lever,
    load_scenario,
    read_toml,
    resolve_reference,
)

Raw = dict[str, Any]

#: The bundled scenario whose levers the fitted company is compared with.
ALIGNED = "aligned"


def aligned_alternative(
    stages: Sequence[Mapping[str, Any]],
    *,
    baseline_name: str,
    baseline_ref: str,
    against: str = ALIGNED,
) -> tuple[Raw, list[str]]:
    """The alternative's file content (``extends`` the fitted file) and notes on
    how each stage-setting lever was carried over."""
    path = resolve_reference(against)
    own = read_toml(path)
    written_for = load_scenario(own["extends"]) if own.get("extends") else None
    levers: list[str] = []
    notes: list[str] = []
    factors: list[float] = []
    carried: list[str] = []
    for lever_id in own.get("levers", []):
        lever = load_lever(resolve_reference(lever_id, kind="lever", relative_to=path))
        stage_keys = {k: v for k, v in lever.set.items() if k.startswith("pipeline.")}
        if not stage_keys:
            levers.append(lever_id)
            continue
        factor = _stage_factor(stage_keys, written_for, lever_id)
        if factor is None:
            notes.append(
                f"The '{lever_id}' lever sets other pipeline values than stage "
                "conversions; it is left out of this alternative."
            )
            continue
        factors.append(factor)
        carried.append(lever_id)
        source = written_for.name if written_for is not None else against
        notes.append(
            f"The '{lever_id}' lever multiplies {source}'s stage conversions by "
            f"{factor:.4f}; here the fitted stages are multiplied by the same "
            "factor (capped at 1)."
        )
    content: Raw = {
        "schema_version": 1,
        "name": f"{baseline_name} + {own.get('name', against)} levers"[:200],
        "description": (
            f"{baseline_name} with the levers of {own.get('name', against)}: "
            f"{', '.join(levers + carried)}. Written by funnelsim fit."
        ),
        "extends": baseline_ref,
        "levers": levers,
    }
    citations: Raw = dict(own.get("citations", {}))
    for table, value in own.items():
        if table in ("schema_version", "name", "description", "extends", "levers"):
            continue
        if table != "citations":
            content[table] = value
    if factors:
        factor = math.prod(factors)
        content["pipeline"] = {
            "stages": [
                {
                    "name": s["name"],
                    "conversion": round(min(1.0, float(s["conversion"]) * factor), 4),
                    "mean_weeks": float(s["mean_weeks"]),
                }
                for s in stages
            ]
        }
        citations["pipeline.stages"] = {
            "source": f"the {', '.join(carried)} lever's effect on the fitted stages",
            "confidence": "assumption",
            "note": " ".join(notes),
        }
    if citations:
        content["citations"] = citations
    return content, notes


def _stage_factor(
    stage_keys: Mapping[str, Any], written_for: Any, lever_id: str
) -> float | None:
    """The lever's conversions over those of the scenario it was written for:
    one factor (their geometric mean), or None if it sets anything else."""
    if written_for is None:
        return None
    base = {s.name: s.conversion for s in written_for.pipeline.stages}
    ratios = []
    for dotted, value in stage_keys.items():
        parts = dotted.split(".")
        if len(parts) != 4 or parts[1] != "stages" or parts[3] != "conversion":
            return None
        if parts[2] not in base or base[parts[2]] <= 0:
            raise ScenarioError(
                f"lever {lever_id!r} names stage {parts[2]!r}, which "
                f"{written_for.name} does not have"
            )
        ratios.append(float(value) / base[parts[2]])
    return math.prod(ratios) ** (1 / len(ratios)) if ratios else None


def companion_path(out: str | Path) -> Path:
    """``mine.toml`` -> ``mine-aligned.toml`` beside it."""
    out = Path(out)
    return out.with_name(f"{out.stem}-{ALIGNED}{out.suffix or '.toml'}")
