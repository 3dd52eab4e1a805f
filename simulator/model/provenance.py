"""Where each value of a scenario comes from: a published source ("cited"), an
assumption no source sizes, the user's own figure ("yours"), or nothing given.

A value the user changes loses the citation of the value it replaced (the
loader drops it, :mod:`simulator.model.scenario_io`) and the app marks it as the
user's: a citation with ``confidence = "user"`` and the source "entered by
you" or one the user typed. The editor and every export read the kinds and
rows here, so none of them credits a user's number to a publication.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from simulator.model.parameter_text import format_parameter, label_of, section_of
from simulator.model.schema import Citation, Scenario
from simulator.model.untrusted import list_index

ENTERED_BY_YOU = "entered by you"
Kind = Literal["cited", "assumption", "yours", "none"]
#: How each kind is shown at a glance (the editor's tag, the exports' column).
KIND_LABELS: dict[str, str] = {
    "cited": "cited",
    "assumption": "assumption",
    "yours": "yours",
    "none": "",
}
_LISTS = ("marketing.sources", "pipeline.stages")


def user_citation(source: str = ENTERED_BY_YOU) -> dict[str, str]:
    """The citation of a value the user entered (as a file holds it)."""
    return {"source": source.strip() or ENTERED_BY_YOU, "confidence": "user"}


def kind_of(citation: Citation | None) -> Kind:
    if citation is None:
        return "none"
    if citation.confidence == "user":
        return "yours"
    if citation.confidence == "assumption" or citation.source.lower().startswith(
        "assumption"
    ):
        return "assumption"
    return "cited"


def citation_of(scenario: Scenario, dotted: str) -> Citation | None:
    """The citation of a parameter: its own, else the one of the table or list
    item that holds it; list items are cited by name or by index."""
    citations = scenario.citations
    for key in _candidates(scenario, dotted):
        if key in citations:
            return citations[key]
    return None


def _candidates(scenario: Scenario, dotted: str) -> list[str]:
    forms = [dotted]
    parts = dotted.split(".")
    for list_path in _LISTS:
        lp = list_path.split(".")
        if parts[: len(lp)] == lp and len(parts) > len(lp):
            items = _items(scenario, list_path)
            ref = parts[len(lp)]
            names = [item.name for item in items]
            index = list_index(ref)
            if index is not None and index < len(items):
                other = names[index]
            elif ref in names:
                other = str(names.index(ref))
            else:
                continue
            forms.append(".".join([*lp, other, *parts[len(lp) + 1 :]]))
    out = []
    for form in forms:
        bits = form.split(".")
        out += [".".join(bits[:end]) for end in range(len(bits), 0, -1)]
    # the most specific first, whichever form
    return sorted(dict.fromkeys(out), key=lambda k: -k.count("."))


def _items(scenario: Scenario, list_path: str) -> list[Any]:
    if list_path == "marketing.sources":
        return list(scenario.marketing.sources)
    return list(scenario.pipeline.stages)


def value_of(scenario: Scenario, dotted: str) -> Any:
    """A parameter's value (list items by index or name), or ``None``."""
    node: Any = scenario.model_dump(mode="python")
    for part in dotted.split("."):
        if isinstance(node, list):
            names = [i.get("name") for i in node if isinstance(i, dict)]
            index = list_index(part)
            if index is not None and index < len(node):
                node = node[index]
            elif part in names:
                node = node[names.index(part)]
            else:
                return None
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def provenance(scenario: Scenario, dotted: str) -> Kind:
    """Where a parameter's value comes from, at a glance."""
    return kind_of(citation_of(scenario, dotted))


@dataclass(frozen=True)
class AssumptionRow:
    """One cited (or user-entered) input, as exports list it."""

    parameter: str
    section: str
    label: str
    value: str
    kind: Kind
    source: str
    note: str

    def line(self) -> str:
        """``Initial customers = 420 customers — entered by you``."""
        head = f"{self.label} = {self.value}" if self.value else self.label
        return f"{head} — {self.source}"


def assumption_rows(
    scenario: Scenario, baseline: Scenario | None = None
) -> list[AssumptionRow]:
    """Every input with a citation, labelled with the schema's names and
    units and written in plain numbers, in the scenario's own order. With a
    ``baseline``, only the inputs whose value or citation differ from it (an
    alternative's own changes)."""
    rows = []
    for dotted, citation in scenario.citations.items():
        value = value_of(scenario, dotted)
        if (
            baseline is not None
            and value_of(baseline, dotted) == value
            and citation_of(baseline, dotted) == citation
        ):
            continue
        if isinstance(value, list) or value is None:
            shown = ""
        else:
            shown = format_parameter(dotted, value)
        kind = kind_of(citation)
        if kind == "yours":
            source = citation.source
        else:
            year = f" ({citation.year})" if citation.year else ""
            strength = (
                "" if kind == "assumption" else f"; confidence {citation.confidence}"
            )
            source = f"{citation.source}{year}{strength}"
        rows.append(
            AssumptionRow(
                parameter=dotted,
                section=section_of(dotted),
                label=label_of(dotted, scenario),
                value=shown,
                kind=kind,
                source=source,
                note=citation.note,
            )
        )
    return rows
