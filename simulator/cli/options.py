"""What the ``funnelsim`` commands share: option types and groups, loading a
comparison's scenarios with ``--set``, run settings from the options (within
the run budget), a progress bar and the JSON-or-table output. Subcommand modules
import these from here, never from :mod:`simulator.cli`, which imports them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from simulator.model.command import funnelsim_command
from simulator.model.errors import ScenarioError
from simulator.model.safe_text import for_terminal
from simulator.model.scenario_io import (
    explain_validation_error,
    load_scenario,
    parse_override,
    resolve_alternative,
)
from simulator.model.schema import Scenario, Simulation
from simulator.model.untrusted import (
    RUN_WEEKS_BUDGET,
    run_budget_problem,
    whole_number,
)

if TYPE_CHECKING:
    from simulator.run.runner import RunSettings

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 2, 130, 141


def positive_int(text: str) -> int:
    return _whole_number(text, at_least=1, problem="must be at least 1")


def non_negative_int(text: str) -> int:
    return _whole_number(text, at_least=0, problem="must be 0 or more")


def _whole_number(text: str, *, at_least: int, problem: str) -> int:
    """An option's whole number (ASCII digits), at least ``at_least``."""
    try:
        value = whole_number(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{_clip(text)!r} is not a whole number in digits 0-9"
        ) from None
    if value < at_least:
        raise argparse.ArgumentTypeError(f"{text!r} {problem}")
    return value


def _clip(text: str) -> str:
    return for_terminal(text if len(text) <= 40 else text[:37] + "...")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that simulates."""
    parser.add_argument("--runs", type=positive_int, help="Monte Carlo runs")
    parser.add_argument("--seed", type=non_negative_int, help="random seed")
    parser.add_argument("--weeks", type=positive_int, help="reported weeks (horizon)")
    parser.add_argument("--warmup", type=non_negative_int, help="warm-up weeks")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter with a TOML literal, e.g. "
        "--set handoff.ignore_base=0.2. In a comparison it describes the company: "
        "it applies to the baseline, and each alternative inherits it (its levers "
        "and own values then act on it); a scenario run alone gets it after its "
        "file and levers",
    )
    parser.add_argument("--threads", type=positive_int, help="worker threads")
    parser.add_argument(
        "--json", action="store_true", help="write one JSON object to stdout"
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="run settings from a file beyond the budget of "
        f"{RUN_WEEKS_BUDGET:,} runs x weeks: run them anyway",
    )


def add_table_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--all",
        action="store_true",
        help="every figure in the table (default: the key figures)",
    )


def load_with_overrides(
    refs: Sequence[str], overrides: Sequence[str], *, command: str = "compare"
) -> list[Scenario]:
    """The baseline ``refs[0]`` and its alternatives, each alternative resolved
    as a set of changes to the baseline (:func:`resolve_alternative`).

    ``overrides`` (``--set``) describe the company, so they apply to the
    baseline only: an alternative inherits them through the rule and its
    levers then act on them (``--set company.annual_churn=0.07`` with the
    retention lever gives the alternative 0.07 x 0.64, as a baseline file
    with that churn would)."""
    refuse_comparison_files(refs, command=command)
    parsed = dict(parse_override(text) for text in overrides)
    baseline = load_scenario(refs[0], overrides=parsed)
    return [baseline, *(resolve_alternative(baseline, ref) for ref in refs[1:])]


#: Commands that take a comparison file (alone) instead of scenarios.
COMMANDS_TAKING_COMPARISON_FILES = ("compare", "report")


def refuse_comparison_files(refs: Sequence[str], *, command: str) -> None:
    """A comparison file where a scenario is expected: one clear line, not the
    scenario loader's list of missing scenario keys."""
    from simulator.model.scenario_io import resolve_reference
    from simulator.run.comparison_file import is_comparison_file

    for ref in refs:
        try:
            path = resolve_reference(ref)
        except ScenarioError:
            continue  # the loader says what is wrong with it
        if not is_comparison_file(path):
            continue
        if command in COMMANDS_TAKING_COMPARISON_FILES:
            problem = (
                "a comparison file holds its own alternatives; give it alone "
                f"(`{funnelsim_command()} {command} {ref}`)"
            )
        else:
            problem = (
                f"is a comparison file, and {command} takes scenarios (bundled "
                "ids or scenario files); run the comparison with "
                f"`{funnelsim_command()} compare {ref}`"
            )
        raise ScenarioError(problem, file=ref)


def settings_from(args: argparse.Namespace, baseline: Scenario) -> RunSettings:
    from simulator.run.runner import RunSettings

    settings = RunSettings.from_scenario(
        baseline, runs=args.runs, weeks=args.weeks, warmup=args.warmup, seed=args.seed
    )
    # The command line's numbers obey the same ranges as a file's [simulation].
    try:
        Simulation.model_validate(dataclasses.asdict(settings))
    except ValidationError as exc:
        raise explain_validation_error(exc, lambda _: "command line") from None
    check_budget(args, settings)
    return settings


def check_budget(args: argparse.Namespace, settings: RunSettings) -> None:
    """Refuse run settings that came (in part) from a file and exceed the
    budget, unless ``--yes``: numbers typed on the command line are the user's
    choice, a file's are a stranger's."""
    from_file = None in (args.runs, args.weeks, args.warmup)
    if not from_file or getattr(args, "yes", False):
        return
    problem = run_budget_problem(
        settings.runs, settings.horizon_weeks, settings.warmup_weeks
    )
    if problem:
        by_set = any(o.strip().startswith("simulation.") for o in args.overrides)
        raise ScenarioError(
            f"{problem}; pass --yes to run them, or choose --runs/--weeks",
            file="--set" if by_set else _first_ref(args),
            parameter="simulation",
        )


def _first_ref(args: argparse.Namespace) -> str | None:
    ref = getattr(args, "scenario", None) or getattr(args, "baseline", None)
    return str(ref) if ref else None


def settings_from_file(
    args: argparse.Namespace, run: RunSettings | None, baseline: Scenario
) -> RunSettings:
    """A comparison file's run settings (the baseline's ``[simulation]`` if it
    has none), each overridden by its command-line option."""
    from simulator.run.runner import RunSettings

    run = run or RunSettings.from_scenario(baseline)
    settings = RunSettings(
        runs=args.runs or run.runs,
        horizon_weeks=args.weeks or run.horizon_weeks,
        warmup_weeks=run.warmup_weeks if args.warmup is None else args.warmup,
        seed=run.seed if args.seed is None else args.seed,
    )
    try:
        Simulation.model_validate(dataclasses.asdict(settings))
    except ValidationError as exc:
        raise explain_validation_error(exc, lambda _: "command line") from None
    return settings


class ProgressBar:
    """A terminal progress bar (tqdm) on stderr, shown only for a terminal."""

    def __init__(self, total_runs: int, label: str) -> None:
        self._bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(
                total=total_runs,
                desc=label,
                unit="run",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
        self._total = total_runs

    def __call__(self, fraction: float) -> None:
        if self._bar is not None:
            self._bar.n = round(fraction * self._total)
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def emit_result(
    args: argparse.Namespace, result: Any, table: Callable[[Any], str]
) -> int:
    """One JSON object on stdout with --json, else a table for people."""
    if args.json:
        json.dump(result.to_json(), sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(for_terminal(table(result), keep_newlines=True))
    for note in getattr(result, "notes", ()):
        print(f"funnelsim: note: {for_terminal(note)}", file=sys.stderr)
    return EXIT_OK
