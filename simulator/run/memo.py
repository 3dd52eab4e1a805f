"""Warm-ups and runs remembered from one comparison for the next.

A :class:`RunMemo` belongs to whoever runs the comparisons that share it: the
app (across edits), a bridge or a sweep (across its variants). It is passed to
:func:`simulator.run.runner.compare`; a comparison without one keeps nothing.

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

import hashlib
import threading
from dataclasses import fields
from typing import Any

import numpy as np

from simulator.engine.chunk import State
from simulator.engine.params import NOT_IN_WARM_UP, Params
from simulator.model.schema import Scenario
from simulator.run.results import ChunkOutput


def warm_up_identity(params: Params) -> bytes:
    """What a warmed-up state depends on of the baseline's compiled parameters
    for a chunk: every field of :class:`~simulator.engine.params.Params` (values
    drawn from ranges included) but those marked
    :data:`~simulator.engine.params.NOT_IN_WARM_UP`, as a digest."""
    digest = hashlib.blake2b(digest_size=20)
    for field in fields(params):
        if field.metadata == NOT_IN_WARM_UP:
            continue
        value = getattr(params, field.name)
        digest.update(field.name.encode())
        if isinstance(value, np.ndarray):
            digest.update(f"{value.dtype.str}{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.digest()


def _state_bytes(state: State) -> int:
    arrays = [getattr(state, f.name) for f in fields(state)]
    arrays += list(state.epoch_weights.values())
    return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


def _output_bytes(output: ChunkOutput) -> int:
    return output.block.nbytes + sum(v.nbytes for v in output.figures.values())


WarmKey = tuple[object, ...]
RunKey = tuple[object, ...]


#: Room for the app's 1,000-run preview (its warm-up, baseline and
#: alternatives) and a full run of 10,000 runs' warm-ups and baseline (about
#: 10 KB a run, whose chunks differ), so the full run does not push out the
#: preview's runs before the next edit.
DEFAULT_MAX_BYTES = 160 * 2**20


class RunMemo:
    """Warmed-up states and scenarios' runs of recently run chunks, the most
    recently used kept, at most ``max_bytes`` of them."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: dict[tuple[object, ...], tuple[Any, int]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def warm_key(
        baseline: Params,
        seed: int,
        warmup_weeks: int,
        block_ids: tuple[int, ...],
        sizes: tuple[int, ...],
    ) -> WarmKey:
        """The key of a chunk's warmed-up state, from the baseline's parameters
        compiled for the chunk's runs."""
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
