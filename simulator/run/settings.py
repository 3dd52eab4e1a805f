"""How to run a comparison: runs, horizon, warm-up and seed."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.model.schema import Scenario


@dataclass(frozen=True)
class RunSettings:
    """How to run: the baseline's ``[simulation]`` table unless overridden."""

    runs: int
    horizon_weeks: int
    warmup_weeks: int
    seed: int

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario,
        *,
        runs: int | None = None,
        weeks: int | None = None,
        warmup: int | None = None,
        seed: int | None = None,
    ) -> RunSettings:
        sim = scenario.simulation
        return cls(
            runs=sim.runs if runs is None else runs,
            horizon_weeks=sim.horizon_weeks if weeks is None else weeks,
            warmup_weeks=sim.warmup_weeks if warmup is None else warmup,
            seed=sim.seed if seed is None else seed,
        )
