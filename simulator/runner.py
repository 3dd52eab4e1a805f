"""Running scenarios: chunks, threads, progress and cancellation.

A comparison warms up once, with the baseline's parameters, and every scenario
continues from that same state, run by run, with common random numbers. A single
scenario is a comparison of one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulator.engine import Recorder, State, step
from simulator.errors import ScenarioError, SimulationCancelled
from simulator.params import compile_params
from simulator.results import (
    ChunkOutput,
    Comparison,
    RunResult,
    assemble,
    estimated_result_bytes,
)
from simulator.schema import Scenario
from simulator.streams import BLOCK_RUNS, all_block_seeds, block_bounds, chunk_sites

ProgressCallback = Callable[[float], None]
StopCallback = Callable[[], bool]


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


#: Results may use at most this share of the memory available when a run starts.
MEMORY_SHARE = 0.5


def available_memory_bytes() -> int:
    """Memory the system can give without swapping (Linux MemAvailable), or the
    physical memory where that is unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def check_memory(settings: RunSettings, scenarios: int) -> None:
    """Refuse up front, with an estimate, a run whose results would not fit in
    memory, rather than let it crash the app halfway."""
    needed = estimated_result_bytes(settings.runs, settings.horizon_weeks, scenarios)
    allowed = int(available_memory_bytes() * MEMORY_SHARE)
    if needed > allowed:
        per_run = needed / settings.runs
        raise ScenarioError(
            f"{scenarios} scenario(s) x {settings.horizon_weeks} weeks would need "
            f"about {needed / 2**30:.1f} GB for results, {allowed / 2**30:.1f} GB is "
            f"available: use at most {int(allowed / per_run):,} runs",
            parameter="simulation.runs",
            value=settings.runs,
            has_value=True,
        )


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def compare(
    baseline: Scenario,
    alternatives: Sequence[Scenario] = (),
    *,
    settings: RunSettings | None = None,
    threads: int | None = None,
    chunk_blocks: int = 1,
    progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
) -> Comparison:
    """Run a baseline and alternatives with a shared warm-up and common random numbers.

    Parameters
    ----------
    baseline, alternatives
        Validated scenarios. The warm-up uses the baseline's parameters.
    settings
        Runs, horizon, warm-up and seed; the baseline's ``[simulation]`` by default.
    threads
        Worker threads (numpy releases the GIL while drawing). Results do not
        depend on it.
    chunk_blocks
        Seed blocks of :data:`~simulator.streams.BLOCK_RUNS` runs per chunk. Results
        do not depend on it either; it only trades overhead for responsiveness.
    progress
        Called with the finished fraction (0..1) after each chunk.
    should_stop
        Polled between weeks and chunks; when it returns true the run stops and
        :class:`~simulator.errors.SimulationCancelled` is raised.
    """
    settings = settings or RunSettings.from_scenario(baseline)
    check_memory(settings, 1 + len(alternatives))
    scenarios = [baseline, *alternatives]
    blocks = all_block_seeds(settings.seed, settings.runs)
    bounds = block_bounds(settings.runs)
    chunks = [
        list(range(i, min(i + chunk_blocks, len(blocks))))
        for i in range(0, len(blocks), max(1, chunk_blocks))
    ]
    stop_event = threading.Event()

    def stopped() -> bool:
        if stop_event.is_set():
            return True
        if should_stop is not None and should_stop():
            stop_event.set()
            return True
        return False

    def run_chunk(block_ids: list[int]) -> list[ChunkOutput]:
        sizes = [bounds[b][1] - bounds[b][0] for b in block_ids]
        n = sum(sizes)
        seeds = [blocks[b] for b in block_ids]

        def uniforms(dotted: str) -> NDArray[np.float64]:
            return np.concatenate(
                [
                    b.parameter_uniforms(dotted, k)
                    for b, k in zip(seeds, sizes, strict=True)
                ]
            )

        params = [compile_params(s, n, uniforms) for s in scenarios]
        state = State.initial(params[0])
        sites = chunk_sites(seeds, sizes, warmup=True)
        for week in range(settings.warmup_weeks):
            if stop_event.is_set():
                raise SimulationCancelled("cancelled")
            step(state, params[0], sites, week, None)
        state.start_reporting(params[0])
        outputs = []
        for p in params:
            branch = state.branch(p)
            sites = chunk_sites(seeds, sizes, warmup=False)
            record = Recorder(n, settings.horizon_weeks)
            for week in range(settings.horizon_weeks):
                if stop_event.is_set():
                    raise SimulationCancelled("cancelled")
                step(branch, p, sites, week, record)
            outputs.append(ChunkOutput.from_record(record, p))
        return outputs

    n_threads = threads or default_threads()
    results: dict[int, list[ChunkOutput]] = {}
    done_runs = 0
    if stopped():
        raise SimulationCancelled("cancelled before the first chunk")
    with ThreadPoolExecutor(
        max_workers=n_threads, thread_name_prefix="funnelsim"
    ) as pool:
        pending: dict[Future[list[ChunkOutput]], int] = {}
        queue = list(enumerate(chunks))
        try:
            while queue or pending:
                while queue and len(pending) < n_threads:
                    index, block_ids = queue.pop(0)
                    pending[pool.submit(run_chunk, block_ids)] = index
                finished, _ = wait(pending, timeout=0.05, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = pending.pop(future)
                    results[index] = future.result()
                    done_runs += sum(bounds[b][1] - bounds[b][0] for b in chunks[index])
                    if progress is not None:
                        progress(done_runs / settings.runs)
                if stopped():
                    raise SimulationCancelled("cancelled")
        except BaseException:
            stop_event.set()
            for future in pending:
                future.cancel()
            raise
    ordered = [results[i] for i in range(len(chunks))]
    return assemble(scenarios, settings, ordered)


def run(
    scenario: Scenario,
    *,
    settings: RunSettings | None = None,
    threads: int | None = None,
    chunk_blocks: int = 1,
    progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
) -> RunResult:
    """Run one scenario; see :func:`compare` for the options."""
    return compare(
        scenario,
        (),
        settings=settings,
        threads=threads,
        chunk_blocks=chunk_blocks,
        progress=progress,
        should_stop=should_stop,
    ).baseline


__all__ = ["BLOCK_RUNS", "RunSettings", "compare", "default_threads", "run"]
