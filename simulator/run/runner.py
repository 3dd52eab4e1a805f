"""Running scenarios: chunks, threads, progress and cancellation.

A comparison warms up once, with the baseline's parameters, and every scenario
continues from that same state, run by run, with common random numbers. A single
scenario is a comparison of one. Runs are cut into chunks of whole seed blocks,
run in parallel and folded in run order, so the numbers never depend on how many
workers ran them or in which order they finished. The compiled weekly step
releases Python's lock, so threads keep every core busy (worker processes, tried
before the step was compiled, only added the cost of sending results back).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulator.engine.chunk import Recorder, State, advance
from simulator.engine.params import Params, compile_params
from simulator.engine.streams import (
    BLOCK_RUNS,
    BlockSeeds,
    block_bounds,
    block_seeds,
    chunk_streams,
)
from simulator.model.errors import ScenarioError, SimulationCancelled
from simulator.model.scenario_io import check_same_start
from simulator.model.schema import Scenario
from simulator.run.memo import RunMemo, WarmKey
from simulator.run.results import (
    ChunkOutput,
    Comparison,
    ResultBuilder,
    RunResult,
    estimated_result_bytes,
)
from simulator.run.settings import RunSettings

ProgressCallback = Callable[[float], None]
StopCallback = Callable[[], bool]


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


def choose_storage(settings: RunSettings, scenarios: int, sources: int = 0) -> bool:
    """Whether to keep every run's weekly trajectory (``True``) or stream them into
    per-week sketches (``False``, memory independent of runs x weeks). Refuses up
    front, with an estimate, a run whose results would not fit either way."""
    allowed = int(available_memory_bytes() * MEMORY_SHARE)
    runs, weeks = settings.runs, settings.horizon_weeks
    if estimated_result_bytes(runs, weeks, scenarios, sources=sources) <= allowed:
        return True
    needed = estimated_result_bytes(
        runs, weeks, scenarios, keep_weekly=False, sources=sources
    )
    if needed <= allowed:
        return False
    per_run = needed / runs
    raise ScenarioError(
        f"{scenarios} scenario(s) x {runs:,} runs would need about "
        f"{needed / 2**30:.1f} GB even with weekly series streamed, "
        f"{allowed / 2**30:.1f} GB is available: use at most "
        f"{int(allowed / per_run):,} runs",
        parameter="simulation.runs",
        value=runs,
        has_value=True,
    )


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(frozen=True)
class ChunkJob:
    """The runs of a few consecutive seed blocks, for every scenario of a
    comparison: everything a worker needs."""

    scenarios: tuple[Scenario, ...]
    settings: RunSettings
    block_ids: tuple[int, ...]


#: Makes the recorder of runs ``first .. first + n`` of scenario ``index`` of a
#: comparison: ``(index, first, n, sources)``.
RecorderFactory = Callable[[int, int, int, tuple[str, ...]], Recorder]


def warm_up(
    params: Params,
    seeds: Sequence[BlockSeeds],
    sizes: Sequence[int],
    weeks: int,
    stopped: StopCallback,
) -> State:
    """The state of a chunk's runs (of seed blocks ``seeds`` of ``sizes`` runs)
    at week 0, after ``weeks`` unreported weeks with ``params`` from empty
    funnel stocks (docs/model.md, section 1: the warm-up)."""
    state = State.initial(params)
    streams = chunk_streams(seeds, sizes, warmup=True)
    advance(state, params, streams, 0, weeks, None, stopped)
    state.start_reporting(params)
    return state


def run_chunk(
    job: ChunkJob,
    stopped: StopCallback,
    recorders: RecorderFactory | None = None,
    memo: RunMemo | None = None,
    remember_alternatives: int = 0,
) -> list[ChunkOutput]:
    """Warm the chunk's runs up with the baseline, then run every scenario from
    that state with common random numbers. With a ``memo``, the warm-up and
    scenarios' runs are taken from it when they are there, and kept there: the
    warm-up and the baseline's runs, and the alternatives' runs of a chunk
    within the first ``remember_alternatives`` runs. ``stopped`` is polled every
    few weeks; ``recorders`` says where to
    record (by default, in records of the chunk's own)."""
    settings = job.settings
    bounds = block_bounds(settings.runs)
    sizes = [bounds[b][1] - bounds[b][0] for b in job.block_ids]
    n = sum(sizes)
    first = bounds[job.block_ids[0]][0]
    seeds = [block_seeds(settings.seed, b) for b in job.block_ids]

    def uniforms(dotted: str) -> NDArray[np.float64]:
        return np.concatenate(
            [b.parameter_uniforms(dotted, k) for b, k in zip(seeds, sizes, strict=True)]
        )

    if stopped():
        raise SimulationCancelled("cancelled")
    baseline = job.scenarios[0]
    state: State | None = None
    # The baseline's parameters: compiled here for a warm-up run now, or, with
    # a memo, first, to find a warm-up kept there.
    baseline_params: Params | None = None
    key: WarmKey = ()
    if memo is not None:
        baseline_params = compile_params(baseline, n, uniforms)
        key = RunMemo.warm_key(
            baseline_params,
            settings.seed,
            settings.warmup_weeks,
            job.block_ids,
            tuple(sizes),
        )
    outputs = []
    for index, scenario in enumerate(job.scenarios):
        output = None
        if memo is not None:
            run_key = RunMemo.run_key(key, scenario, settings.horizon_weeks)
            output = memo.run(run_key)
        if output is None:
            if state is None and memo is not None:
                state = memo.warmed_up(key)
            if state is None:
                if baseline_params is None:
                    baseline_params = compile_params(baseline, n, uniforms)
                state = warm_up(
                    baseline_params, seeds, sizes, settings.warmup_weeks, stopped
                )
                if memo is not None:
                    memo.keep_warmed_up(key, state)
            if index == 0 and baseline_params is not None:
                p = baseline_params
            else:
                p = compile_params(scenario, n, uniforms)
            branch = state.branch(p)  # a copy: the warmed-up state stays as it was
            streams = chunk_streams(seeds, sizes, warmup=False)
            sources = p.layout.sources
            if recorders is None:
                record = Recorder(n, settings.horizon_weeks, sources)
            else:
                record = recorders(index, first, n, sources)
            if stopped():
                raise SimulationCancelled("cancelled")
            advance(branch, p, streams, 0, settings.horizon_weeks, record, stopped)
            # Growth is measured from the company every scenario starts from.
            output = ChunkOutput.from_record(
                record, p, start_arr=baseline.company.initial_arr
            )
            if memo is not None and (index == 0 or first + n <= remember_alternatives):
                memo.keep_run(run_key, output)
        outputs.append(output)
    return outputs


#: A chunk holds at most this many runs: its state, and when weekly series are
#: streamed its own record of them, are in memory at once, per worker, until
#: they are folded into the result.
CHUNK_MAX_RUNS = 2_000


def chunk_sizes(
    blocks: int, workers: int, chunk_blocks: int | None = None
) -> list[int]:
    """Seed blocks per chunk, in the order they are handed out.

    With ``chunk_blocks`` every chunk has that many (the last, what is left).
    By default each chunk takes a share of the blocks still to hand out (guided
    scheduling): large chunks first, which pay the per-chunk overhead rarely,
    then smaller ones, so that the workers finish within a small chunk of each
    other instead of one idling through another's last large chunk. A job of
    at most two blocks per worker (the app's 1,000-run preview) is split evenly
    instead: two chunks of two blocks, not four of one, take a tenth less time
    (each chunk has a fixed cost), and they are the full run's first chunks,
    whose warm-up the full run then reuses. None is larger than
    :data:`CHUNK_MAX_RUNS`.
    """
    if chunk_blocks is None and blocks <= 2 * workers:
        chunk_blocks = -(-blocks // workers)
    sizes = []
    left = blocks
    fitting = max(1, CHUNK_MAX_RUNS // BLOCK_RUNS)
    while left > 0:
        size = chunk_blocks or min(fitting, -(-left // (2 * workers)))
        size = max(1, min(size, left))
        sizes.append(size)
        left -= size
    return sizes


def compare(
    baseline: Scenario,
    alternatives: Sequence[Scenario] = (),
    *,
    settings: RunSettings | None = None,
    threads: int | None = None,
    chunk_blocks: int | None = None,
    keep_weekly: bool | None = None,
    progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
    memo: RunMemo | None = None,
    remember_alternatives: int = 0,
) -> Comparison:
    """Run a baseline and alternatives with a shared warm-up and common random numbers.

    Parameters
    ----------
    baseline, alternatives
        Validated scenarios. The warm-up uses the baseline's parameters.
    settings
        Runs, horizon, warm-up and seed; the baseline's ``[simulation]`` by default.
    threads
        Parallel workers (all cores, up to 8, by default). Results do not depend
        on it.
    chunk_blocks
        Seed blocks of :data:`~simulator.engine.streams.BLOCK_RUNS` runs per chunk
        (:func:`chunk_sizes` by default). Results do not depend on it
        either; it only trades overhead for memory and progress steps.
    keep_weekly
        Keep every run's weekly trajectory, or stream them into per-week summaries
        (see :class:`~simulator.run.results.ResultBuilder`). By default they are kept
        when they fit in half the available memory.
    progress
        Called with the finished fraction (0..1) after each chunk.
    should_stop
        Polled between chunks (and, through a flag, by workers every few weeks);
        when it returns true the run stops and
        :class:`~simulator.model.errors.SimulationCancelled` is raised.
    memo
        The caller's store of warm-ups and runs (the app's across edits, a
        bridge's across its variants): what this comparison needs is taken from
        it when there, and the warm-up and the baseline's runs (a copy of them)
        are kept in it for later comparisons with the same baseline and
        settings. Without one (a one-off comparison) nothing is kept.
    remember_alternatives
        With a ``memo``, keep the alternatives' runs too, of the chunks within
        this many first runs (the app's preview, which its full run begins
        with): an edit of the baseline that leaves its warm-up as it was then
        simulates the baseline alone.
    """
    settings = settings or RunSettings.from_scenario(baseline)
    for alternative in alternatives:
        check_same_start(baseline, alternative)
    scenarios = (baseline, *alternatives)
    if keep_weekly is None:
        most_sources = max(len(s.marketing.sources) for s in scenarios)
        keep_weekly = choose_storage(settings, len(scenarios), most_sources)
    builder = ResultBuilder(scenarios, settings, keep_weekly=keep_weekly)
    bounds = block_bounds(settings.runs)
    workers = threads or default_threads()
    jobs = []
    first = 0
    for size in chunk_sizes(len(bounds), workers, chunk_blocks):
        jobs.append(ChunkJob(scenarios, settings, tuple(range(first, first + size))))
        first += size
    workers = min(workers, len(jobs))
    stop_flag = threading.Event()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="funnelsim")

    def stopped() -> bool:
        if stop_flag.is_set():
            return True
        if should_stop is not None and should_stop():
            stop_flag.set()
            return True
        return False

    if stopped():
        pool.shutdown()
        raise SimulationCancelled("cancelled before the first chunk")
    done_runs = 0
    try:
        pending: dict[Future[list[ChunkOutput]], int] = {}
        queue = list(enumerate(jobs))

        def hand_out() -> None:
            while queue and len(pending) < workers:
                index, job = queue.pop(0)
                future = pool.submit(
                    run_chunk,
                    job,
                    stop_flag.is_set,
                    builder.recorder,
                    memo,
                    remember_alternatives,
                )
                pending[future] = index

        while queue or pending:
            hand_out()
            finished, _ = wait(pending, timeout=0.05, return_when=FIRST_COMPLETED)
            done = [(pending.pop(future), future) for future in finished]
            # Workers get their next chunk before this thread folds the finished
            # ones in, which would otherwise keep them waiting.
            hand_out()
            for index, future in done:
                builder.add(index, future.result())
                done_runs += sum(
                    bounds[b][1] - bounds[b][0] for b in jobs[index].block_ids
                )
                if progress is not None:
                    progress(done_runs / settings.runs)
            if (queue or pending) and stopped():
                raise SimulationCancelled("cancelled")
    except BaseException:
        # Workers stop at their next look at the flag (within a segment of
        # weeks) on their own; the caller need not wait.
        stop_flag.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return builder.finish()


def run(
    scenario: Scenario,
    *,
    settings: RunSettings | None = None,
    threads: int | None = None,
    chunk_blocks: int | None = None,
    keep_weekly: bool | None = None,
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
        keep_weekly=keep_weekly,
        progress=progress,
        should_stop=should_stop,
    ).baseline


__all__ = ["BLOCK_RUNS", "RunSettings", "compare", "default_threads", "run"]
