"""Command line: `python -m sim simulate|plan|validate FILE` (docs/cli.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .models import ScenarioError, load_scenario

if TYPE_CHECKING:  # the commands import what they use, so `validate` starts fast
    from .calibrate import Calibration
    from .compliance import Compliance
    from .engine import SimulationResult
    from .lags import LagCalibration
    from .leads import LeadCheck
    from .models import Scenario
    from .plan import PlanResult
    from .review import ReviewResult
    from .signal import Signals
    from .team import TeamReport
    from .timing import TimeSummary

# Choices the parser needs before any command module is loaded; tests/unit/test_cli.py pins
# them to sim.export.FORMATS and sim.calibrate.DATE_FORMATS.
EXPORT_FORMATS = ("json", "md", "html", "xlsx")
DATE_FORMAT_CHOICES = ("YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (try --help)\n")


ROOT = Path(__file__).resolve().parents[1]  # the project: data/ and .streamlit/ live here


def _fmt(value: float | None, metric: str = "customers") -> str:
    if value is None:
        return "n/a"
    if metric == "bookings":
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    )


def render_simulation(r: SimulationResult) -> str:
    m = r.metric
    rows = [["", "chance to hit", "target", "expected", "P10", "P50", "P90"]]
    for label, o in [("Total", r.total), *((k.capitalize(), v) for k, v in r.owners.items())]:
        rows.append(
            [
                label,
                f"{o.p_hit:.1%}",
                _fmt(o.target, m),
                _fmt(o.mean, m),
                _fmt(o.p10, m),
                _fmt(o.p50, m),
                _fmt(o.p90, m),
            ]
        )
    funnels = [
        f"  {s.name} ({s.owner}): "
        + " -> ".join(
            f"{st} {_fmt(round(v, 1))}" for st, v in zip(s.stages, s.expected, strict=True)
        )
        for s in r.sources
    ]
    return (
        f"{r.scenario} ({r.quarter}): {m}, {r.trials:,} trials, seed {r.seed}\n"
        f"{_table(rows)}\n\nExpected count at each stage:\n"
        + "\n".join(funnels)
        + (render_time(r.time) if r.time is not None else "")
    )


def render_time(t: TimeSummary) -> str:
    """The quarter in time: what lands by the last day, the opening pipeline, the spill."""
    useful = ", ".join(
        f"{s.name} week {w}" if (w := s.last_useful_week()) is not None else f"{s.name} none"
        for s in t.sources
        if s.arrivals.sum() > 0
    )
    return (
        f"\n\nOn the clock ({t.weeks} weeks): {_fmt(round(t.won, 1))} customers expected by the "
        f"last day, {_fmt(round(t.won * t.opening_share, 1))} of them from the opening pipeline "
        f"({t.opening_share:.0%}); {_fmt(round(t.spill, 1))} spill into next quarter.\n"
        f"Last useful week for new leads (half their chance to close lands this quarter): {useful}"
    )


def render_plan(r: PlanResult) -> str:
    pct = f"{r.confidence:.0%}"
    rows = [
        ["Owner", "target", "chance now", "committed", "needed on average", f"needed {pct} sure"]
    ]
    for o in r.owners.values():
        unit = f" {o.first_stage}" if o.first_stage else ""
        rows.append(
            [
                o.owner.capitalize(),
                _fmt(o.target, r.metric),
                f"{o.p_hit:.1%}",
                f"{_fmt(o.committed_volume)}{unit}",
                _fmt(o.needed_volume_expected),
                _fmt(o.needed_volume_at_confidence),
            ]
        )
    notes = [o.note for o in r.owners.values() if o.note]
    if (people := r.owners["sales"].people) is not None:
        notes.append(people.sentence(r.owners["sales"].first_stage or "lead"))
    return (
        f"{r.scenario} ({r.quarter}): first-stage volume each owner needs for its share\n"
        + _table(rows)
        + ("\n" + "\n".join(notes) if notes else "")
    )


@dataclass(frozen=True)
class TeamOutput:
    """What `team` prints: the report and sales' answer in people."""

    report: TeamReport
    plan: PlanResult

    def to_dict(self) -> dict[str, Any]:
        people = self.plan.owners["sales"].people
        return {
            "scenario": self.plan.scenario,
            "quarter": self.plan.quarter,
            "confidence": self.plan.confidence,
            **self.report.to_dict(),
            "people_needed": None if people is None else people.to_dict(),
        }


def render_team(t: TeamOutput) -> str:
    r = t.report
    rows = [["Week", "starts", "SDRs", "ramped", "AEs", "ramped", "booked"]]
    for i, w in enumerate(r.weeks):
        rows.append(
            [
                f"{i + 1}",
                w.isoformat(),
                f"{r.sdr_people[i]:.1f}",
                f"{r.sdr_ramped[i]:.1f}",
                f"{r.ae_people[i]:.1f}",
                f"{r.ae_ramped[i]:.1f}",
                f"{r.sourced_by_week[i]:.1f}",
            ]
        )
    lines = [f"{t.plan.scenario} ({t.plan.quarter}): the team", _table(rows), ""]
    if (s := r.sourced) is not None:
        lines.append(
            f"The SDRs book {s.mean:,.1f} {s.stage}s for {s.source} on average "
            f"(P10-P90 {s.p10:,.0f}-{s.p90:,.0f}); sales commits {s.committed:,.0f}."
        )
    if (people := t.plan.owners["sales"].people) is not None:
        lines.append(people.sentence(s.stage if s is not None else "lead"))
    if r.follow_up is not None:
        lines.append(r.follow_up.sentence())
    if (load := r.ae_load) is not None:
        lines.append(
            f"AEs carry {load.capacity:,.0f} opportunities; {load.opportunities:,.0f} expected."
        )
    lines += [f"Warning: {w}" for w in r.warnings]
    return "\n".join(lines)


def render_review(r: ReviewResult) -> str:
    rows = [["Factor", "owner", "plan", "actual", "effect"]]
    for c in r.contributions:
        rows.append([c.label, c.owner, f"{c.plan:,.3g}", f"{c.actual:,.3g}", f"{c.effect:+,.2f}"])
    signal_lines = [f"  {s.source} {s.step}: {s.verdict}" for s in r.signals]
    f = r.reforecast
    return (
        f"{r.verdict}\n\n{_table(rows)}\n\nSignal or noise:\n"
        + "\n".join(signal_lines)
        + f"\n\nRe-forecast at week {f.week} of {f.weeks}: chance to hit {f.p_hit:.0%} "
        f"(expected {_fmt(f.mean, r.metric)}, P10-P90 {_fmt(f.p10, r.metric)}-{_fmt(f.p90, r.metric)})"
    )


def render_leads(c: LeadCheck) -> str:
    removed = ", ".join(f"{k} {v:,}" for k, v in sorted(c.removed_by.items(), key=lambda x: -x[1]))
    dropped = "; ".join(f"{n:,} rows: {r}" for r, n in c.dropped.items()) or "none"
    return (
        f"{c.verdict()}\n{c.passing:,} of {c.valid:,} valid leads pass ({c.rows:,} rows; dropped: "
        f"{dropped}).\nLeads removed by each criterion: {removed or 'no criteria set'}"
    )


def render_compliance(c: Compliance) -> str:
    share = "n/a" if c.share_compliant is None else f"{c.share_compliant:.0%}"
    rows = [["Rep", "MQLs", "within SLA", "share"]]
    rows += [
        [r.rep, f"{r.mqls}", f"{r.compliant}", f"{r.share_compliant:.0%}"]
        for r in c.by_rep.itertuples()
    ]
    sql = ", ".join(f"{k}: {'n/a' if v is None else f'{v:.0%}'}" for k, v in c.sql_rate.items())
    return (
        f"{share} of {len(c.decided)} MQLs worked within the SLA (as of {c.as_of}).\n"
        f"{_table(rows)}\nMQL→SQL by follow-up: {sql}\n"
        f"Out of compliance now: {len(c.out_of_compliance())} MQLs"
    )


def _read(path: str, limit: int) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit + 1)
    except OSError as exc:
        raise ScenarioError(f"file: cannot read {path}: {exc.strerror}") from None


def _emit(result: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    print(json.dumps(result.to_dict(), indent=2) if as_json else render(result))


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="python -m sim", description="Pipeline Pact: what-if SLA simulator")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p_sim = sub.add_parser("simulate", help="chance of hitting the number")
    p_sim.add_argument("file")
    p_sim.add_argument("--trials", type=int, help="default: 50,000")
    p_sim.add_argument("--seed", type=int, default=0)
    p_sim.add_argument("--json", action="store_true")
    p_plan = sub.add_parser("plan", help="first-stage volume each owner needs")
    p_plan.add_argument("file")
    p_plan.add_argument("--confidence", type=float, help="default: 0.8")
    p_plan.add_argument("--json", action="store_true")
    p_team = sub.add_parser("team", help="the team: capacity by week, follow-up, people needed")
    p_team.add_argument("file")
    p_team.add_argument("--confidence", type=float, help="default: 0.8")
    p_team.add_argument("--json", action="store_true")
    p_val = sub.add_parser("validate", help="check a scenario file")
    p_val.add_argument("file")
    sub.add_parser("schema", help="print the JSON Schema of scenario files (schema v1)")
    p_exp = sub.add_parser("export", help="the plan as a document: json, md, html or xlsx")
    p_exp.add_argument("file")
    p_exp.add_argument("--format", choices=EXPORT_FORMATS, default="html")
    p_exp.add_argument("-o", "--output", help="file to write (default: stdout)")
    p_mql = sub.add_parser("mql", help="check a lead list against the MQL definition")
    p_mql.add_argument(
        "leads", help="CSV: company, country, employees, annual_revenue, sector, created"
    )
    p_mql.add_argument("--scenario", required=True, help="scenario file with the MQL definition")
    p_mql.add_argument("--json", action="store_true")
    p_cmp = sub.add_parser("compliance", help="sales follow-up against the SLA's terms")
    p_cmp.add_argument("activity", help="CSV: lead, rep, mql_time, touch_time[, sql_time]")
    p_cmp.add_argument("--scenario", required=True, help="scenario file with the SLA terms")
    p_cmp.add_argument("--json", action="store_true")
    p_rev = sub.add_parser("review", help="actuals against the plan: the gap traced to its cause")
    p_rev.add_argument("plan")
    p_rev.add_argument("actuals", help="CSV with columns source, stage, count[, bookings, week]")
    p_rev.add_argument("--week", type=int, default=None, help="week of the quarter (default: all)")
    p_rev.add_argument(
        "--weeks", type=int, help="weeks in the quarter, the plan's when it sets them (default: 13)"
    )
    p_rev.add_argument("--trials", type=int, default=20_000)
    p_rev.add_argument("--seed", type=int, default=0)
    p_rev.add_argument("--json", action="store_true")
    p_imp = sub.add_parser("import", help="check a scenario file and save it in the store")
    p_imp.add_argument("file")
    p_imp.add_argument(
        "--database", help="SQLAlchemy URL (default: as the app finds it, docs/store.md)"
    )
    p_imp.add_argument("--author", default="imported", help="name on the saved version")
    _add_calibrate(sub)
    args = parser.parse_args(argv)
    if args.command == "calibrate":
        return _run_calibrate(args)
    if args.command == "schema":
        from .models import scenario_json_schema

        print(json.dumps(scenario_json_schema(), indent=2))
        return 0
    try:
        return _run(args)
    except ValueError as exc:  # ScenarioError and friends: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    """One command; each imports only the modules it needs."""
    if args.command == "review":
        from .review import MAX_CSV_BYTES, actuals_from_csv, review

        scenario = load_scenario(args.plan)
        actuals = actuals_from_csv(  # weeks None: the plan's (13 without a clock)
            _read(args.actuals, MAX_CSV_BYTES), scenario, week=args.week, weeks=args.weeks
        )
        _emit(
            review(scenario, actuals, trials=args.trials, seed=args.seed), args.json, render_review
        )
        return 0
    if args.command in ("compliance", "mql"):
        from .leads import MAX_BYTES

        if args.command == "compliance":
            from .compliance import check_compliance

            comp = check_compliance(_read(args.activity, MAX_BYTES), load_scenario(args.scenario))
            _emit(comp, args.json, render_compliance)
        else:
            from .leads import check_leads

            check = check_leads(_read(args.leads, MAX_BYTES), load_scenario(args.scenario))
            _emit(check, args.json, render_leads)
        return 0
    scenario = load_scenario(args.file)
    if args.command == "import":
        return _import(scenario, args.database, args.author)
    if args.command == "export":
        from .export import export

        data = export(scenario, args.format, on=date.today())
        if args.output:
            try:
                with open(args.output, "wb") as fh:
                    fh.write(data)
            except OSError as exc:
                raise ScenarioError(f"output: cannot write {args.output}: {exc.strerror}") from None
        else:
            sys.stdout.buffer.write(data)
    elif args.command == "simulate":
        from .engine import DEFAULT_TRIALS, simulate

        trials = DEFAULT_TRIALS if args.trials is None else args.trials
        _emit(simulate(scenario, trials=trials, seed=args.seed), args.json, render_simulation)
    elif args.command == "plan":
        from .plan import DEFAULT_CONFIDENCE, plan

        confidence = DEFAULT_CONFIDENCE if args.confidence is None else args.confidence
        _emit(plan(scenario, confidence=confidence), args.json, render_plan)
    elif args.command == "team":
        from .plan import DEFAULT_CONFIDENCE, plan
        from .team import team_report

        report = team_report(scenario)
        if report is None:
            raise ScenarioError("team: this scenario has no team (see docs/team.md)")
        confidence = DEFAULT_CONFIDENCE if args.confidence is None else args.confidence
        _emit(TeamOutput(report, plan(scenario, confidence=confidence)), args.json, render_team)
    else:
        print(f"ok: {scenario.name} ({scenario.quarter}), {len(scenario.sources)} sources")
    return 0


def _import(scenario: Scenario, database: str | None, author: str) -> int:
    """Save a checked scenario as a new saved scenario; print where to open it."""
    from .store import Store, configured_url

    store = Store(database or configured_url(ROOT))
    try:
        info = store.create(scenario, author)
    finally:
        store.engine.dispose()
    print(
        f"imported: {scenario.name} ({scenario.quarter}) as scenario {info.scenario_id}, "
        f"version {info.number}; open it at http://localhost:8501/?scenario={info.scenario_id}"
    )
    return 0


# ---- calibrate: fit assumptions from a history CSV (docs/calibration.md) ---------------------


def _add_calibrate(sub: Any) -> None:
    p = sub.add_parser("calibrate", help="fit rates, volumes and deal size from a history CSV")
    p.add_argument("history", help="quarterly counts or a lead-level CRM export (CSV)")
    p.add_argument("--format", choices=["counts", "leads"], help="default: read from the header")
    p.add_argument("--half-life", type=float, help="weight recent quarters: halve every N back")
    p.add_argument("--skip-bad-rows", action="store_true", help="leave out rows with problems")
    p.add_argument("--date-format", choices=DATE_FORMAT_CHOICES, default="YYYY-MM-DD")
    p.add_argument("--apply", metavar="SCENARIO", help="print SCENARIO with the fit written in")
    p.add_argument("--json", action="store_true")


def _pct(x: float) -> str:
    return f"{x:.1%}"


def render_calibration(cal: Calibration, sig: Signals) -> str:
    from .calibrate import plural

    h = cal.history
    kind = "quarterly counts" if h.format == "counts" else "lead export"
    lines = [f"History ({kind}): {h.summary()}"]
    lines += [f"Left out: {p}" for p in h.dropped]
    lines += [f"Note: {n}" for n in h.notes]
    for s in cal.sources:
        v = s.volume
        spread = "Poisson" if v.cv is None else f"good and bad quarters, CV {v.cv:.2f}"
        rows = [["step", "rate", f"{cal.level:.0%} range", "evidence (n)", "leads seen"]]
        for r in s.rates:
            lo, hi = r.interval(cal.level)
            rows.append(
                [
                    r.label,
                    _pct(r.mean),
                    f"{lo:.1%}–{hi:.1%}",
                    f"{r.evidence:,.1f}",
                    f"{sum(r.leads):,}",
                ]
            )
        lines += [
            "",
            f"{s.name}: {' → '.join(s.stages)}",
            f"  {plural(v.stage)} per quarter: {v.mean:,.1f} on average ({spread}); "
            + ", ".join(f"{q} {c:,}" for q, c in zip(v.quarters, v.counts, strict=True)),
            "  " + _table(rows).replace("\n", "\n  "),
        ]
    d = cal.deal_size
    if d is not None:
        cv = "n/a" if d.cv is None else f"{d.cv:.2f}"
        lines += [
            "",
            f"Deal size: {d.mean:,.0f} on average, CV {cv} (from {d.deals:,} won deals"
            + (", by quarter totals)" if d.basis == "quarter totals" else ")"),
        ]
    head = (
        f"Alarms (each rate's latest quarter against its earlier quarters; {len(sig.checked)} "
        f"rates checked together, at most {sig.alpha:.0%} chance of any false alarm):"
    )
    lines += ["", head]
    lines += [f"  {a}" for a in sig.alarm_sentences()] or [
        "  none: no rate has moved by more than noise."
    ]
    head = (
        f"Quarter by quarter, for exploring (not alarms; {sig.comparisons} comparisons, "
        f"false discovery rate {sig.fdr:.0%}):"
    )
    lines += ["", head]
    lines += [f"  worth a look: {s}" for s in sig.scan_sentences()] or [
        "  no move stands out from noise."
    ]
    return "\n".join(lines)


def render_lags(lags: LagCalibration) -> str:
    """The time each step takes, as fitted from the export's stage dates."""
    lines = ["", f"Time to move on (leads still waiting on {lags.as_of} count as unfinished):"]
    for name, fits in lags.sources.items():
        for j, fit in enumerate(fits):
            if fit is None:
                step = " → ".join(lags.stages[name][j : j + 2])
                lines.append(f"  {name} · {step}: too few leads moved on to fit")
                continue
            lines.append(
                f"  {name} · {fit.label}: median {fit.median:.1f} days "
                f"({fit.level:.0%} range {fit.low:.1f}–{fit.high:.1f}), {fit.family}, "
                f"CV {fit.cv:.2f}; {fit.moved:,} moved on, {fit.waiting:,} still waiting"
            )
    return "\n".join(lines)


def _run_calibrate(args: argparse.Namespace) -> int:
    from .calibrate import DATE_FORMATS, apply_calibration, calibrate, read_history_file
    from .lags import apply_lags, fit_lags
    from .signal import signals

    try:
        history = read_history_file(
            args.history,
            args.format or "auto",
            skip_bad_rows=args.skip_bad_rows,
            date_format=DATE_FORMATS[args.date_format],
        )
        timed = fit_lags(history) if history.format == "leads" else None
        cal = calibrate(history, half_life=args.half_life, lags=timed)
        if args.apply:
            applied = apply_calibration(load_scenario(args.apply), cal)
            scenario, notes = applied.scenario, [*applied.changes, *applied.skipped]
            if timed is not None:
                with_lags = apply_lags(scenario, timed)
                scenario = with_lags.scenario
                notes += [*with_lags.changes, *with_lags.skipped]
            print(scenario.to_json(), end="")
            for line in notes:
                print(line, file=sys.stderr)
            return 0
        sig = signals(cal)
        if args.json:
            out = cal.to_dict() | sig.to_dict()
            if timed is not None:
                out["lags"] = timed.to_dict()
            print(json.dumps(out, indent=2))
        else:
            print(render_calibration(cal, sig) + (render_lags(timed) if timed else ""))
    except ValueError as exc:  # CalibrationError, ScenarioError: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
