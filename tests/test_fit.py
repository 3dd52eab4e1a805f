"""`funnelsim fit`: column dialects, date forms, censoring, bad files, and fits of
the synthetic examples that recover the parameters they were drawn from."""

from __future__ import annotations

import datetime as dt
import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from simulator.analysis.fitting import table as tb
from simulator.analysis.fitting.check import check_by_simulation
from simulator.analysis.fitting.fit import fit
from simulator.analysis.fitting.opportunities import classify
from simulator.analysis.fitting.provenance import write_scenario
from simulator.cli import main
from simulator.model.scenario_io import load_scenario, resolve_alternative

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
SALESFORCE = EXAMPLES / "salesforce_opportunities.csv"
HISTORY = EXAMPLES / "salesforce_stage_history.csv"
HUBSPOT = EXAMPLES / "hubspot_deals.csv"
REPORT = EXAMPLES / "funnel_report.csv"
#: Runs of the check by simulation in tests (a few seconds).
RUNS = 100


def _import_truths():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_examples", EXAMPLES / "make_examples.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TRUTH = _import_truths()


def write_csv(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def opportunities(
    n_won: int, n_lost: int, n_open: int, *, fmt: str, seed: int = 1
) -> str:
    """A generic export: created dates in 2025, 30-90 day cycles."""
    rng = np.random.default_rng(seed)
    lines = ["Outcome,Created,Closed,Amount"]
    start = dt.date(2025, 1, 1)
    for outcome, count in (("Won", n_won), ("Lost", n_lost), ("Open", n_open)):
        for _ in range(count):
            created = start + dt.timedelta(days=int(rng.integers(0, 200)))
            closed = created + dt.timedelta(days=int(rng.integers(30, 90)))
            amount = round(float(rng.lognormal(math.log(20000), 0.5)))
            lines.append(
                f"{outcome},{created.strftime(fmt)},"
                f"{closed.strftime(fmt) if outcome != 'Open' else ''},{amount}"
            )
    return "\n".join(lines)


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("word", "outcome"),
    [
        ("Closed Won", "won"),
        ("closed won", "won"),
        ("WON", "won"),
        ("closedwon", "won"),
        ("Closed Lost", "lost"),
        ("lost", "lost"),
        ("Closed - Lost", "lost"),
        ("Negotiation/Review", "open"),
        ("Proposal", "open"),
        ("open", "open"),
    ],
)
def test_outcome_words_are_read_case_insensitively(word, outcome):
    assert classify(word) == outcome


@pytest.mark.parametrize(
    ("text", "order", "want"),
    [
        ("2025-03-31", None, dt.date(2025, 3, 31)),
        ("2025-03-31T14:05:00Z", None, dt.date(2025, 3, 31)),
        ("2025-03-31 14:05", None, dt.date(2025, 3, 31)),
        ("3/31/2025", None, dt.date(2025, 3, 31)),
        ("31/03/2025", None, dt.date(2025, 3, 31)),
        ("31.03.2025", None, dt.date(2025, 3, 31)),
        ("04/03/2025", "dayfirst", dt.date(2025, 3, 4)),
        ("04/03/2025", "monthfirst", dt.date(2025, 4, 3)),
        ("4/3/25 9:30 AM", "monthfirst", dt.date(2025, 4, 3)),
        ("31 Mar 2025", None, dt.date(2025, 3, 31)),
        ("Mar 31, 2025", None, dt.date(2025, 3, 31)),
        ("2025-03", None, dt.date(2025, 3, 1)),
        ("March 2025", None, dt.date(2025, 3, 1)),
        ("", None, None),
    ],
)
def test_date_forms(text, order, want):
    assert tb.parse_date(text, order) == want


def test_an_ambiguous_date_needs_an_order():
    with pytest.raises(ValueError):
        tb.parse_date("04/03/2025", None)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("12,345.50", 12345.5),
        ("$12,345", 12345.0),
        ("1.234,5", 1234.5),
        ("12 345", 12345.0),
        ("EUR 99", 99.0),
        ("12%", 0.12),
        ("(500)", -500.0),
        ("", None),
    ],
)
def test_number_forms(text, want):
    got = tb.parse_number(text)
    if want is None:
        assert got is None
    else:
        assert got == pytest.approx(want)


@pytest.mark.parametrize(
    ("fmt", "flag"),
    [
        ("%Y-%m-%d", None),  # ISO
        ("%m/%d/%Y", None),  # US, detected from days above 12
        ("%d/%m/%Y", None),  # day-first, detected
        ("%d.%m.%Y", "--dayfirst"),
    ],
)
def test_each_date_form_gives_the_same_fit(tmp_path, fmt, flag):
    iso = fit(
        [write_csv(tmp_path, opportunities(40, 60, 10, fmt="%Y-%m-%d"), "iso.csv")]
    )
    other = write_csv(tmp_path, opportunities(40, 60, 10, fmt=fmt), "other.csv")
    order = {"--dayfirst": "dayfirst", None: None}[flag]
    result = fit([other], order=order)
    for key in ("win rate", "mean won cycle (weeks)", "median deal size"):
        assert result.checks[key].data == pytest.approx(iso.checks[key].data)


def test_ambiguous_dates_ask_for_dayfirst_or_monthfirst(tmp_path, capsys):
    text = "Outcome,Created,Closed,Amount\n" + "Won,01/02/2025,03/04/2025,100\n" * 3
    path = write_csv(tmp_path, text)
    out = tmp_path / "out.toml"
    assert main(["fit", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "--dayfirst" in err and "--monthfirst" in err and "export.csv" in err
    assert len(err.splitlines()) == 1 and not out.exists()
    assert main(["fit", str(path), "-o", str(out), "--dayfirst"]) == 0
    assert out.exists()


# --------------------------------------------------------------------------- dialects


PIPEDRIVE_COLUMNS = (
    "ID",
    "Title",
    "Value",
    "Currency",
    "Status",
    "Stage",
    "Deal created",
    "Deal closed on",
)
PIPEDRIVE = (
    ",".join(f"Deal - {c}" for c in PIPEDRIVE_COLUMNS)
    + """
1,Acme,"12,000",EUR,won,Negotiation,2025-01-03 10:00:00,2025-02-20 16:00:00
2,Beta,8000,EUR,lost,Qualified,2025-01-10 10:00:00,2025-02-01 16:00:00
3,Gamma,15000,EUR,open,Proposal made,2025-02-11 10:00:00,
4,Delta,20000,EUR,won,Negotiation,2025-02-15 10:00:00,2025-04-01 16:00:00
5,Epsilon,9000,EUR,lost,Contact made,2025-03-01 10:00:00,2025-03-12 16:00:00
"""
)

GENERIC = """
id;result;engaged;closed;acv
a;WON;2025-01-03;2025-02-20;12000
b;LOST;2025-01-10;2025-02-01;8000
c;in progress;2025-02-11;;15000
d;Won;2025-02-15;2025-04-01;20000
e;lost;2025-03-01;2025-03-12;9000
"""


DYNAMICS = """
Topic,Est. Revenue,Actual Revenue,Status,Status Reason,Actual Close Date,Created On
A,"£12,000.00","£12,000.00",Won,Won,20/02/2025,03/01/2025 10:00
B,"£8,000.00",,Lost,Out-Sold,01/02/2025,10/01/2025 10:00
C,"£15,000.00",,Open,In Progress,,11/02/2025 10:00
D,"£20,000.00","£20,000.00",Won,Won,01/04/2025,15/02/2025 10:00
E,"£9,000.00",,Lost,Canceled,12/03/2025,01/03/2025 10:00
"""

ZOHO = """
Record Id,Deal Name,Amount,Closing Date,Stage,Created Time
1,A,"$12,000.00",02/20/2025,Closed Won,01/03/2025 10:00 AM
2,B,"$8,000.00",02/01/2025,Closed Lost,01/10/2025 10:00 AM
3,C,"$15,000.00",05/30/2025,Negotiation/Review,02/11/2025 10:00 AM
4,D,"$20,000.00",04/01/2025,Closed Won,02/15/2025 10:00 AM
5,E,"$9,000.00",03/12/2025,Closed-Lost to Competition,03/01/2025 10:00 AM
"""


@pytest.mark.parametrize(
    "text",
    [PIPEDRIVE, GENERIC, DYNAMICS, ZOHO],
    ids=["pipedrive", "generic", "dynamics", "zoho"],
)
def test_other_dialects_are_recognised(tmp_path, text):
    result = fit([write_csv(tmp_path, text)])
    # 2 won, 2 lost, 1 open: every deal closed before the open one's censoring.
    assert result.checks["win rate"].data == pytest.approx(0.5)
    assert result.checks["median deal size"].data == pytest.approx(16000)


def test_salesforce_and_hubspot_columns_are_found():
    sf = fit([SALESFORCE, HISTORY])
    names = [s.name for s in sf.scenario.pipeline.stages]
    assert names == ["Qualification", "Proposal", "Negotiation"]
    hs = fit([HUBSPOT])
    names = [s.name for s in hs.scenario.pipeline.stages]
    assert names == [s for s, _, _ in TRUTH.TRUTH_HUBSPOT["stages"]]


def test_columns_override_names_an_unrecognised_column(tmp_path, capsys):
    text = GENERIC.replace("acv", "contract worth").replace("engaged", "first touch")
    path = write_csv(tmp_path, text)
    out = tmp_path / "out.toml"
    assert main(["fit", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "created" in err and "--columns" in err
    argv = [
        "fit",
        str(path),
        "-o",
        str(out),
        "--columns",
        "amount=contract worth",
        "--columns",
        "created=First Touch",
    ]
    assert main(argv) == 0


def test_xlsx_export_is_read(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for line in GENERIC.strip().splitlines():
        cells = line.split(";")
        row = []
        for cell in cells:
            try:
                row.append(dt.datetime.fromisoformat(cell))
            except ValueError:
                row.append(float(cell) if cell.isdigit() else cell)
        sheet.append(row)
    path = tmp_path / "export.xlsx"
    book.save(path)
    result = fit([path])
    assert result.checks["win rate"].data == pytest.approx(0.5)


# --------------------------------------------------------------------------- censoring


def test_open_deals_are_censored_not_lost(tmp_path):
    """Open deals add no loss: the win rate over closed deals is unchanged by many
    open ones that are still young, and an estimate that counted them as lost
    would be far lower."""
    closed_only = fit(
        [write_csv(tmp_path, opportunities(30, 70, 0, fmt="%Y-%m-%d"), "a.csv")]
    )
    with_open = fit(
        [
            write_csv(
                tmp_path,
                opportunities(30, 70, 0, fmt="%Y-%m-%d")
                + "\n"
                + "\n".join(["Open,2025-09-01,,20000"] * 100),
                "b.csv",
            )
        ]
    )
    assert closed_only.checks["win rate"].data == pytest.approx(0.30)
    assert with_open.checks["win rate"].data == pytest.approx(0.30, abs=0.02)
    note = next(r.note for r in with_open.rows if r.figure == "win rate")
    assert "100 open deals counted as censored" in note


def test_censoring_corrects_for_deals_still_open(tmp_path):
    """Deals lost fast and won slowly: among recent deals the closed ones are
    mostly losses, and the won ones the quick wins. The cumulative incidence (open
    deals censored) recovers the true win rate and won cycle where won / closed
    and the mean of the closed wins are biased low."""
    rng = np.random.default_rng(5)
    lines = ["Outcome,Created,Closed,Amount"]
    export_day = dt.date(2025, 12, 31)
    won = lost = 0
    won_days = []
    for _ in range(4000):
        created = dt.date(2025, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365)))
        wins = rng.random() < 0.4
        days = int(rng.exponential(60 if wins else 10)) + 1
        closed = created + dt.timedelta(days=days)
        if closed > export_day:
            lines.append(f"Open,{created},,10000")
        else:
            lines.append(f"{'Won' if wins else 'Lost'},{created},{closed},10000")
            won, lost = won + wins, lost + (not wins)
            if wins:
                won_days.append(days)
    result = fit([write_csv(tmp_path, "\n".join(lines))])
    rate = result.checks["win rate"]
    naive = won / (won + lost)
    assert naive < 0.38  # the bias the censoring corrects
    assert abs(rate.data - 0.4) < 0.025
    row = next(r for r in result.rows if r.figure == "win rate")
    assert row.low is not None and row.low < row.value < row.high
    # Wins take 1 + 60 days on average: 8.7 weeks.
    cycle = result.checks["mean won cycle (weeks)"].data
    naive_cycle = float(np.mean(won_days)) / 7
    assert naive_cycle < 61 / 7 - 0.5
    assert abs(cycle - 61 / 7) < 0.5


# --------------------------------------------------------------------------- bad files


def _fails(
    tmp_path, capsys, text: str | bytes, *needles: str, name="export.csv"
) -> None:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    out = tmp_path / "out.toml"
    assert main(["fit", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("funnelsim: error:") and name in err
    for needle in needles:
        assert needle in err, err
    assert "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".out.toml*"))  # no temporary file left


def test_no_outcome_column(tmp_path, capsys):
    _fails(
        tmp_path,
        capsys,
        "Created,Closed,Amount\n2025-01-01,2025-02-01,10\n",
        "outcome",
        "--columns outcome=",
    )


def test_no_amount_column(tmp_path, capsys):
    _fails(
        tmp_path, capsys, "Stage,Created,Closed\nWon,2025-01-01,2025-02-01\n", "amount"
    )


def test_no_closed_opportunities(tmp_path, capsys):
    _fails(
        tmp_path,
        capsys,
        "Stage,Created,Closed,Amount\nProposal,2025-01-01,,10\nDiscovery,2025-01-02,,5\n",
        "'Stage'",
        "no closed opportunities",
    )


def test_unreadable_dates(tmp_path, capsys):
    _fails(
        tmp_path,
        capsys,
        "Stage,Created,Closed,Amount\nWon,soon,2025-02-01,10\nLost,2025-01-01,2025-02-01,5\n",
        "'Created'",
        "'soon'",
        "row 2",
    )


def test_text_in_a_number_column(tmp_path, capsys):
    _fails(
        tmp_path,
        capsys,
        "Stage,Created,Closed,Amount\nWon,2025-01-01,2025-02-01,ten thousand\n",
        "'Amount'",
        "must be a number",
    )


def test_an_empty_file(tmp_path, capsys):
    _fails(tmp_path, capsys, "", "empty")


def test_a_header_without_rows(tmp_path, capsys):
    _fails(tmp_path, capsys, "Stage,Created,Closed,Amount\n", "no rows")


def test_a_huge_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tb, "MAX_FILE_BYTES", 1000)
    _fails(tmp_path, capsys, opportunities(40, 60, 0, fmt="%Y-%m-%d"), "bytes")


def test_a_binary_file(tmp_path, capsys):
    _fails(tmp_path, capsys, b"PK\x03\x04\x00\x00binary", "not a text")


def test_a_funnel_report_with_text_counts(tmp_path, capsys):
    _fails(
        tmp_path,
        capsys,
        "Month,Leads,MQLs\n2025-01,100,50\n2025-02,many,60\n",
        "'Leads'",
        "row 3",
        name="report.csv",
    )


def test_an_existing_output_is_left_alone_on_error(tmp_path, capsys):
    out = tmp_path / "out.toml"
    out.write_text("keep me", encoding="utf-8")
    path = write_csv(tmp_path, "Created,Closed\n2025-01-01,2025-02-01\n")
    assert main(["fit", str(path), "-o", str(out)]) == 2
    assert out.read_text(encoding="utf-8") == "keep me"


# --------------------------------------------------------------------------- examples


def _within(result) -> None:
    for check in result.checks.values():
        assert check.within, (check.figure, check.data, check.simulated)


def test_salesforce_example_recovers_its_truth_and_reproduces_its_data():
    result = fit([SALESFORCE, HISTORY])
    check_by_simulation(result, runs=RUNS)
    _within(result)
    truth = TRUTH.TRUTH_SALESFORCE
    win = result.checks["win rate"]
    true_win = math.prod(c for _, c, _ in truth["stages"])
    n = next(r.rows for r in result.rows if r.figure == "win rate")
    assert abs(win.data - true_win) < 3 * math.sqrt(true_win * (1 - true_win) / n)
    for stage, (name, conversion, weeks) in zip(
        result.scenario.pipeline.stages, truth["stages"], strict=True
    ):
        assert stage.name == name
        assert stage.conversion == pytest.approx(conversion, abs=0.05)
        assert stage.mean_weeks == pytest.approx(weeks, rel=0.15)
    assert result.scenario.deals.acv_median == pytest.approx(
        truth["acv_median"], rel=0.1
    )
    assert result.scenario.deals.acv_sigma == pytest.approx(
        truth["acv_sigma"], abs=0.06
    )


def test_hubspot_example_recovers_its_truth_and_reproduces_its_data():
    result = fit([HUBSPOT])
    check_by_simulation(result, runs=RUNS)
    _within(result)
    truth = TRUTH.TRUTH_HUBSPOT
    true_win = math.prod(c for _, c, _ in truth["stages"])
    n = next(r.rows for r in result.rows if r.figure == "win rate")
    assert abs(result.checks["win rate"].data - true_win) < 3 * math.sqrt(
        true_win * (1 - true_win) / n
    )
    cycle = sum(w for _, _, w in truth["stages"])
    assert result.checks["mean won cycle (weeks)"].data == pytest.approx(cycle, rel=0.1)
    assert result.scenario.deals.acv_median == pytest.approx(
        truth["acv_median"], rel=0.12
    )


def test_funnel_report_example_recovers_its_truth_and_reproduces_its_ratios():
    result = fit([REPORT])
    check_by_simulation(result, runs=RUNS)
    _within(result)
    for figure in (
        "MQLs per lead",
        "accepted per MQL",
        "opportunities per accepted lead",
        "won per opportunity",
    ):
        assert figure in result.checks
    scoring = result.scenario.marketing.scoring
    assert scoring.pass_ready == pytest.approx(0.6, abs=0.02)
    assert scoring.pass_junk == pytest.approx(0.6, abs=0.02)
    assert result.scenario.handoff.ignore_base == pytest.approx(0.30, abs=0.02)
    kept = " ".join(result.kept)
    assert "quality mix" in kept and "deal size" in kept


def test_all_examples_together_write_a_valid_cited_scenario(tmp_path, capsys):
    out = tmp_path / "mine.toml"
    argv = [
        "fit",
        str(SALESFORCE),
        str(HISTORY),
        str(REPORT),
        "-o",
        str(out),
        "--check-runs",
        str(RUNS),
        "--json",
    ]
    assert main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    scenario = load_scenario(out)
    assert scenario.extends == "siloed"
    raw = tomllib.loads(out.read_text(encoding="utf-8"))
    for row in payload["parameters"]:
        citation = raw["citations"][row["parameter"]]["source"]
        assert citation.startswith(("fitted from ", "derived from ")), citation
        if row["low"] is not None:
            assert "90 % interval" in citation
    for check in payload["checks"]:
        assert check["within"], check
    # The bundled aligned levers apply to this company as it is: its own
    # stages (named as in the data), raised so that the win rate is x 1.38.
    assert not (tmp_path / "mine-aligned.toml").exists()
    aligned = resolve_alternative(scenario, "aligned")
    assert aligned.company.initial_arr == scenario.company.initial_arr
    assert aligned.company.initial_customers == scenario.company.initial_customers
    assert aligned.company.annual_churn < scenario.company.annual_churn  # retention
    assert aligned.handoff.ignore_base == pytest.approx(0.10)
    for mine, theirs in zip(
        scenario.pipeline.stages, aligned.pipeline.stages, strict=True
    ):
        assert theirs.name == mine.name
        assert theirs.conversion == pytest.approx(
            min(1.0, mine.conversion * 1.38 ** (1 / len(scenario.pipeline.stages)))
        )
    # No inherited citation speaks for the fitted stages any more.
    assert raw["citations"]["pipeline.stages"]["source"].startswith("fitted from")
    assert "Bridge Group" not in scenario.citations["pipeline.stages"].source
    assert {"parameter", "value", "low", "high", "columns", "data", "simulated"} <= set(
        payload["parameters"][0]
    )


def test_fitted_values_keep_the_extended_scenario_elsewhere(tmp_path):
    result = fit([HUBSPOT], extends="siloed")
    base = load_scenario("siloed")
    sc = result.scenario
    assert sc.company.annual_churn == base.company.annual_churn
    assert sc.follow_up.decay_tau_hours == base.follow_up.decay_tau_hours
    assert sc.marketing.scoring == base.marketing.scoring
    out = tmp_path / "f.toml"
    write_scenario(result, out)
    assert load_scenario(out).pipeline == sc.pipeline


def test_customers_and_arr_given_are_kept(tmp_path):
    result = fit([HUBSPOT], customers=420, arr=15_080_000.0)
    assert result.scenario.company.initial_customers == 420
    assert result.scenario.company.initial_arr == pytest.approx(15_080_000.0)
    cited = result.scenario.citations
    assert cited["company.initial_customers"].source == "entered by you"
    assert cited["company.initial_arr"].source == "entered by you"


def weekly_report(tmp_path: Path) -> Path:
    """A weekly report by source, US dates, with spend and first-response counts
    and no accepted column."""
    rng = np.random.default_rng(3)
    header = "Week starting,Source,Leads,MQLs,Opportunities,Won,Spend,"
    header += "Within 5 min,5-60 min,1-24 h,1-7 days"
    lines = [header]
    sources = (
        ("Paid search", 120, 90.0),
        ("Webinars", 40, 90.0),
        ("Partners", 15, 150.0),
    )
    for week in range(26):
        day = dt.date(2025, 1, 6) + dt.timedelta(weeks=week)
        for name, mean, cpl in sources:
            leads = int(rng.poisson(mean))
            mqls = int(rng.binomial(leads, 0.5))
            opps = int(rng.binomial(mqls, 0.06))
            won = int(rng.binomial(opps, 0.25))
            resp = [int(mqls * f) for f in (0.1, 0.4, 0.3, 0.2)]
            lines.append(
                f"{day:%m/%d/%Y},{name},{leads},{mqls},{opps},{won},{leads * cpl:.0f},"
                + ",".join(map(str, resp))
            )
    return write_csv(tmp_path, "\n".join(lines), "weekly.csv")


def test_a_weekly_report_by_source_with_spend_and_response_times(tmp_path):
    result = fit([weekly_report(tmp_path)])
    check_by_simulation(result, runs=RUNS)
    _within(result)
    sc = result.scenario
    by_name = {s.name: s for s in sc.marketing.sources}
    assert set(by_name) == {"Paid search", "Webinars", "Partners"}
    # Spend by source: the partners' leads cost more, their share is theirs.
    assert by_name["Partners"].cost_per_lead > 1.4 * by_name["Webinars"].cost_per_lead
    assert sc.marketing.weekly_budget == pytest.approx(
        (120 * 90 + 40 * 90 + 15 * 150), rel=0.05
    )
    profile = sc.follow_up.response_profile
    assert profile.within_1h == pytest.approx(0.4, abs=0.02)
    # No accepted column: the step before opportunities (qualification) and, at
    # its bound, the ignore rate take the MQL-to-opportunity ratio.
    params = {r.parameter for r in result.rows}
    assert "follow_up.qualify_ready" in params
    assert any("accepted" in k for k in result.kept)


def test_extends_a_file_next_to_the_output(tmp_path, capsys):
    base = tmp_path / "base.toml"
    base.write_text('schema_version = 1\nname = "Base"\nextends = "smb-siloed"\n')
    out = tmp_path / "mine.toml"
    assert (
        main(
            [
                "fit",
                str(HUBSPOT),
                "--extends",
                str(base),
                "-o",
                str(out),
                "--check-runs",
                "20",
            ]
        )
        == 0
    )
    assert tomllib.loads(out.read_text(encoding="utf-8"))["extends"] == "base.toml"
    assert (
        load_scenario(out).company.annual_churn
        == load_scenario(base).company.annual_churn
    )
    elsewhere = tmp_path / "sub" / "mine.toml"
    elsewhere.parent.mkdir()
    code = main(
        [
            "fit",
            str(HUBSPOT),
            "--extends",
            str(base),
            "-o",
            str(elsewhere),
        ]
    )
    assert code == 2 and "--extends" in capsys.readouterr().err
    assert main(["fit", str(HUBSPOT), "--extends", "nosuch", "-o", str(elsewhere)]) == 2
    assert not elsewhere.exists()


def test_a_report_whose_period_column_has_another_name(tmp_path):
    text = REPORT.read_text(encoding="utf-8").replace("Month,", "Reporting period,", 1)
    result = fit([write_csv(tmp_path, text, "report.csv")])
    assert result.checks["MQLs per lead"].data == pytest.approx(
        fit([REPORT]).checks["MQLs per lead"].data
    )


def test_an_export_with_a_few_repeated_names_is_not_a_history(tmp_path):
    text = GENERIC.replace("id;", "Opportunity Name;").replace("\nb;", "\na;")
    text = text.replace("result", "Stage").replace("engaged", "Created Date")
    result = fit([write_csv(tmp_path, text)])
    assert result.checks["win rate"].data == pytest.approx(0.5)
