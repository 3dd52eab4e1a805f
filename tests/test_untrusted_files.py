"""Scenario files from strangers: the loader's only outcomes are a valid scenario
or a ScenarioError with a clear message, never another exception or a hang."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.model.errors import ScenarioError
from simulator.model.library import bundled_scenario_path
from simulator.model.scenario_io import flatten, load_scenario, read_toml
from simulator.model.schema import Scenario

SILOED = read_toml(bundled_scenario_path("siloed"))  # type: ignore[arg-type]
LEAVES = sorted(flatten({k: v for k, v in SILOED.items() if isinstance(v, dict)}))

odd_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from([0, -1, 1e308, -1e308, 1e-300, 0.5, 1, 2, 52, 10**7]),
)


def set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> None:
    node = raw
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


def delete_dotted(raw: dict[str, Any], dotted: str) -> None:
    node: Any = raw
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(parts[-1], None)


@st.composite
def mutated_scenarios(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """A scenario text (maybe broken) and extra files next to it."""
    raw: dict[str, Any] = {"schema_version": 1, "name": "fuzzed"}
    raw.update({k: v for k, v in SILOED.items() if k not in ("name", "description")})
    raw = tomli_w_round(raw)
    extra: dict[str, str] = {}
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(
            st.sampled_from(
                [
                    "set",
                    "delete",
                    "unknown",
                    "extends",
                    "levers",
                    "loop",
                    "chain",
                    "escape",
                ]
            )
        )
        if kind == "set":
            set_dotted(raw, draw(st.sampled_from(LEAVES)), draw(odd_values))
        elif kind == "delete":
            delete_dotted(
                raw, draw(st.sampled_from([*LEAVES, "marketing", "pipeline"]))
            )
        elif kind == "unknown":
            parent = draw(st.sampled_from(["", "company.", "follow_up.", "nurture."]))
            set_dotted(
                raw, parent + draw(st.text("abcxyz_", min_size=1, max_size=8)), 1
            )
        elif kind == "extends":
            raw["extends"] = draw(
                st.one_of(st.sampled_from(["siloed", "aligned", "nope"]), odd_values)
            )
        elif kind == "levers":
            raw["levers"] = draw(
                st.one_of(
                    st.lists(
                        st.sampled_from(["nurture", "retention", "missing", "../x"]),
                        max_size=3,
                    ),
                    odd_values,
                )
            )
        elif kind == "loop":
            raw["extends"] = "other.toml"
            extra["other.toml"] = (
                'schema_version = 1\nname = "o"\nextends = "scenario.toml"\n'
            )
        elif kind == "chain":
            depth = draw(st.integers(1, 25))
            raw["extends"] = "c0.toml"
            for i in range(depth):
                parent = (
                    f'extends = "c{i + 1}.toml"'
                    if i + 1 < depth
                    else 'extends = "siloed"'
                )
                extra[f"c{i}.toml"] = f'schema_version = 1\nname = "c{i}"\n{parent}\n'
        else:
            raw["extends"] = draw(
                st.sampled_from(
                    ["../../etc/passwd", "/etc/hostname", "../scenario.toml"]
                )
            )
    try:
        text = tomli_w.dumps(raw)
    except (TypeError, ValueError):
        text = "name = 'unwritable'\n"
    if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
        # Break the TOML: cut it, or splice in random characters.
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.text(max_size=10)) + text[cut : cut + 50]
    return text, extra


def tomli_w_round(raw: dict[str, Any]) -> dict[str, Any]:
    import tomllib

    result: dict[str, Any] = tomllib.loads(tomli_w.dumps(raw))
    return result


def load_or_error(text: str, extra: dict[str, str]) -> Scenario | ScenarioError:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "inner"
        root.mkdir()
        for name, content in extra.items():
            (root / name).write_text(content, encoding="utf-8")
        path = root / "scenario.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            return load_scenario(path)
        except ScenarioError as exc:
            return exc


# Examples: the profile's (tests/conftest.py): 300 everyday, 3,000 thorough.
@settings(deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_scenarios())
def test_mutated_files_load_or_fail_cleanly(case: tuple[str, dict[str, str]]) -> None:
    text, extra = case
    outcome = load_or_error(text, extra)
    if isinstance(outcome, ScenarioError):
        message = str(outcome)
        assert message and "Traceback" not in message
        assert len(message) < 2000
    else:
        assert isinstance(outcome, Scenario)
        for value in flatten(outcome.model_dump()).values():
            if isinstance(value, float):
                assert math.isfinite(value)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_loader(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.toml"
        path.write_bytes(data)
        with pytest.raises(ScenarioError):
            load_scenario(path)


def test_many_megabyte_file_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    with path.open("w") as handle:
        handle.write('schema_version = 1\nname = "huge"\n')
        handle.write("# padding\n" * 800_000)
    with pytest.raises(ScenarioError, match="limited to"):
        load_scenario(path)


def test_deeply_nested_toml_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000)
    with pytest.raises(ScenarioError):
        load_scenario(path)
