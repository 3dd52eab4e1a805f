"""``funnelsim fit``: a scenario fitted to a CRM export and/or a funnel report."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Any

from simulator.analysis.fitting.fit import fit
from simulator.analysis.fitting.provenance import (
    CHECK_RUNS,
    FitResult,
    write_scenario,
)
from simulator.analysis.fitting.table import DateOrder, parse_column_overrides
from simulator.model.command import funnelsim_command
from simulator.model.errors import ScenarioError

ROLES = (
    "id, outcome, created, closed, amount (opportunity export); opportunity, stage, "
    "date (stage history); period, source, leads, mqls, accepted, opportunities, "
    "won, spend, within_5min, within_1h, within_1d, within_1w (funnel report)"
)


def register(subparsers: Any) -> None:
    """Add the ``fit`` command."""
    from simulator.cli.options import positive_int

    p = subparsers.add_parser(
        "fit",
        help="fit a scenario to your CRM export and funnel report",
        description="Read an opportunity export (CSV or XLSX: outcome or stage, "
        "created and close dates, amount; optionally 'Date entered <stage>' columns "
        "or a separate stage-history file) and/or a funnel report (one row per week "
        "or month with counts of leads, mqls, accepted, opportunities, won), fit "
        "the model to them and write a scenario that extends SCENARIO. Prints a "
        "table of every fitted value with its 90 % interval, the columns used and "
        "the data's figure beside the simulated one.",
    )
    p.add_argument("files", nargs="+", metavar="DATA", help="CSV or XLSX files")
    p.add_argument(
        "--extends",
        default="siloed",
        metavar="SCENARIO",
        help="bundled id or path whose values the data cannot identify are kept "
        "(default: siloed)",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT.toml")
    p.add_argument(
        "--columns",
        action="append",
        default=[],
        metavar="ROLE=HEADER",
        help=f"name the column of a role when it is not recognised; roles: {ROLES}",
    )
    order = p.add_mutually_exclusive_group()
    order.add_argument(
        "--dayfirst", action="store_true", help="dates are day/month/year"
    )
    order.add_argument(
        "--monthfirst", action="store_true", help="dates are month/day/year"
    )
    p.add_argument("--customers", type=positive_int, help="paying customers today")
    p.add_argument("--arr", type=float, help="annual recurring revenue today")
    p.add_argument("--name", help="the fitted scenario's name")
    p.add_argument(
        "--check-runs",
        type=positive_int,
        default=CHECK_RUNS,
        metavar="N",
        help=f"runs of the check by simulation (default {CHECK_RUNS})",
    )
    p.add_argument(
        "--json", action="store_true", help="write the fit table as JSON to stdout"
    )
    p.set_defaults(handler=cmd_fit)


def cmd_fit(args: argparse.Namespace) -> int:
    from simulator.analysis.fitting.check import check_by_simulation

    if args.arr is not None and not (0 <= args.arr <= 1e13):
        raise ScenarioError(f"--arr {args.arr:g}: must be between 0 and 1e13")
    order: DateOrder | None = (
        "dayfirst" if args.dayfirst else "monthfirst" if args.monthfirst else None
    )
    result = fit(
        args.files,
        extends=args.extends,
        out=args.output,
        columns=parse_column_overrides(args.columns),
        order=order,
        customers=args.customers,
        arr=args.arr,
        name=args.name,
    )
    check_by_simulation(result, runs=args.check_runs)
    write_scenario(result, args.output)
    if args.json:
        payload = {"output": args.output, **result.to_json()}
        json.dump(payload, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(fit_table(result))
        print(f"\nwrote {args.output} (extends {result.raw['extends']})")
        print(
            "compare it with the aligned levers on this company: "
            f"{funnelsim_command()} compare {shlex.quote(args.output)} aligned"
        )
    return 0


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    v = float(value)
    if v != v:  # NaN
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def fit_table(result: FitResult) -> str:
    """The fit as text: parameters, then the checks, then what was kept."""
    from simulator.report.text import _table

    rows = []
    for r in result.rows:
        interval = f"{_fmt(r.low)}-{_fmt(r.high)}" if r.low is not None else ""
        check = result.checks.get(r.figure)
        rows.append(
            [
                r.parameter,
                _fmt(r.value),
                interval,
                r.origin,
                r.figure,
                _fmt(check.data) if check else "",
                _fmt(check.simulated) if check else "",
            ]
        )
    params = _table(
        [
            "parameter",
            "value",
            "90 % interval",
            "from",
            "fitted to",
            "data",
            "simulated",
        ],
        rows,
    )
    check_rows = []
    for c in result.checks.values():
        kind, tol = c.tolerance
        within = {True: "yes", False: "NO", None: ""}[c.within]
        se = f" ± {_fmt(c.simulated_se)}" if c.simulated_se is not None else ""
        check_rows.append(
            [
                c.figure,
                _fmt(c.data),
                _fmt(c.expected),
                _fmt(c.simulated) + se,
                f"{tol * 100:g} points" if kind == "abs" else f"{tol:.0%}",
                within,
            ]
        )
    checks = _table(
        [
            "figure",
            "data",
            "model (expected)",
            f"simulated ({result.simulated_runs} runs)",
            "tolerance",
            "within",
        ],
        check_rows,
    )
    kept = "\n".join(f"- {k}" for k in result.kept)
    return f"{params}\n\n{checks}\n\nNot identified by the data:\n{kept}"
