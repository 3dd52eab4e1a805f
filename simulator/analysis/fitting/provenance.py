"""A fit's record: each fitted value with its interval and source, the data's
figures beside the model's, and the scenario file that carries a citation per
fitted value ("fitted from FILE, N rows, 90 % interval low-high")."""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import tomli_w

from simulator.model.errors import ScenarioError
from simulator.model.provenance import user_citation
from simulator.model.scenario_io import write_atomic
from simulator.model.schema import Scenario

Raw = dict[str, Any]

#: Tolerances of the check by simulation (absolute for the win rate, relative
#: otherwise): a fitted scenario should reproduce its data within these.
TOLERANCES = {
    "win rate": ("abs", 0.02),
    "mean won cycle (weeks)": ("rel", 0.25),
    "median deal size": ("rel", 0.10),
    "won per opportunity": ("rel", 0.20),
}
DEFAULT_TOLERANCE = ("rel", 0.10)
#: Runs of the check by simulation (a few seconds).
CHECK_RUNS = 200


@dataclass
class Check:
    """A figure of the data beside the fitted model's expectation and simulation."""

    figure: str
    data: float
    expected: float
    simulated: float | None = None
    simulated_se: float | None = None
    file: str = ""

    @property
    def tolerance(self) -> tuple[str, float]:
        return TOLERANCES.get(self.figure, DEFAULT_TOLERANCE)

    @property
    def within(self) -> bool | None:
        if self.simulated is None:
            return None
        kind, tol = self.tolerance
        gap = abs(self.simulated - self.data)
        return gap <= tol if kind == "abs" else gap <= tol * abs(self.data)


@dataclass
class FitRow:
    """One fitted parameter: value, 90 % interval, where it came from and the
    data's figure it was fitted to (a key of :attr:`FitResult.checks`)."""

    parameter: str
    value: Any
    low: float | None
    high: float | None
    file: str
    rows: int
    columns: list[str]
    figure: str
    note: str = ""
    #: "user" for a value read off the user's own data (the app shows it as
    #: theirs), "assumption" for one derived from it by an assumption (scaled
    #: with the volume, set where the company sits).
    confidence: str = "user"
    #: A value the user gave (``--customers``, ``--arr``), not read off the data.
    given: bool = False

    @property
    def origin(self) -> str:
        """Where the value came from, in a table: file and columns."""
        if self.given:
            return f"entered by you ({self.file})"
        return f"{self.file}: {', '.join(c for c in self.columns if c)}"

    def citation(self) -> dict[str, Any]:
        interval = (
            f", 90 % interval {_show(self.low)}-{_show(self.high)}"
            if self.low is not None and self.high is not None
            else ""
        )
        if self.given:
            return {**user_citation(), "note": self.note}
        verb = "fitted" if self.confidence == "user" else "derived"
        source = f"{verb} from {self.file}, {self.rows:,} rows{interval}"
        note = f"Columns: {', '.join(self.columns)}." if self.columns else ""
        if self.note:
            note = f"{note} {self.note}".strip()
        return {"source": source, "confidence": self.confidence, "note": note}


@dataclass
class FitResult:
    raw: Raw  # the scenario file's content
    scenario: Scenario
    rows: list[FitRow]
    checks: dict[str, Check]
    kept: list[str]
    files: list[str]
    weeks: int
    simulated_runs: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "extends": self.raw.get("extends"),
            "files": self.files,
            "parameters": [
                {
                    **{k: _jsonable(v) for k, v in asdict(row).items()},
                    "citation": row.citation()["source"],
                    "data": _jsonable(self.checks[row.figure].data)
                    if row.figure in self.checks
                    else None,
                    "simulated": _jsonable(self.checks[row.figure].simulated)
                    if row.figure in self.checks
                    else None,
                }
                for row in self.rows
            ],
            "checks": [
                {
                    **{k: _jsonable(v) for k, v in asdict(c).items()},
                    "tolerance": list(c.tolerance),
                    "within": c.within,
                }
                for c in self.checks.values()
            ],
            "kept": self.kept,
            "simulated_runs": self.simulated_runs,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _show(value: Any) -> str:
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


# --------------------------------------------------------------------------- output


def get_dotted(raw: Raw, dotted: str) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        node = node[part]
    return node


def file_content(
    raw: Raw,
    base: Scenario,
    rows: list[FitRow],
    extends: str,
    title: str,
    files: list[str],
    out: str | Path | None,
) -> Raw:
    """The scenario file: ``extends`` plus the fitted tables and their citations."""
    fitted = {r.parameter for r in rows}
    content: Raw = {
        "schema_version": 1,
        "name": title[:200],
        "description": (
            f"Fitted by funnelsim fit on {dt.date.today().isoformat()} from "
            f"{', '.join(files)}; every value the data does not identify is "
            f"{base.name}'s ({extends})."
        ),
        "extends": extends_reference(extends, out),
    }
    tables: Raw = {}
    citations: Raw = {}
    for row in rows:
        dotted = row.parameter
        if dotted.startswith("pipeline.stages."):
            tables.setdefault("pipeline", {})["stages"] = raw["pipeline"]["stages"]
        elif dotted == "marketing.sources":
            tables.setdefault("marketing", {})["sources"] = raw["marketing"]["sources"]
            tables["marketing"].setdefault("reallocation", {})["min_share"] = raw[
                "marketing"
            ]["reallocation"]["min_share"]
        elif dotted == "follow_up.response_profile":
            tables.setdefault("follow_up", {})["response_profile"] = raw["follow_up"][
                "response_profile"
            ]
        else:
            table, _, key = dotted.rpartition(".")
            node = tables
            for part in table.split("."):
                node = node.setdefault(part, {})
            node[key] = get_dotted(raw, dotted)
        citations[dotted] = row.citation()
        # A table's or list's inherited citation (marketing.scoring,
        # pipeline.stages) would speak for the fitted values inside it.
        parts = dotted.split(".")
        for end in range(len(parts) - 1, 1, -1):
            parent = ".".join(parts[:end])
            if parent in base.citations and parent not in citations:
                citations[parent] = {
                    "source": f"fitted from {row.file}, {row.rows:,} rows",
                    "confidence": row.confidence,
                    "note": "Values fitted here have their own citations; the rest "
                    "are the extended scenario's.",
                }
    if "marketing.weekly_budget" in fitted and any(
        s["cost_per_lead"] != b.cost_per_lead
        for s, b in zip(
            raw["marketing"]["sources"], base.marketing.sources, strict=False
        )
    ):
        tables.setdefault("marketing", {})["sources"] = raw["marketing"]["sources"]
    if "company.initial_arr" in citations or "company.initial_arr" not in fitted:
        tables.setdefault("company", {})["initial_arr"] = raw["company"]["initial_arr"]
    if "company.initial_customers" not in fitted:
        tables.setdefault("company", {})["initial_customers"] = raw["company"][
            "initial_customers"
        ]
    content.update(_tidy(tables))
    content["citations"] = citations
    return content


def _tidy(value: Any) -> Any:
    """Fitted floats to 4 significant digits: the data do not say more."""
    if isinstance(value, dict):
        # Shares must keep summing to 1: those are written as computed.
        return {
            k: v if k in ("sources", "response_profile") else _tidy(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    if isinstance(value, float) and value != 0 and math.isfinite(value):
        digits = 4 - math.floor(math.log10(abs(value))) - 1
        return round(value, digits) if digits > 0 else float(round(value))
    return value


def extends_reference(extends: str, out: str | Path | None) -> str:
    """A bundled id as is; a path relative to the output file's folder."""
    candidate = Path(extends)
    if candidate.suffix != ".toml" or out is None:
        return extends
    try:
        relative = os.path.relpath(candidate.resolve(), Path(out).resolve().parent)
    except ValueError:  # another drive on Windows
        relative = ".."
    if relative.startswith(".."):
        raise ScenarioError(
            f"--extends {extends}: a scenario file extends a bundled id or a file in "
            "its own folder (or below); write the output next to it, or extend a "
            "bundled id"
        )
    return relative


def write_scenario(result: FitResult, out: str | Path) -> None:
    """Write the fitted scenario atomically (nothing is written on error)."""
    write_atomic(Path(out), _header(result) + tomli_w.dumps(result.raw))


def _header(result: FitResult) -> str:
    lines = [
        "# Fitted by `funnelsim fit` from " + ", ".join(result.files) + ".",
        "# Each fitted value's citation says where it came from; everything else",
        f"# is the extended scenario's ({result.raw['extends']}).",
    ]
    return "\n".join(lines) + "\n"
