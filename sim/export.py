"""The agreed plan as documents: JSON, Markdown, self-contained HTML and XLSX (pure, -> bytes).

Every export is built from one `PlanDocument`, so the four formats say the same thing. User
text is escaped in HTML and neutralised in spreadsheets (a cell never starts a formula).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import plotly.io as pio
import xlsxwriter

from .assumption_charts import tornado_chart
from .charts import funnel_chart, outcome_chart
from .engine import SimulationResult, simulate
from .models import OWNERS, Scenario, content_hash
from .plan import PlanResult, plan
from .sensitivity import Tornado, tornado
from .sla import SLA
from .team import ROLE_NAMES, TeamReport, team_report
from .team_charts import follow_up_chart, hiring_chart

FORMATS = ("json", "md", "html", "xlsx")
DOC_TRIALS = 50_000
DOC_CONFIDENCE = 0.8
WEEKS = 13
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class SignOff:
    """The agreement this exact plan was locked with (from the scenario store)."""

    agreed_by: str
    agreed_at: str  # as shown, e.g. "2026-11-25 14:03 UTC"
    version: int | None = None

    def sentence(self) -> str:
        version = f" (version {self.version})" if self.version is not None else ""
        return f"Agreed by {self.agreed_by} on {self.agreed_at}{version}"


@dataclass(frozen=True)
class PlanDocument:
    """Everything an export shows, computed once."""

    scenario: Scenario
    sla: SLA
    result: SimulationResult
    plan: PlanResult
    hash: str
    on: date
    sensitivity: Tornado
    signoff: SignOff | None = None
    team: TeamReport | None = None

    @classmethod
    def build(cls, scenario: Scenario, *, on: date, signoff: SignOff | None = None) -> PlanDocument:
        return cls(
            scenario=scenario,
            sla=scenario.sla or SLA(),
            result=simulate(scenario, trials=DOC_TRIALS, seed=0),
            plan=plan(scenario, DOC_CONFIDENCE),
            hash=content_hash(scenario),
            on=on,
            sensitivity=tornado(scenario, trials=20_000, seed=0),
            signoff=signoff,
            team=team_report(scenario),
        )

    def unit(self) -> str:
        return "customers" if self.scenario.metric == "customers" else "bookings"

    def fmt(self, v: float) -> str:
        return f"{v:,.0f}" if self.scenario.metric == "bookings" or v == int(v) else f"{v:,.1f}"

    def summary_rows(self) -> list[tuple[str, str]]:
        s, r = self.scenario, self.result
        rows = [
            ("Scenario", s.name),
            ("Quarter", s.quarter),
            ("Target", f"{self.fmt(s.target)} {self.unit()}"),
            (
                "Marketing share",
                f"{s.marketing_share:.0%} = {self.fmt(s.owner_target('marketing'))}",
            ),
            ("Sales share", f"{1 - s.marketing_share:.0%} = {self.fmt(s.owner_target('sales'))}"),
            ("Agreed", self.signoff.sentence() if self.signoff else "not agreed yet"),
            ("Marketing owner", self.sla.marketing_owner or "(not named)"),
            ("Sales owner", self.sla.sales_owner or "(not named)"),
            ("Chance we hit the number", f"{r.p_hit:.0%}"),
            ("Chance marketing hits its share", f"{r.owners['marketing'].p_hit:.0%}"),
            ("Chance sales hits its share", f"{r.owners['sales'].p_hit:.0%}"),
            (
                "Expected outcome (P10–P90)",
                f"{self.fmt(r.total.mean)} ({self.fmt(r.total.p10)}–{self.fmt(r.total.p90)})",
            ),
        ]
        for o in OWNERS:
            op = self.plan.owners[o]
            stage = op.first_stage or "first-stage leads"
            needed = op.needed_volume_at_confidence
            rows.append(
                (
                    f"{o.capitalize()} commits",
                    (
                        f"{op.committed_volume:,.0f} {stage}; {needed if needed is not None else 'n/a'} "
                        f"needed to be {DOC_CONFIDENCE:.0%} sure"
                    ),
                )
            )
        return rows

    def funnel_rows(self) -> list[dict[str, Any]]:
        out = []
        for sp, source in zip(self.plan.sources, self.scenario.sources, strict=True):
            for st in sp.stages:
                out.append(
                    {
                        "Source": source.name,
                        "Owner": source.owner,
                        "Stage": st.stage,
                        "Committed (expected)": round(st.committed, 1),
                        f"Needed to be {DOC_CONFIDENCE:.0%} sure": (
                            None
                            if st.needed_at_confidence is None
                            else round(st.needed_at_confidence, 1)
                        ),
                    }
                )
        return out

    def pacing_rows(self) -> list[dict[str, Any]]:
        out = []
        for source in self.scenario.sources:
            counts = source.expected_counts()
            for week in range(1, WEEKS + 1):
                row: dict[str, Any] = {"Source": source.name, "Week": week}
                for stage, c in zip(source.stages, counts, strict=True):
                    row[stage] = round(c * week / WEEKS, 1)
                out.append(row)
        return out

    def assumption_rows(self) -> list[dict[str, Any]]:
        out = []
        for source in self.scenario.sources:
            v = source.volume
            out.append(
                {
                    "Source": source.name,
                    "Owner": source.owner,
                    "Assumption": f"{source.stages[0]} volume",
                    "Value": v.mean,
                    "Uncertainty": {
                        "fixed": "exact",
                        "poisson": "Poisson",
                        "negbin": f"negbin, CV {v.cv}",
                    }[v.dist],
                }
            )
            for label, rate in zip(source.step_labels(), source.rates, strict=True):
                lo, hi = rate.interval(0.8)
                out.append(
                    {
                        "Source": source.name,
                        "Owner": source.owner,
                        "Assumption": f"{label} rate",
                        "Value": rate.mean,
                        "Uncertainty": "known exactly"
                        if not rate.uncertain
                        else f"{rate.n:g} leads seen; 80% range {lo:.1%}–{hi:.1%}",
                    }
                )
        return out


def team_rows(doc: PlanDocument) -> list[dict[str, Any]]:
    """The team, one row per person or cohort (the Team sheet and table)."""
    team = doc.scenario.team
    if team is None or doc.team is None:
        return []
    stage = doc.team.sourced.stage if doc.team.sourced is not None else "lead"
    first = doc.team.weeks[0]
    return [
        {
            "Name": m.name,
            "Role": ROLE_NAMES[m.role],
            "People": m.people,
            "Start": m.start,
            "Planned hire": "yes" if m.start_date >= first else "no",
            "Ramp weeks": m.ramp_weeks,
            "Productivity": m.productivity,
            "Productivity is": f"{stage}s per week each, ramped"
            if m.role == "sdr"
            else "opportunities carried per quarter each",
        }
        for m in team.members
    ]


def hiring_rows(doc: PlanDocument) -> list[dict[str, Any]]:
    """The hiring plan by week: people, ramped equivalents, what they book and can follow up."""
    r = doc.team
    if r is None:
        return []
    stage = r.sourced.stage if r.sourced is not None else "lead"
    rows = []
    for i, week in enumerate(r.weeks):
        row: dict[str, Any] = {
            "Week": i + 1,
            "Starts": week.isoformat(),
            "SDRs on the team": round(r.sdr_people[i], 2),
            "SDRs ramped": round(r.sdr_ramped[i], 2),
            "AEs on the team": round(r.ae_people[i], 2),
            "AEs ramped": round(r.ae_ramped[i], 2),
            f"{stage}s booked (expected)": round(r.sourced_by_week[i], 1),
        }
        if r.follow_up is not None:
            row["Follow-up touches owed"] = round(r.follow_up.owed_by_week[i], 1)
            row["Follow-up touches possible"] = round(r.follow_up.capacity_by_week[i], 1)
        rows.append(row)
    return rows


def team_findings(doc: PlanDocument) -> list[str]:
    """What the team means for the plan, in sentences."""
    r = doc.team
    if r is None:
        return []
    out = []
    if (sourced := r.sourced) is not None:
        out.append(
            f"The SDRs book {sourced.mean:,.0f} {sourced.stage}s for {sourced.source} on average "
            f"(P10–P90 {sourced.p10:,.0f}–{sourced.p90:,.0f}); sales commits "
            f"{sourced.committed:,.0f}."
        )
    people = doc.plan.owners["sales"].people
    if people is not None:
        out.append(people.sentence(r.sourced.stage if r.sourced is not None else "lead"))
    if r.follow_up is not None and r.follow_up.feasible:
        out.append(r.follow_up.sentence())
    if (load := r.ae_load) is not None and load.excess <= 0.5:
        out.append(
            f"The AEs carry {load.capacity:,.0f} opportunities; {load.opportunities:,.0f} are "
            "expected."
        )
    return out + [f"Warning: {w}" for w in r.warnings]


def _team_markdown(doc: PlanDocument) -> list[str]:
    if doc.team is None:
        return []
    lines = ["", "## The team and the hiring plan", ""]
    lines += [f"- {_md(t)}" for t in team_findings(doc)]
    for rows in (team_rows(doc), hiring_rows(doc)):
        if rows:
            head = list(rows[0])
            lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(_md(str(r[h])) for h in head) + " |" for r in rows]
    return lines


def _team_html(doc: PlanDocument) -> str:
    if doc.team is None:
        return ""
    static = {"displayModeBar": False, "staticPlot": True}
    findings = "".join(f"<li>{html.escape(t)}</li>" for t in team_findings(doc))
    members = _table(team_rows(doc)) if team_rows(doc) else "<p>No people in the team yet.</p>"
    hiring = pio.to_html(
        hiring_chart(doc.team), include_plotlyjs=False, full_html=False, config=static
    )
    follow = (
        '<div class="chart">'
        + pio.to_html(
            follow_up_chart(doc.team), include_plotlyjs=False, full_html=False, config=static
        )
        + "</div>"
        if doc.team.follow_up is not None
        else ""
    )
    return (
        f"<h2>The team and the hiring plan</h2><ul>{findings}</ul>{members}"
        f'<div class="chart">{hiring}</div>{follow}{_table(hiring_rows(doc))}'
    )


def team_sheets(doc: PlanDocument) -> list[tuple[str, list[dict[str, Any]]]]:
    """The spreadsheet's team sheets (none without a team)."""
    if doc.team is None:
        return []
    findings = [{"Finding": t} for t in team_findings(doc)]
    sheets = [
        ("Team", team_rows(doc)),
        ("Hiring plan", hiring_rows(doc)),
        ("Team findings", findings),
    ]
    return [(name, rows) for name, rows in sheets if rows]


def export_json(scenario: Scenario) -> bytes:
    return scenario.to_json().encode()


def _md(text: str) -> str:
    return html.escape(text).replace("|", "\\|").replace("\n", " ")


def export_markdown(doc: PlanDocument) -> bytes:
    s, sla = doc.scenario, doc.sla
    lines = [f"# {_md(s.name)} — {s.quarter} sales & marketing SLA", ""]
    lines += ["## Targets and split", "", "| | |", "|---|---|"]
    lines += [f"| {_md(k)} | {_md(v)} |" for k, v in doc.summary_rows()]
    lines += ["", "## What moves the number", "", _md(doc.sensitivity.summary())]
    lines += ["", "## What counts as an MQL (firmographics only)", ""]
    lines += [f"- {_md(c)}" for c in sla.mql.criteria()]
    if sla.mql.note:
        lines.append(f"- Note: {_md(sla.mql.note)}")
    lines += ["- Role, seniority, need and intent are not MQL criteria: sales qualifies them."]
    lines += ["", "## What makes an SQL (BANT)", ""]
    lines += [f"- Required: {', '.join(sla.sql.required()) or 'nothing'}"]
    if sla.sql.note:
        lines.append(f"- Note: {_md(sla.sql.note)}")
    lines += ["", "## What sales owes every MQL", ""]
    lines += [f"- {_md(t)}" for t in sla.follow_up.terms()]
    lines += _team_markdown(doc)
    lines += ["", f"## Funnel targets per stage and owner ({DOC_CONFIDENCE:.0%} confidence)", ""]
    rows = doc.funnel_rows()
    head = list(rows[0])
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += [
        "| " + " | ".join(_md(str("" if r[h] is None else r[h])) for h in head) + " |" for r in rows
    ]
    lines += [
        "",
        "## Sign-off",
        "",
        f"- Marketing: {_md(sla.marketing_owner) or '________'}",
        f"- Sales: {_md(sla.sales_owner) or '________'}",
        f"- Date: {doc.on.isoformat()}",
        f"- {_md(doc.signoff.sentence()) if doc.signoff else 'Not agreed yet'}",
        f"- Plan content hash (sha256): `{doc.hash}`",
        "",
    ]
    return "\n".join(lines).encode()


_CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1b1f24;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.8rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
td, th { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; }
th { background: #f3f5f8; } td.num { text-align: right; }
.sign { display: grid; grid-template-columns: 1fr 1fr; gap: 2rem; margin-top: 1rem; }
.sign div { border-top: 1px solid #1b1f24; padding-top: .3rem; margin-top: 2.5rem; }
code { font-size: .8rem; word-break: break-all; }
@media print { .chart { page-break-inside: avoid; } h2 { page-break-after: avoid; } }
"""


def _table(rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in rows[0])
    body = ""
    for r in rows:
        cells = ""
        for v in r.values():
            num = isinstance(v, int | float)
            text = "" if v is None else (f"{v:,.1f}" if isinstance(v, float) else str(v))
            cells += f"<td{' class=num' if num else ''}>{html.escape(text)}</td>"
        body += f"<tr>{cells}</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def export_html(doc: PlanDocument) -> bytes:
    """One self-contained, printable page; Plotly is embedded so it works offline."""
    s, sla, e = doc.scenario, doc.sla, html.escape
    outcome = pio.to_html(
        outcome_chart(doc.result),
        include_plotlyjs=True,
        full_html=False,
        config={"displayModeBar": False, "staticPlot": True},
    )
    static = {"displayModeBar": False, "staticPlot": True}
    funnel = pio.to_html(funnel_chart(s), include_plotlyjs=False, full_html=False, config=static)
    sensitivity = pio.to_html(
        tornado_chart(doc.sensitivity), include_plotlyjs=False, full_html=False, config=static
    )
    summary = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in doc.summary_rows())
    mql = "".join(f"<li>{e(c)}</li>" for c in sla.mql.criteria())
    if sla.mql.note:
        mql += f"<li>Note: {e(sla.mql.note)}</li>"
    sql_note = f"<p>{e(sla.sql.note)}</p>" if sla.sql.note else ""
    follow = "".join(f"<li>{e(t)}</li>" for t in sla.follow_up.terms())
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(s.name)} — {e(s.quarter)} SLA</title><style>{_CSS}</style></head>
<body>
<h1>{e(s.name)} — {e(s.quarter)} sales &amp; marketing SLA</h1>
<h2>Targets and split</h2><table>{summary}</table>
<h2>How the quarter could land</h2><div class="chart">{outcome}</div>
<h2>What moves the number</h2><p>{e(doc.sensitivity.summary())}</p>
<div class="chart">{sensitivity}</div>
<h2>What counts as an MQL (firmographics only)</h2><ul>{mql}
<li>Role, seniority, need and intent are not MQL criteria: sales qualifies them.</li></ul>
<h2>What makes an SQL (BANT)</h2>
<p>Required: {e(", ".join(sla.sql.required()) or "nothing")}</p>{sql_note}
<h2>What sales owes every MQL</h2><ul>{follow}</ul>
{_team_html(doc)}
<h2>Funnel targets per stage and owner</h2>{_table(doc.funnel_rows())}
<div class="chart">{funnel}</div>
<h2>Sign-off</h2>
<div class="sign"><div>Marketing: {e(sla.marketing_owner) or "&nbsp;"}</div>
<div>Sales: {e(sla.sales_owner) or "&nbsp;"}</div></div>
<p>Date: {doc.on.isoformat()}<br>{e(doc.signoff.sentence()) if doc.signoff else "Not agreed yet"}<br>
Plan content hash (sha256): <code>{doc.hash}</code></p>
</body></html>
"""
    return page.encode()


def safe_cell(value: Any) -> Any:
    """Spreadsheet-safe: text that could start a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_xlsx(doc: PlanDocument) -> bytes:
    """Sheets Summary, Funnel targets, Weekly pacing, Assumptions; numbers stay numbers."""
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = wb.add_format({"bold": True, "bg_color": "#F3F5F8", "border": 1})
    number = wb.add_format({"num_format": "#,##0.0"})
    pct = wb.add_format({"num_format": "0.0%"})

    def sheet(name: str, rows: list[dict[str, Any]], percent_cols: tuple[str, ...] = ()) -> None:
        ws = wb.add_worksheet(name)
        headers = list(dict.fromkeys(h for r in rows for h in r))  # union, first-seen order
        for c, h in enumerate(headers):
            ws.write_string(0, c, h, bold)
            width = max(len(h), *(len(str(r.get(h, ""))) for r in rows)) + 2
            ws.set_column(c, c, min(width, 60))
        for r, row in enumerate(rows, start=1):
            for c, h in enumerate(headers):
                v = row.get(h)
                if v is None:
                    ws.write_blank(r, c, None)
                elif isinstance(v, bool) or not isinstance(v, int | float):
                    ws.write_string(r, c, str(safe_cell(str(v))))
                else:
                    ws.write_number(r, c, v, pct if h in percent_cols else number)
        ws.freeze_panes(1, 0)

    sheet("Summary", [{"Item": k, "Value": v} for k, v in doc.summary_rows()])
    sheet("Funnel targets", doc.funnel_rows())
    sheet("Weekly pacing", doc.pacing_rows())
    assumptions = [{**r, "Value": r["Value"]} for r in doc.assumption_rows()]
    sheet("Assumptions", assumptions)
    for name, rows in team_sheets(doc):
        sheet(name, rows)
    wb.close()
    return out.getvalue()


def export(scenario: Scenario, fmt: str, *, on: date, signoff: SignOff | None = None) -> bytes:
    """The scenario in one of FORMATS; `signoff` puts the agreement in the sign-off block."""
    if fmt not in FORMATS:
        raise ValueError(f"format: must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if fmt == "json":
        return export_json(scenario)
    doc = PlanDocument.build(scenario, on=on, signoff=signoff)
    return {"md": export_markdown, "html": export_html, "xlsx": export_xlsx}[fmt](doc)
