"""The agreed plan as documents: JSON, Markdown, self-contained HTML and XLSX (pure, -> bytes).

Every export is built from one `PlanDocument`, so the four formats say the same thing. User
text is escaped in HTML and neutralised in spreadsheets (a cell never starts a formula).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from .models import OWNERS, Scenario, content_hash
from .roster import ROLE_NAMES
from .sla import SLA

if TYPE_CHECKING:  # the numeric stack is imported where a document is built
    from .engine import SimulationResult
    from .plan import PlanResult
    from .sensitivity import Tornado
    from .team import TeamReport

FORMATS = ("json", "md", "html", "xlsx")
DOC_TRIALS = 50_000
DOC_CONFIDENCE = 0.8
WEEKS = 13
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Kind = Literal["text", "count", "number", "percent", "money"]
# Spreadsheet number formats per kind; 5 is Excel's built-in whole-unit currency format,
# shown with the reader's own currency symbol (the plan does not name a currency).
NUM_FORMATS: dict[str, str | int] = {
    "count": "#,##0",
    "number": "#,##0.0",
    "percent": "0.0%",
    "money": 5,
}


@dataclass(frozen=True, slots=True)
class Cell:
    """One value of a document: numbers keep their kind, so the spreadsheet writes a number
    with a format (a percentage as a fraction) and the text documents write the same number."""

    value: str | float | None
    kind: Kind = "text"

    def text(self) -> str:
        v = self.value
        if v is None:
            return "n/a"
        if isinstance(v, str):
            return v
        if self.kind == "percent":
            return f"{v:.0%}"
        if self.kind in ("count", "money") or v == int(v):
            return f"{v:,.0f}"
        return f"{v:,.1f}"


def amount(value: float | None, kind: Kind = "number") -> Cell:
    """A count when it is whole, else a number with a decimal (money stays money)."""
    if kind == "number" and value is not None and value == int(value):
        return Cell(value, "count")
    return Cell(value, kind)


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
        from .engine import exact, simulate
        from .plan import plan
        from .sensitivity import tornado
        from .team import team_report

        return cls(
            scenario=scenario,
            sla=scenario.sla or SLA(),
            # The same chances as the app shows: exact for customers, simulated for bookings.
            result=exact(scenario) or simulate(scenario, trials=DOC_TRIALS, seed=0),
            plan=plan(scenario, DOC_CONFIDENCE),
            hash=content_hash(scenario),
            on=on,
            sensitivity=tornado(scenario, trials=20_000, seed=0),
            signoff=signoff,
            team=team_report(scenario),
        )

    def unit(self) -> str:
        return "customers" if self.scenario.metric == "customers" else "bookings"

    def amount(self, value: float | None) -> Cell:
        """An outcome or target: money for bookings, a count or number for customers."""
        return amount(value, "money" if self.scenario.metric == "bookings" else "number")

    def summary_items(self) -> list[tuple[str, Cell, str]]:
        """The Summary: (item, value, unit); every number is a number."""
        s, r, unit = self.scenario, self.result, self.unit()
        items: list[tuple[str, Cell, str]] = [
            ("Scenario", Cell(s.name), ""),
            ("Quarter", Cell(s.quarter), ""),
            ("Target", self.amount(s.target), unit),
            ("Marketing share", Cell(s.marketing_share, "percent"), "of the target"),
            ("Marketing target", self.amount(s.owner_target("marketing")), unit),
            ("Sales share", Cell(1 - s.marketing_share, "percent"), "of the target"),
            ("Sales target", self.amount(s.owner_target("sales")), unit),
            ("Agreed", Cell(self.signoff.sentence() if self.signoff else "not agreed yet"), ""),
            ("Marketing owner", Cell(self.sla.marketing_owner or "(not named)"), ""),
            ("Sales owner", Cell(self.sla.sales_owner or "(not named)"), ""),
            ("Chance we hit the number", Cell(r.p_hit, "percent"), ""),
            ("Chance marketing hits its share", Cell(r.owners["marketing"].p_hit, "percent"), ""),
            ("Chance sales hits its share", Cell(r.owners["sales"].p_hit, "percent"), ""),
            ("Expected outcome", self.amount(r.total.mean), unit),
            ("Expected outcome, low end (P10)", self.amount(r.total.p10), unit),
            ("Expected outcome, high end (P90)", self.amount(r.total.p90), unit),
        ]
        for o in OWNERS:
            op = self.plan.owners[o]
            stage = op.first_stage or "first-stage leads"
            items += [
                (f"{o.capitalize()} commits", amount(op.committed_volume), stage),
                (
                    f"{o.capitalize()} needs, to be {DOC_CONFIDENCE:.0%} sure",
                    amount(op.needed_volume_at_confidence),
                    stage,
                ),
            ]
        return items

    def summary_rows(self) -> list[tuple[str, str]]:
        """The Summary as text (Markdown, HTML)."""
        return [
            (item, f"{cell.text()} {unit}".strip()) for item, cell, unit in self.summary_items()
        ]

    def funnel_rows(self) -> list[dict[str, Cell]]:
        out = []
        for sp, source in zip(self.plan.sources, self.scenario.sources, strict=True):
            for st in sp.stages:
                out.append(
                    {
                        "Source": Cell(source.name),
                        "Owner": Cell(source.owner),
                        "Stage": Cell(st.stage),
                        "Committed (expected)": Cell(st.committed, "number"),
                        f"Needed to be {DOC_CONFIDENCE:.0%} sure": Cell(
                            st.needed_at_confidence, "number"
                        ),
                    }
                )
        return out

    def pacing_rows(self) -> list[dict[str, Cell]]:
        out = []
        for source in self.scenario.sources:
            counts = source.expected_counts()
            for week in range(1, WEEKS + 1):
                row = {"Source": Cell(source.name), "Week": Cell(week, "count")}
                for stage, c in zip(source.stages, counts, strict=True):
                    row[stage] = Cell(c * week / WEEKS, "number")
                out.append(row)
        return out

    def assumption_rows(self) -> list[dict[str, Cell]]:
        """Each assumption: its value, its law, and for an uncertain rate the evidence and the
        80% range, each in a column of its own."""
        out: list[dict[str, Cell]] = []
        for source in self.scenario.sources:
            v = source.volume
            law = {"fixed": "exact", "poisson": "Poisson", "negbin": "negative binomial"}
            out.append(
                {
                    "Source": Cell(source.name),
                    "Owner": Cell(source.owner),
                    "Assumption": Cell(f"{source.stages[0]} volume"),
                    "Value": amount(v.mean),
                    "Uncertainty": Cell(law[v.dist]),
                    "CV": Cell(v.cv, "number"),
                }
            )
            for label, rate in zip(source.step_labels(), source.rates, strict=True):
                lo, hi = rate.interval(0.8)
                out.append(
                    {
                        "Source": Cell(source.name),
                        "Owner": Cell(source.owner),
                        "Assumption": Cell(f"{label} rate"),
                        "Value": Cell(rate.mean, "percent"),
                        "Uncertainty": Cell("uncertain" if rate.uncertain else "known exactly"),
                        "Leads seen": Cell(rate.n, "count"),
                        "80% range, low": Cell(lo if rate.uncertain else None, "percent"),
                        "80% range, high": Cell(hi if rate.uncertain else None, "percent"),
                    }
                )
        deal = self.scenario.deal_size
        if self.scenario.metric == "bookings" and deal is not None:
            out.append(
                {
                    "Source": Cell("all"),
                    "Owner": Cell("sales"),
                    "Assumption": Cell("Deal size"),
                    "Value": Cell(deal.mean, "money"),
                    "Uncertainty": Cell("gamma"),
                    "CV": Cell(deal.cv, "number"),
                }
            )
        return out

    def sheets(self) -> dict[str, list[dict[str, Cell]]]:
        """The spreadsheet's model: sheet name -> rows of typed cells (export_xlsx writes it)."""
        return {
            "Summary": [
                {"Item": Cell(item), "Value": cell, "Unit": Cell(unit)}
                for item, cell, unit in self.summary_items()
            ],
            "Funnel targets": self.funnel_rows(),
            "Weekly pacing": self.pacing_rows(),
            "Assumptions": self.assumption_rows(),
        }


def team_rows(doc: PlanDocument) -> list[dict[str, Cell]]:
    """The team, one row per person or cohort (the Team sheet and table)."""
    team = doc.scenario.team
    if team is None or doc.team is None:
        return []
    stage = doc.team.sourced.stage if doc.team.sourced is not None else "lead"
    first = doc.team.weeks[0]
    return [
        {
            "Name": Cell(m.name),
            "Role": Cell(ROLE_NAMES[m.role]),
            "People": Cell(m.people, "count"),
            "Start": Cell(m.start),
            "Planned hire": Cell("yes" if m.start_date >= first else "no"),
            "Ramp weeks": amount(m.ramp_weeks),
            "Productivity": amount(m.productivity),
            "Productivity is": Cell(
                f"{stage}s per week each, ramped"
                if m.role == "sdr"
                else "opportunities carried per quarter each"
            ),
        }
        for m in team.members
    ]


def hiring_rows(doc: PlanDocument) -> list[dict[str, Cell]]:
    """The hiring plan by week: people, ramped equivalents, what they book and can follow up."""
    r = doc.team
    if r is None:
        return []
    stage = r.sourced.stage if r.sourced is not None else "lead"
    rows = []
    for i, week in enumerate(r.weeks):
        row = {
            "Week": Cell(i + 1, "count"),
            "Starts": Cell(week.isoformat()),
            "SDRs on the team": Cell(r.sdr_people[i], "number"),
            "SDRs ramped": Cell(r.sdr_ramped[i], "number"),
            "AEs on the team": Cell(r.ae_people[i], "number"),
            "AEs ramped": Cell(r.ae_ramped[i], "number"),
            f"{stage}s booked (expected)": Cell(r.sourced_by_week[i], "number"),
        }
        if r.follow_up is not None:
            row["Follow-up touches owed"] = Cell(r.follow_up.owed_by_week[i], "number")
            row["Follow-up touches possible"] = Cell(r.follow_up.capacity_by_week[i], "number")
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


def team_sheets(doc: PlanDocument) -> dict[str, list[dict[str, Cell]]]:
    """The spreadsheet's team sheets (none without a team)."""
    if doc.team is None:
        return {}
    sheets = {
        "Team": team_rows(doc),
        "Hiring plan": hiring_rows(doc),
        "Team findings": [{"Finding": Cell(t)} for t in team_findings(doc)],
    }
    return {name: rows for name, rows in sheets.items() if rows}


def _team_markdown(doc: PlanDocument) -> list[str]:
    if doc.team is None:
        return []
    lines = ["", "## The team and the hiring plan", ""]
    lines += [f"- {_md(t)}" for t in team_findings(doc)]
    for rows in (team_rows(doc), hiring_rows(doc)):
        if rows:
            head = list(rows[0])
            lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(_md(_shown(r[h])) for h in head) + " |" for r in rows]
    return lines


def _team_html(doc: PlanDocument) -> str:
    if doc.team is None:
        return ""
    import plotly.io as pio

    from .team_charts import follow_up_chart, hiring_chart

    static = {"displayModeBar": False, "staticPlot": True}
    findings = "".join(f"<li>{html.escape(t)}</li>" for t in team_findings(doc))
    members = _table(team_rows(doc)) if team_rows(doc) else "<p>No people in the team yet.</p>"
    charts = [hiring_chart(doc.team)]
    if doc.team.follow_up is not None:
        charts.append(follow_up_chart(doc.team))
    shown = "".join(
        f'<div class="chart">'
        f"{pio.to_html(c, include_plotlyjs=False, full_html=False, config=static)}</div>"
        for c in charts
    )
    return (
        f"<h2>The team and the hiring plan</h2><ul>{findings}</ul>{members}{shown}"
        f"{_table(hiring_rows(doc))}"
    )


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
    lines += ["| " + " | ".join(_md(_shown(r[h])) for h in head) + " |" for r in rows]
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


def _shown(cell: Cell) -> str:
    """A table cell as text: blank when there is no value."""
    return "" if cell.value is None else cell.text()


def _table(rows: list[dict[str, Cell]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in rows[0])
    body = ""
    for r in rows:
        cells = ""
        for c in r.values():
            num = c.kind != "text"
            cells += f"<td{' class=num' if num else ''}>{html.escape(_shown(c))}</td>"
        body += f"<tr>{cells}</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def export_html(doc: PlanDocument) -> bytes:
    """One self-contained, printable page; Plotly is embedded so it works offline."""
    import plotly.io as pio

    from .assumption_charts import tornado_chart
    from .charts import funnel_chart, outcome_chart

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
    """The sheets of `doc.sheets()`: numbers as numbers with their format (percentages as
    fractions, counts as whole numbers, money as currency), text as strings that never start
    a formula; bold frozen header rows, widths from the content."""
    import xlsxwriter

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
    formats = {kind: wb.add_format({"num_format": f}) for kind, f in NUM_FORMATS.items()}
    for name, rows in (doc.sheets() | team_sheets(doc)).items():
        ws = wb.add_worksheet(name)
        headers = list(dict.fromkeys(h for r in rows for h in r))  # union, first-seen order
        for c, h in enumerate(headers):
            ws.write_string(0, c, h, bold)
            shown = (_shown(r[h]) for r in rows if h in r)
            ws.set_column(c, c, min(max(len(h), *(len(t) for t in shown)) + 2, 60))
        for r, row in enumerate(rows, start=1):
            for c, h in enumerate(headers):
                cell = row.get(h, Cell(None))
                if cell.value is None:
                    ws.write_blank(r, c, None)
                elif cell.kind == "text" or isinstance(cell.value, str):
                    ws.write_string(r, c, str(safe_cell(str(cell.value))))
                else:
                    value = round(cell.value) if cell.kind == "count" else cell.value
                    ws.write_number(r, c, value, formats[cell.kind])
        ws.freeze_panes(1, 0)
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
