"""The bundled scenario library: ``scenarios/`` in a checkout, package data in a
wheel."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


def bundled_dir() -> Path:
    """Folder of the bundled scenarios, found through the ``scenarios`` package so
    that it works from a checkout and from an installed wheel alike."""
    return Path(str(resources.files("scenarios")))


def bundled_scenario_path(scenario_id: str) -> Path | None:
    path = bundled_dir() / f"{scenario_id}.toml"
    return path if path.is_file() else None


def bundled_lever_path(lever_id: str) -> Path | None:
    path = bundled_dir() / "levers" / f"{lever_id}.toml"
    return path if path.is_file() else None


@dataclass(frozen=True)
class Entry:
    """One bundled file, as listed by ``funnelsim list`` and the app's menus."""

    id: str
    kind: str
    name: str
    description: str
    path: Path


def _entries(folder: Path, kind: str) -> list[Entry]:
    found = []
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        found.append(
            Entry(
                id=path.stem,
                kind=kind,
                name=str(raw.get("name", path.stem)),
                description=" ".join(str(raw.get("description", "")).split()),
                path=path,
            )
        )
    return found


def bundled_scenarios() -> list[Entry]:
    return _entries(bundled_dir(), "scenario")


def bundled_levers() -> list[Entry]:
    return _entries(bundled_dir() / "levers", "lever")
