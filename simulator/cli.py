"""The ``funnelsim`` command line: run, compare, validate, list, bench, gui.

Every command reports bad input as one line on stderr and exits with status 2;
a user never sees a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, NoReturn

from pydantic import ValidationError

from simulator.command import funnelsim_command
from simulator.errors import ScenarioError, SimulationCancelled
from simulator.library import bundled_levers, bundled_scenarios
from simulator.plausibility import input_warnings, lever_warnings
from simulator.safe_text import for_terminal
from simulator.scenario_io import (
    explain_validation_error,
    load_lever,
    load_scenario,
    parse_override,
    read_toml,
    resolve_alternative,
)
from simulator.schema import Scenario, Simulation
from simulator.untrusted import (
    RUN_WEEKS_BUDGET,
    refusing,
    run_budget_problem,
    whole_number,
)

# The engine (numba, a third of a second to import) is imported by the commands
# that simulate, when they run: listing, validating and help need none of it.
if TYPE_CHECKING:
    from simulator.runner import RunSettings

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 2, 130, 141
DEFAULT_BASELINE, DEFAULT_ALTERNATIVE = "siloed", "aligned"
#: What ``funnelsim gui`` does instead when there is no display.
HEADLESS_COMMAND = ["compare", DEFAULT_BASELINE, DEFAULT_ALTERNATIVE]


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (and exits with 2)."""

    def error(self, message: str) -> NoReturn:
        shown = for_terminal(message)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {shown} (see --help)\n")


def positive_int(text: str) -> int:
    try:
        value = whole_number(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{_clip(text)!r} is not a whole number in digits 0-9"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = whole_number(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{_clip(text)!r} is not a whole number in digits 0-9"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
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
    from simulator.comparison_file import is_comparison_file
    from simulator.scenario_io import resolve_reference

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
    from simulator.runner import RunSettings

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
    from simulator.runner import RunSettings

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


#: Seconds the engine may take to get ready before the CLI says why it waits.
PREPARING_NOTE_AFTER = 1.0


def prepare_engine(scenario: Scenario) -> None:
    """Compile the simulation step, or load it from numba's cache. Only the
    first run after an install compiles (about 20 s), unless set-up did
    (simulator.warmup); loading takes a fraction of a second, so the note shows
    on a terminal only when the wait is long."""
    from simulator.engine import prepare
    from simulator.params import compile_params

    note = threading.Timer(
        PREPARING_NOTE_AFTER,
        print,
        ["funnelsim: preparing the simulation engine (once after an install) ..."],
        {"file": sys.stderr, "flush": True},
    )
    if sys.stderr.isatty():
        note.start()
    try:
        prepare(compile_params(scenario, 1))
    finally:
        note.cancel()
        if note.is_alive():  # printing right now: let it finish its line
            note.join()


def simulate(args: argparse.Namespace, refs: Sequence[str]) -> Any:
    from simulator.engine import is_prepared
    from simulator.runner import compare

    scenarios = load_with_overrides(
        refs, args.overrides, command=getattr(args, "command", "compare")
    )
    settings = settings_from(args, scenarios[0])
    for index, scenario in enumerate(scenarios):
        concerns = input_warnings(scenario)
        if index > 0:
            concerns += lever_warnings(scenarios[0], scenario)
        for concern in concerns:
            print(
                f"funnelsim: warning: {for_terminal(scenario.name)}: "
                f"{for_terminal(concern.message)}",
                file=sys.stderr,
            )
    if not is_prepared():
        prepare_engine(scenarios[0])
    bar = ProgressBar(settings.runs, "simulating")
    try:
        return compare(
            scenarios[0],
            scenarios[1:],
            settings=settings,
            threads=args.threads,
            progress=bar,
            remember=False,  # the process ends with this comparison
        )
    finally:
        bar.close()


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


def cmd_run(args: argparse.Namespace) -> int:
    from simulator import report_text

    result = simulate(args, [args.scenario]).baseline
    return emit_result(args, result, partial(report_text.run_table, every=args.all))


def cmd_compare(args: argparse.Namespace) -> int:
    from simulator import report_text

    if not args.alternatives:
        return _compare_file(args)
    comparison = simulate(args, [args.baseline, *args.alternatives])
    table = partial(report_text.comparison_table, every=args.all)
    return emit_result(args, comparison, table)


def _compare_file(args: argparse.Namespace) -> int:
    """``compare my-comparison.toml``: the file's scenarios and run settings
    (options on the command line win)."""
    from simulator import report_text
    from simulator.comparison_file import KIND as COMPARISON_KIND
    from simulator.comparison_file import load_comparison
    from simulator.engine import is_prepared
    from simulator.runner import compare
    from simulator.scenario_io import resolve_reference

    path = resolve_reference(args.baseline)
    # Read, not just asked: a file that cannot be read says why.
    if read_toml(path).get("kind") != COMPARISON_KIND:
        raise ScenarioError(
            "compare needs a baseline and at least one alternative, or one "
            "comparison file",
            file=args.baseline,
        )
    if args.overrides:
        raise ScenarioError(
            "--set applies to scenario files; change the comparison file instead",
            file=args.baseline,
        )
    saved, scenarios = load_comparison(path)
    settings = settings_from_file(args, saved.run, scenarios[0])
    check_budget(args, settings)
    if not is_prepared():
        prepare_engine(scenarios[0])
    comparison = compare(
        scenarios[0],
        scenarios[1:],
        settings=settings,
        threads=args.threads,
        remember=False,
    )
    table = partial(report_text.comparison_table, every=args.all)
    return emit_result(args, comparison, table)


def cmd_validate(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for ref in args.files:
        shown = for_terminal(ref)
        try:
            with refusing(ref):
                raw = read_toml(_path_of(ref))
                if raw.get("kind") == "comparison":
                    from simulator.comparison_file import load_comparison

                    saved, scenarios = load_comparison(_path_of(ref))
                    run: Any = saved.run or scenarios[0].simulation
                    what = (
                        f"comparison ({for_terminal(scenarios[0].name)} and "
                        f"{len(scenarios) - 1} alternative(s))"
                    )
                    checked = list(scenarios)
                elif "set" in raw and "marketing" not in raw:
                    lever = load_lever(ref)
                    print(f"{shown}: valid lever ({for_terminal(lever.name)})")
                    continue
                else:
                    scenario = load_scenario(ref)
                    run = scenario.simulation
                    what = f"scenario ({for_terminal(scenario.name)})"
                    checked = [scenario]
            print(f"{shown}: valid {what}")
            _print_input_warnings(checked)
            problem = run_budget_problem(run.runs, run.horizon_weeks, run.warmup_weeks)
            if problem:
                print(
                    f"funnelsim: note: {shown}: run settings: {problem}; `run` and "
                    "`compare` ask for --yes, the app for a confirmation",
                    file=sys.stderr,
                )
        except ScenarioError as exc:
            print(f"funnelsim: error: {for_terminal(str(exc))}", file=sys.stderr)
            status = EXIT_USAGE
    return status


def _print_input_warnings(scenarios: Sequence[Scenario]) -> None:
    """Valid is not plausible: the checks ``compare`` makes before it runs
    (a churn of 70 %, an ARR typed in thousands), under the "valid" line. They
    only warn: the exit status stays 0."""
    for index, scenario in enumerate(scenarios):
        concerns = input_warnings(scenario)
        if index > 0:
            concerns += lever_warnings(scenarios[0], scenario)
        who = f"{scenario.name}: " if len(scenarios) > 1 else ""
        for concern in concerns:
            print(for_terminal(f"  warning: {who}{concern.message}"))


def _path_of(ref: str) -> Any:
    from simulator.scenario_io import resolve_reference

    try:
        return resolve_reference(ref)
    except ScenarioError:
        return resolve_reference(ref, kind="lever")


def cmd_list(args: argparse.Namespace) -> int:
    for title, entries in (
        ("Scenarios", bundled_scenarios()),
        ("Levers", bundled_levers()),
    ):
        print(f"{title}:")
        width = max((len(e.id) for e in entries), default=0)
        for entry in entries:
            print(f"  {entry.id:<{width}}  {entry.name}: {entry.description}")
        print()
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from simulator import bench

    return bench.main_bench(args)


def cmd_gui(args: argparse.Namespace) -> int:
    if not _has_display():
        from simulator.command import funnelsim_command

        command = funnelsim_command()
        print(
            "funnelsim: no display found (DISPLAY/WAYLAND_DISPLAY unset), so the app "
            "cannot open a window. Running the default comparison in the terminal "
            f"instead: {command} compare {DEFAULT_BASELINE} {DEFAULT_ALTERNATIVE}. "
            f"To see the app, run on a desktop or under `xvfb-run -a {command} gui`.",
            file=sys.stderr,
        )
        headless = _build_parser(HEADLESS_COMMAND[0]).parse_args(HEADLESS_COMMAND)
        headless_code: int = headless.handler(headless)
        return headless_code
    from gui.app import main as gui_main  # type: ignore[import-not-found, unused-ignore]

    code: int = gui_main(args.qt_args)
    return code


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return True
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


Handler = Callable[[argparse.Namespace], int]


def _with_warnings_as_notes(handler: Handler, args: argparse.Namespace) -> int:
    """Run a command; a warning of numpy or another library becomes one
    ``funnelsim: note:`` line instead of a multi-line warning with a path."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default", RuntimeWarning)
        try:
            return handler(args)
        finally:
            seen: set[str] = set()
            for warning in caught:
                text = f"{warning.category.__name__}: {warning.message}"
                if text not in seen:
                    seen.add(text)
                    print(
                        "funnelsim: note: a computation gave an undefined or "
                        f"overflowing value ({for_terminal(text)}); figures "
                        "shown as nan or null may be affected",
                        file=sys.stderr,
                    )


#: Commands of this module; any other (or none, or --help) needs the extensions'.
CORE_COMMANDS = ("run", "compare", "validate", "list", "bench", "gui")


def _build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or enough of it for one of
    :data:`CORE_COMMANDS`: without the extensions' modules and the bench's."""
    parser = _Parser(
        prog="funnelsim",
        description="Monte Carlo model of a B2B sales funnel: what sales-marketing "
        "alignment is worth. Scenarios are bundled ids (see `funnelsim list`) "
        "or TOML files.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("run", help="simulate one scenario")
    p.add_argument("scenario", help="bundled id or path")
    add_run_options(p)
    add_table_options(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("compare", help="compare a baseline with alternatives (paired)")
    p.add_argument("baseline", help="bundled id or path, or a comparison file (alone)")
    p.add_argument(
        "alternatives",
        nargs="*",
        metavar="alternative",
        help="each a set of changes to the baseline: the baseline as resolved, "
        "then the levers and values of the alternative's file and of the files it "
        "extends, down to the company it was written for",
    )
    add_run_options(p)
    add_table_options(p)
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("validate", help="check scenario or lever files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("list", help="bundled scenarios and levers")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("bench", help="measure engine speed against a numpy yardstick")
    if command in (None, "bench"):
        from simulator import bench

        bench.add_arguments(p)
    p.set_defaults(handler=cmd_bench)

    p = sub.add_parser("gui", help="open the desktop app")
    p.add_argument("qt_args", nargs="*", help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_gui)

    for register in _extensions() if command is None else []:
        register(sub)
    return parser


def _extensions() -> list[Callable[[Any], None]]:
    """Commands defined next to the feature they expose; each module has
    ``register(subparsers)`` that adds its parser with ``set_defaults(handler=...)``."""
    import importlib

    registered = []
    for module_name in EXTENSION_MODULES:
        module = importlib.import_module(module_name)
        registered.append(module.register)
    return registered


#: Modules that add commands (one line each).
EXTENSION_MODULES: tuple[str, ...] = (
    "simulator.story_cli",
    "simulator.sweep",
    "simulator.report_cli",
    "simulator.fitting.cli",
)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    core = argv[0] if argv and argv[0] in CORE_COMMANDS else None
    parser = _build_parser(core)
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return _with_warnings_as_notes(handler, args)
    except ScenarioError as exc:
        print(f"funnelsim: error: {for_terminal(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except SimulationCancelled:
        print("funnelsim: cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("funnelsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader stopped reading (| head): nothing to report. Later writes
        # (the flush at exit) go nowhere; the status is a pipe's usual one.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except MemoryError:
        print(
            "funnelsim: error: not enough memory for this many runs; use fewer --runs",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except OSError as exc:
        print(f"funnelsim: error: {for_terminal(str(exc))}", file=sys.stderr)
        return EXIT_USAGE


def entry() -> int:
    """The ``funnelsim`` console script: :func:`main` on the process's arguments.

    After a command, what is left is mostly numba's compiler state, hundreds of
    thousands of objects that Python's exit would search for cycles and free
    one by one (0.2-0.3 s, a sixth of a whole 10,000-run comparison). Every
    file a command writes is closed by then (scenario_io.write_atomic), so the
    process ends as soon as its output is flushed. Not after the app, whose
    Qt objects finish their work as Python exits."""
    argv = sys.argv[1:]
    code = main(argv)
    if argv[:1] == ["gui"]:
        return code
    with contextlib.suppress(OSError):  # a closed pipe (| head): not wanted
        sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(entry())
