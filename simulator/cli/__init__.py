"""The ``funnelsim`` command line: run, compare, validate, list, bench, gui.

Every command reports bad input as one line on stderr and exits with status 2;
a user never sees a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NoReturn

from simulator.cli.options import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    ProgressBar,
    add_run_options,
    add_table_options,
    check_budget,
    emit_result,
    load_with_overrides,
    settings_from,
    settings_from_file,
)
from simulator.model.errors import ScenarioError, SimulationCancelled
from simulator.model.library import bundled_levers, bundled_scenarios
from simulator.model.plausibility import input_warnings, lever_warnings
from simulator.model.safe_text import for_terminal
from simulator.model.scenario_io import (
    load_lever,
    load_scenario,
    read_toml,
)
from simulator.model.schema import Scenario
from simulator.model.untrusted import (
    refusing,
    run_budget_problem,
)

# The engine (numba, a third of a second to import) is imported by the commands
# that simulate, when they run: listing, validating and help need none of it.


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (and exits with 2)."""

    def error(self, message: str) -> NoReturn:
        shown = for_terminal(message)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {shown} (see --help)\n")


#: Seconds the engine may take to get ready before the CLI says why it waits.
PREPARING_NOTE_AFTER = 1.0


def prepare_engine(scenario: Scenario) -> None:
    """Compile the simulation step, or load it from numba's cache. Only the
    first run after an install compiles (about 20 s), unless set-up did
    (simulator.run.warmup); loading takes a fraction of a second, so the note shows
    on a terminal only when the wait is long."""
    from simulator.engine.chunk import prepare
    from simulator.engine.params import compile_params

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
    from simulator.engine.chunk import is_prepared
    from simulator.run.runner import compare

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
        )
    finally:
        bar.close()


def cmd_run(args: argparse.Namespace) -> int:
    from simulator.report import text as report_text

    result = simulate(args, [args.scenario]).baseline
    return emit_result(args, result, partial(report_text.run_table, every=args.all))


def cmd_compare(args: argparse.Namespace) -> int:
    from simulator.report import text as report_text

    if not args.alternatives:
        return _compare_file(args)
    comparison = simulate(args, [args.baseline, *args.alternatives])
    table = partial(report_text.comparison_table, every=args.all)
    return emit_result(args, comparison, table)


def _compare_file(args: argparse.Namespace) -> int:
    """``compare my-comparison.toml``: the file's scenarios and run settings
    (options on the command line win)."""
    from simulator.engine.chunk import is_prepared
    from simulator.model.scenario_io import resolve_reference
    from simulator.report import text as report_text
    from simulator.run.comparison_file import KIND as COMPARISON_KIND
    from simulator.run.comparison_file import load_comparison
    from simulator.run.runner import compare

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
                    from simulator.run.comparison_file import load_comparison

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
    from simulator.model.scenario_io import resolve_reference

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
    from simulator.cli import bench

    return bench.main_bench(args)


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
CORE_COMMANDS = ("run", "compare", "validate", "list", "bench")

#: The entry point group through which an installed app adds its command
#: (``funnelsim gui``): the command line never imports the app.
COMMANDS_GROUP = "funnelsim.commands"


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
        from simulator.cli import bench

        bench.add_arguments(p)
    p.set_defaults(handler=cmd_bench)

    if command is None:
        for module in _extension_modules():
            module.register(sub)
    if command not in CORE_COMMANDS:
        for name, register in _installed_commands().items():
            if command in (None, name):
                register(sub)
    return parser


def _extension_modules() -> tuple[Any, ...]:
    """Commands defined next to the feature they expose; each module has
    ``register(subparsers)`` that adds its parser with ``set_defaults(handler=...)``.
    Imported on demand: a core command needs none of them."""
    from simulator.cli import fit, report, story, sweep

    return (story, sweep, report, fit)


def _installed_commands() -> dict[str, Callable[[Any], None]]:
    """``register(subparsers)`` of each command an installed package adds
    through :data:`COMMANDS_GROUP`, by command name."""
    from importlib.metadata import entry_points

    return {point.name: point.load() for point in entry_points(group=COMMANDS_GROUP)}


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
    process ends as soon as its output is flushed. Not after a command an
    installed app adds (``funnelsim gui``), whose Qt objects finish their work
    as Python exits."""
    argv = sys.argv[1:]
    code = main(argv)
    if argv[:1] and argv[0] in _installed_commands():
        return code
    with contextlib.suppress(OSError):  # a closed pipe (| head): not wanted
        sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(entry())
