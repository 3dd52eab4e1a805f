"""Warm-ups and runs remembered from one comparison for the next.

The app re-runs its comparison after every edit, and most edits leave most of it
as it was. A chunk's warmed-up state depends only on the baseline's parameters
that move the funnel (not on its name, its deal sizes, churn, expansion or
costs: week 0 sets customers and ARR back and the warm-up records nothing), on
the seed, the warm-up and the chunk's seed blocks; a scenario's runs from that
state depend on that and on the scenario and horizon alone. Both are kept here,
so that a comparison that changes only an alternative simulates that
alternative alone (104 of the 260 run-weeks per run of a comparison from
scratch), and one that changes only the company side of the baseline
simulates the baseline alone, with the same numbers either way.
"""

from __future__ import annotations

import json
import threading
from dataclasses import fields
from typing import Any

import numpy as np
from pydantic.main import IncEx

from simulator.engine import State
from simulator.results import ChunkOutput
from simulator.schema import Scenario

#: What a scenario holds that cannot change a warmed-up state: its description
#: and settings (run settings are keyed on their own), and the parameters that
#: move only customers, ARR and costs, which the warm-up does not record and
#: week 0 sets back (docs/model.md, section 1). The company's
#: initial size is not among them: week 0 sets customers and ARR to it.
OUTSIDE_WARM_UP: dict[str, IncEx | bool] = {
    "schema_version": True,
    "name": True,
    "description": True,
    "extends": True,
    "levers": True,
    "citations": True,
    "simulation": True,
    "company": {"annual_churn", "annual_expansion"},
    "deals": True,
    "costs": True,
    "nurture": {"cost_per_lead_week"},
}
#: The dotted names of the parameters above, whose ranges (``uncertainty``)
#: cannot change a warmed-up state either.
_OUTSIDE_WARM_UP_NAMES = (
    "company.annual_churn",
    "company.annual_expansion",
    "deals.",
    "costs.",
    "nurture.cost_per_lead_week",
)


def warm_up_identity(scenario: Scenario) -> str:
    """What of ``scenario``, as the baseline, a warmed-up state depends on."""
    dump = scenario.model_dump(mode="json", exclude=OUTSIDE_WARM_UP)
    dump["uncertainty"] = {
        name: spread
        for name, spread in dump["uncertainty"].items()
        if not name.startswith(_OUTSIDE_WARM_UP_NAMES)
    }
    return json.dumps(dump)


def _state_bytes(state: State) -> int:
    arrays = [getattr(state, f.name) for f in fields(state)]
    arrays += list(state.epoch_weights.values())
    return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


def _output_bytes(output: ChunkOutput) -> int:
    return output.block.nbytes + sum(v.nbytes for v in output.figures.values())


WarmKey = tuple[object, ...]
RunKey = tuple[object, ...]


class RunMemo:
    """Warmed-up states and scenarios' runs of recently run chunks, the most
    recently used kept, at most ``max_bytes`` of them."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: dict[tuple[object, ...], tuple[Any, int]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def warm_key(
        baseline: Scenario,
        seed: int,
        warmup_weeks: int,
        block_ids: tuple[int, ...],
        sizes: tuple[int, ...],
    ) -> WarmKey:
        """The key of a chunk's warmed-up state."""
        return (warm_up_identity(baseline), seed, warmup_weeks, block_ids, sizes)

    def warmed_up(self, key: WarmKey) -> State | None:
        found: State | None = self._get(("warm-up", *key))
        return found

    def keep_warmed_up(self, key: WarmKey, state: State) -> None:
        self._put(("warm-up", *key), state, _state_bytes(state))

    @staticmethod
    def run_key(warm: WarmKey, scenario: Scenario, horizon_weeks: int) -> RunKey:
        """The key of a scenario's runs from the warmed-up state of ``warm``."""
        return ("run", *warm, horizon_weeks, scenario.model_dump_json())

    def run(self, key: RunKey) -> ChunkOutput | None:
        """A scenario's runs (see :meth:`run_key`), if kept."""
        found: ChunkOutput | None = self._get(key)
        return found

    def keep_run(self, key: RunKey, output: ChunkOutput) -> None:
        """Keep a copy of ``output`` (which may be a view of a result's arrays,
        which its user may change or drop)."""
        kept = output.detached()
        self._put(key, kept, _output_bytes(kept))

    def _get(self, key: tuple[object, ...]) -> Any:
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                return None
            self._entries[key] = entry  # now the most recent
            return entry[0]

    def _put(self, key: tuple[object, ...], value: Any, size: int) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (value, size)
            while sum(e[1] for e in self._entries.values()) > self.max_bytes:
                del self._entries[next(iter(self._entries))]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


#: Shared by every comparison in this process. Room for the app's 1,000-run
#: preview (its warm-up, baseline and alternatives) and a full run of 10,000
#: runs' warm-ups and baseline (about 10 KB a run, whose chunks differ), so the
#: full run does not push out the preview's runs before the next edit.
REMEMBERED = RunMemo(max_bytes=160 * 2**20)
