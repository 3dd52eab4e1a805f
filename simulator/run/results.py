"""Results of a run or a comparison: per-run figures, weekly series and summaries.

Per-run figures are kept exactly (one float per run and figure). Weekly series are
kept as float32, which is exact for counts below 16 million and within 1e-7
relative for money; percentiles are computed when first asked for and cached.
When the trajectories would not fit in memory they are streamed into per-week
sketches instead (:class:`ResultBuilder`).
"""

from __future__ import annotations

import math
from collections.abc import (
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from simulator.engine.chunk import Recorder, record_array, record_series
from simulator.engine.kernel import ARR_LAST, ARR_YEAR1
from simulator.engine.params import Layout, Params
from simulator.engine.series import EXTRA_SERIES, FLOWS, RECORDED, SERIES
from simulator.model.plausibility import result_warnings
from simulator.run.figures import lower_is_better
from simulator.run.sketch import BINS, WeeklySketch

if TYPE_CHECKING:
    from simulator.model.schema import Scenario
    from simulator.run.settings import RunSettings

F = NDArray[np.float64]
PERCENTILES = (5, 10, 25, 50, 75, 90, 95)
STAT_KEYS = ("mean", "sd", "se", *(f"p{q}" for q in PERCENTILES))


def summarize(values: NDArray[Any]) -> dict[str, float]:
    """Mean, sd, standard error and percentiles of the defined (non-NaN) values."""
    data = np.asarray(values, dtype=np.float64)
    data = data[~np.isnan(data)]
    n = data.size
    if n == 0:
        return {key: math.nan for key in STAT_KEYS} | {"n": 0}
    sd = float(data.std(ddof=1)) if n > 1 else 0.0
    out = {"mean": float(data.mean()), "sd": sd, "se": sd / math.sqrt(n)}
    for q, value in zip(PERCENTILES, np.percentile(data, PERCENTILES), strict=True):
        out[f"p{q}"] = float(value)
    out["n"] = n
    return out


def summarize_weekly(
    values: NDArray[Any], stats: Collection[str] = STAT_KEYS
) -> dict[str, F]:
    """Per-week statistics of a ``(runs, weeks)`` array: the mean, and those of
    ``stats`` (by default all of :data:`STAT_KEYS`)."""
    # Week by week along rows, contiguous for a result's record: in float64
    # sums, without a float64 copy, and each week's runs sorted in their own
    # type (float32 for a kept series: the same order, in a third of the time).
    rows = np.asarray(values).T
    runs, weeks = rows.shape[1], rows.shape[0]
    out: dict[str, F] = {"mean": rows.mean(axis=1, dtype=np.float64)}
    if "sd" in stats or "se" in stats:
        sd = rows.std(axis=1, ddof=1, dtype=np.float64) if runs > 1 else np.zeros(weeks)
        out["sd"], out["se"] = sd, sd / math.sqrt(runs)
    wanted = [q for q in PERCENTILES if f"p{q}" in stats]
    if wanted:
        ordered = np.sort(rows, axis=1)
        for q, row in zip(wanted, _sorted_percentiles(ordered, wanted), strict=True):
            out[f"p{q}"] = row
    return out


def _sorted_percentiles(rows: NDArray[Any], qs: Sequence[float]) -> list[F]:
    """np.percentile(rows, qs, axis=1) (its default, linear method) of rows
    sorted along axis 1, by its own arithmetic; NaN where a row has one (sorted
    last), and a zero never "-0"."""
    n = rows.shape[1]
    undefined = np.isnan(rows[:, -1])
    out = []
    for q in qs:
        virtual = q / 100 * (n - 1)
        below = math.floor(virtual)
        above = min(below + 1, n - 1)
        t = virtual - below
        a = rows[:, below].astype(np.float64)
        b = rows[:, above].astype(np.float64)
        diff = b - a
        # numpy's lerp: from the nearer end, so that t = 1 gives b exactly.
        value = b - diff * (1 - t) if t >= 0.5 else a + diff * t
        value[undefined] = np.nan
        out.append(value + 0.0)
    return out


class LazyTable(Mapping[str, dict[str, float]]):
    """Statistics by name, each computed when first read: a preview's cards
    read three of fifteen figures, the table and exports all of them."""

    def __init__(
        self, names: Iterable[str], compute: Callable[[str], dict[str, float]]
    ) -> None:
        self._names = list(names)
        self._compute = compute
        self._computed: dict[str, dict[str, float]] = {}

    def __getitem__(self, name: str) -> dict[str, float]:
        if name not in self._computed:
            if name not in self._names:
                raise KeyError(name)
            self._computed[name] = self._compute(name)
        return self._computed[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@dataclass
class ChunkOutput:
    """What one chunk of runs produced for one scenario."""

    figures: dict[str, F]
    #: (weeks, series, runs): the chunk's record, a view of a whole result's
    #: record when the chunk filled that in place
    block: NDArray[np.float32]
    sources: tuple[str, ...]

    @property
    def weekly(self) -> dict[str, NDArray[np.float32]]:
        """``(runs, weeks)`` views of the block by series name."""
        return record_series(self.block, self.sources, 0, self.block.shape[2])

    @classmethod
    def from_record(
        cls, record: Recorder, params: Params, *, start_arr: float | None = None
    ) -> ChunkOutput:
        """``start_arr``: the ARR every run started week 0 with (the baseline's;
        this scenario's own by default), which growth is measured from."""
        totals = record.totals
        figures = {f"total_{flow}": totals[RECORDED.index(flow)] for flow in FLOWS}
        figures["arr_end"] = record.arr_at[ARR_LAST]
        if record.data.shape[0] >= 52:
            initial = params.initial_arr if start_arr is None else start_arr
            figures["arr_growth_y1"] = (
                record.arr_at[ARR_YEAR1] / initial - 1
                if initial > 0
                else np.full(params.n, np.nan)
            )
        won = figures["total_won"]
        figures["cac"] = np.divide(
            figures["total_spend"], won, out=np.full(params.n, np.nan), where=won > 0
        )
        block = record.data[:, :, record.offset : record.offset + params.n]
        return cls(figures=figures, block=block, sources=record.sources)

    def detached(self) -> ChunkOutput:
        """A copy that owns its record, so that keeping it (as
        :class:`simulator.run.memo.RunMemo` does) holds on to no result."""
        return ChunkOutput(
            figures={name: values.copy() for name, values in self.figures.items()},
            block=self.block.copy(),
            sources=self.sources,
        )


@dataclass
class RunResult:
    """The runs of one scenario."""

    scenario: Scenario
    settings: RunSettings
    figures: dict[str, F]
    weekly: dict[str, NDArray[np.float32]]
    _series_cache: dict[str, dict[str, F]] = field(default_factory=dict, repr=False)
    #: What a reader of these results must know (series clipped, ...).
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def runs(self) -> int:
        return self.settings.runs

    @cached_property
    def summary(self) -> Mapping[str, dict[str, float]]:
        """:func:`summarize` of each per-run figure, computed when first read."""
        return LazyTable(self.figures, lambda name: summarize(self.figures[name]))

    @property
    def has_trajectories(self) -> bool:
        """Whether every run's weekly trajectory was kept; runs too many for
        memory keep per-week summaries only (see :class:`ResultBuilder`)."""
        return bool(self.weekly)

    @property
    def series_names(self) -> tuple[str, ...]:
        """The weekly series this result can summarise, kept or streamed."""
        return tuple(self.weekly) or tuple(self._series_cache)

    def series(self, name: str) -> dict[str, F]:
        """Per-week summaries of one weekly series (cached)."""
        if name not in self._series_cache:
            self._series_cache[name] = summarize_weekly(self.weekly[name])
        return self._series_cache[name]

    def _series_stats(self, name: str, stats: Sequence[str]) -> dict[str, F]:
        """``stats`` of a weekly series: from the cache, else only those (the
        command line's JSON reads four of ten, once)."""
        summary = self._series_cache.get(name) or summarize_weekly(
            self.weekly[name], stats
        )
        return {stat: summary[stat] for stat in stats}

    def to_json(
        self, *, series_stats: Sequence[str] = ("mean", "p5", "p50", "p95")
    ) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "runs": self.runs,
            "seed": self.settings.seed,
            "weeks": self.settings.horizon_weeks,
            "warmup_weeks": self.settings.warmup_weeks,
            "summary": {k: _jsonable(v) for k, v in self.summary.items()},
            # "kept": weekly percentiles exact; "streamed": read off per-week
            # histograms, within one bin (1/680 of a week's range) of exact.
            "weekly_series": "kept" if self.has_trajectories else "streamed",
            "notes": list(self.notes),
            "series": {
                name: {
                    stat: _jsonable(values.tolist())
                    for stat, values in self._series_stats(name, series_stats).items()
                }
                for name in SERIES
            },
        }


@dataclass
class Comparison:
    """A baseline and alternatives run from one warm-up with common random numbers."""

    baseline: RunResult
    alternatives: list[RunResult]
    _paired_cache: dict[tuple[int, str], dict[str, F]] = field(
        default_factory=dict, repr=False
    )
    _net_cache: dict[int, dict[str, dict[str, float]]] = field(
        default_factory=dict, repr=False
    )

    @property
    def results(self) -> list[RunResult]:
        return [self.baseline, *self.alternatives]

    @property
    def notes(self) -> list[str]:
        """Every result's notes (see :attr:`RunResult.notes`)."""
        return [note for result in self.results for note in result.notes]

    def paired(self, alternative: int, figure: str) -> F:
        """Per-run differences, alternative minus baseline."""
        return (
            self.alternatives[alternative].figures[figure]
            - self.baseline.figures[figure]
        )

    def weekly_paired(self, alternative: int, series: str) -> dict[str, F]:
        """Per-week summaries of the paired differences, alternative - baseline."""
        key = (alternative, series)
        if key not in self._paired_cache:
            alt = self.alternatives[alternative].weekly[series].astype(np.float64)
            self._paired_cache[key] = summarize_weekly(
                alt - self.baseline.weekly[series]
            )
        return self._paired_cache[key]

    @cached_property
    def differences(self) -> list[Mapping[str, dict[str, float]]]:
        """For each alternative, :func:`summarize` of each figure's paired
        differences with ``p_higher``, the share of runs in which the
        alternative's figure is higher, and ``p_better``, the share in which it
        is better (lower, for the figures of :data:`LOWER_IS_BETTER`), each with
        its standard error; computed when first read."""
        return [
            LazyTable(self.baseline.figures, partial(self._difference, index))
            for index in range(len(self.alternatives))
        ]

    def _difference(self, index: int, figure: str) -> dict[str, float]:
        diff = self.paired(index, figure)
        stats = summarize(diff)
        defined = diff[~np.isnan(diff)]
        better = defined < 0 if lower_is_better(figure) else defined > 0
        for key, wins in (("p_better", better), ("p_higher", defined > 0)):
            if defined.size:
                p = float(wins.mean())
                stats[key] = p
                stats[f"{key}_se"] = math.sqrt(p * (1 - p) / defined.size)
            else:
                stats[key] = stats[f"{key}_se"] = math.nan
        return stats

    def net_value(self, alternative: int) -> dict[str, dict[str, float]]:
        """What an alternative is worth over the horizon, run by run (paired):
        ``revenue_gain`` (its revenue minus the baseline's), ``extra_cost`` (its
        total cost minus the baseline's), ``net`` (the gain minus the extra
        cost) and ``return`` (net over extra cost, in the runs whose extra cost
        is positive), each :func:`summarize`-d; ``net`` also carries
        ``p_positive``, the share of runs in which the alternative pays for
        itself, with its standard error.

        Revenue, not margin: the cost of delivering what is sold is not in the
        model. ARR gained by the end keeps paying after the horizon; that is not
        counted either."""
        if alternative not in self._net_cache:
            gain = self.paired(alternative, "total_revenue")
            extra = self.paired(alternative, "total_cost")
            net = gain - extra
            ratio = np.divide(
                net, extra, out=np.full(net.shape, np.nan), where=extra > 0
            )
            out = {
                "revenue_gain": summarize(gain),
                "extra_cost": summarize(extra),
                "net": summarize(net),
                "return": summarize(ratio),
            }
            defined = net[~np.isnan(net)]
            p = float((defined > 0).mean()) if defined.size else math.nan
            out["net"]["p_positive"] = p
            out["net"]["p_positive_se"] = (
                math.sqrt(p * (1 - p) / defined.size) if defined.size else math.nan
            )
            self._net_cache[alternative] = out
        return self._net_cache[alternative]

    def to_json(self) -> dict[str, Any]:
        out = {
            "baseline": self.baseline.to_json(),
            "alternatives": [alt.to_json() for alt in self.alternatives],
            "differences": [
                {k: _jsonable(v) for k, v in table.items()}
                for table in self.differences
            ],
            "net_value": [
                _jsonable(self.net_value(index))
                for index in range(len(self.alternatives))
            ],
        }
        # The start every scenario shares, which growth is measured from (an
        # alternative cannot change it: simulator.model.scenario_io.check_same_start).
        company = self.baseline.scenario.company
        out["start"] = {
            "initial_customers": company.initial_customers,
            "initial_arr": company.initial_arr,
            "shared_by_every_scenario": True,
        }
        # Only when there are some: a plausible comparison's JSON is as before.
        warnings = result_warnings(self)
        if warnings:
            out["warnings"] = [w.to_json() for w in warnings]
        return out


class ResultBuilder:
    """Joins chunk outputs into results, folding them in run order (so results do
    not depend on which chunk finished first).

    With ``keep_weekly`` every run's weekly trajectories are kept; without, they
    are streamed into per-week sketches (:mod:`simulator.run.sketch`) and dropped, so
    memory no longer grows with runs times weeks: only the per-run figures are
    kept whole.
    """

    def __init__(
        self, scenarios: Sequence[Scenario], settings: RunSettings, *, keep_weekly: bool
    ) -> None:
        self._scenarios = list(scenarios)
        self._settings = settings
        self.keep_weekly = keep_weekly
        self._waiting: dict[int, Sequence[ChunkOutput]] = {}
        self._next = 0
        # Kept series live in one (weeks, series, runs) record per scenario,
        # which the chunks' compiled steps write into (see recorder()): nothing
        # is converted, copied or joined afterwards. Per-run figures are filled
        # in place chunk by chunk as they arrive.
        self._weekly: list[dict[str, NDArray[np.float32]]] = [{} for _ in scenarios]
        self._records: list[NDArray[np.float32]] = []
        if keep_weekly:
            for i, scenario in enumerate(scenarios):
                sources = Layout.of(scenario).sources
                record = record_array(settings.runs, settings.horizon_weeks, sources)
                self._records.append(record)
                self._weekly[i] = record_series(record, sources, 0, settings.runs)
        self._figures: list[dict[str, F]] = [{} for _ in scenarios]
        self._filled = 0
        # Streamed series, made when their first chunk arrives (the budget-share
        # series depend on each scenario's sources).
        self._sketches: list[dict[str, WeeklySketch]] = [{} for _ in scenarios]
        self._paired: list[dict[str, WeeklySketch]] = [{} for _ in scenarios[1:]]
        #: Weekly series of each scenario that went beyond what float32 holds.
        self._clipped: list[set[str]] = [set() for _ in scenarios]

    def recorder(
        self, scenario: int, first_run: int, n: int, sources: tuple[str, ...]
    ) -> Recorder:
        """Where a chunk records runs ``first_run .. first_run + n`` of a
        scenario: the result's own record when every trajectory is kept (thread
        safe: chunks write disjoint runs), else a record of the chunk's own."""
        if self.keep_weekly:
            return Recorder(
                n,
                self._settings.horizon_weeks,
                sources,
                into=self._records[scenario],
                offset=first_run,
            )
        return Recorder(n, self._settings.horizon_weeks, sources)

    def add(self, index: int, outputs: Sequence[ChunkOutput]) -> None:
        """Chunk ``index``'s outputs, one per scenario; folded once every earlier
        chunk has been."""
        self._waiting[index] = outputs
        while self._next in self._waiting:
            self._fold(self._waiting.pop(self._next))
            self._next += 1

    def _fold(self, outputs: Sequence[ChunkOutput]) -> None:
        start = self._filled
        runs, weeks = self._settings.runs, self._settings.horizon_weeks
        for i, output in enumerate(outputs):
            self._clipped[i] |= clip_to_float32(output)
        baseline_weekly = {} if self.keep_weekly else outputs[0].weekly
        for i, output in enumerate(outputs):
            for name, values in output.figures.items():
                if name not in self._figures[i]:
                    self._figures[i][name] = np.empty(runs)
                self._figures[i][name][start : start + len(values)] = values
                self._filled = start + len(values)
            if self.keep_weekly:
                kept = self._records[i][:, :, start : start + output.block.shape[2]]
                # A chunk run now wrote its runs in place; one remembered from
                # an earlier comparison (a memo's copy) did not.
                if not np.may_share_memory(kept, output.block):
                    kept[...] = output.block
                continue
            for name, series in output.weekly.items():
                self._sketches[i].setdefault(name, WeeklySketch(weeks)).add(series)
                if i and name in baseline_weekly:
                    base = baseline_weekly[name].astype(np.float64)
                    paired = self._paired[i - 1].setdefault(name, WeeklySketch(weeks))
                    paired.add(series - base)

    def finish(self) -> Comparison:
        results = []
        for i, scenario in enumerate(self._scenarios):
            figures = self._figures[i]
            if self.keep_weekly:
                result = RunResult(scenario, self._settings, figures, self._weekly[i])
            else:
                result = RunResult(scenario, self._settings, figures, {})
                result._series_cache = {
                    name: sketch.summary(PERCENTILES)
                    for name, sketch in self._sketches[i].items()
                }
            if self._clipped[i]:
                result.notes.append(clipped_note(scenario.name, self._clipped[i]))
            results.append(result)
        comparison = Comparison(baseline=results[0], alternatives=results[1:])
        if not self.keep_weekly:
            comparison._paired_cache = {
                (i, name): sketch.summary(PERCENTILES)
                for i, sketches in enumerate(self._paired)
                for name, sketch in sketches.items()
            }
        return comparison


#: Largest magnitude a weekly series (float32) holds.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def clip_to_float32(output: ChunkOutput) -> set[str]:
    """Clip, in place, weekly values that overflowed float32 (ARR compounding
    at the largest valid expansion for 20 years can) to its largest value, so
    that they are never lost as infinities or nulls; the names of the series
    clipped. The per-run figures are float64 and exact."""
    block = output.block
    if block.size == 0 or (np.isfinite(block.max()) and np.isfinite(block.min())):
        return set()
    clipped = {
        name for name, series in output.weekly.items() if not np.isfinite(series).all()
    }
    np.clip(block, -FLOAT32_MAX, FLOAT32_MAX, out=block)
    return clipped


def clipped_note(scenario: str, series: set[str]) -> str:
    names = ", ".join(sorted(series))
    return (
        f"{scenario}: weekly {names} went beyond {FLOAT32_MAX:.3g} in some runs "
        f"and {'is' if len(series) == 1 else 'are'} shown clipped at that value; "
        "the per-run figures (arr_end, totals) are exact"
    )


def _jsonable(value: Any) -> Any:
    """JSON has no NaN: undefined values (a CAC with no deal) become null."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


#: Bytes kept per run, week and scenario: every weekly series as float32.
BYTES_PER_RUN_WEEK = 4 * len(SERIES)
#: Bytes kept per run and scenario for the per-run figures (float64).
BYTES_PER_RUN = 8 * (len(FLOWS) + 3)


#: Bytes of the per-week sketches of one scenario's series (and of its paired
#: differences with the baseline), per week.
BYTES_PER_SKETCH_WEEK = 2 * len(SERIES) * (3 * (BINS + 2) * 8 + 4 * 8)


def estimated_result_bytes(
    runs: int, weeks: int, scenarios: int, *, keep_weekly: bool = True, sources: int = 0
) -> int:
    """Memory the results of a run will hold, to choose streaming or refuse up
    front rather than crash. ``sources`` adds the budget-share series."""
    per_series = 1 + (sources + len(EXTRA_SERIES)) / len(SERIES)
    if keep_weekly:
        per_run_week = BYTES_PER_RUN_WEEK * per_series
        return int(scenarios * runs * (weeks * per_run_week + BYTES_PER_RUN))
    sketches = weeks * BYTES_PER_SKETCH_WEEK * per_series
    return int(scenarios * (runs * BYTES_PER_RUN + sketches))


def uncertainty_note(comparison: Comparison) -> str:
    """Say which kind of uncertainty the bands show: the luck of individual leads
    only, or also how unsure we are of inputs given as ranges."""
    ranged = sorted(
        {name for r in comparison.results for name in r.scenario.uncertainty}
    )
    if not ranged:
        return (
            "Bands show run-to-run luck (which leads arrive, qualify and close) "
            "with every input fixed."
        )
    shown = ", ".join(ranged[:3]) + (
        f" and {len(ranged) - 3} more" if len(ranged) > 3 else ""
    )
    return (
        "Bands show run-to-run luck and input uncertainty: "
        f"{shown} drawn once per run from {'its' if len(ranged) == 1 else 'their'} "
        "range."
    )
