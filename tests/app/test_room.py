"""The live room on the Plan page (ui/room.py): who is here, what changed last, the projector
follows read-only and takes the wheel, invite links."""

from __future__ import annotations

import time
from urllib.parse import quote

from app_helpers import ROOT, run_page
from streamlit.testing.v1 import AppTest


def captions(at: AppTest) -> str:
    """The captions as a leader reads them (markdown escapes removed)."""
    return " | ".join(c.value for c in at.caption).replace("\\", "")


def link_of(at: AppTest) -> str:
    sid = at.query_params["scenario"]
    return sid[0] if isinstance(sid, list) else sid


def open_link(sid: str, author: str | None = None, *, follow: bool = False) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["scenario"] = sid
    if follow:
        at.query_params["follow"] = "1"
    at.run()
    assert not at.exception, at.exception
    if author:
        at.text_input(key="author").set_value(author).run()
    return at


def test_a_plan_is_shared_from_its_first_change() -> None:
    at = run_page()
    assert "Not shared yet" in captions(at)
    at.slider(key="plan_s0_rate0").set_value(70).run()
    assert "Live" in captions(at)
    assert "nobody else here yet" in captions(at)
    code = " ".join(c.value for c in at.code)
    sid = link_of(at)
    assert f"?scenario={sid}" in code  # the invite for another leader
    assert f"?scenario={sid}&follow=1" in code  # ... and for the projector


def test_who_is_here_and_what_changed_last() -> None:
    maya = run_page()
    maya.text_input(key="author").set_value("Maya").run()
    maya.slider(key="plan_s0_rate0").set_value(70).run()
    sam = open_link(link_of(maya), "Sam")
    sam.slider(key="plan_marketing_share").set_value(40).run()
    projector = open_link(link_of(maya), follow=True)
    maya.run()
    line = captions(maya)
    assert "with Sam, someone (following)" in line
    assert "last change: Sam: Marketing's share 50% → 40%" in line
    assert maya.slider(key="plan_marketing_share").value == 40  # caught up
    assert "with Maya, Sam" in captions(projector)


def test_the_projector_follows_read_only_and_can_take_the_wheel() -> None:
    maya = run_page()
    maya.slider(key="plan_s0_rate0").set_value(70).run()
    projector = open_link(link_of(maya), follow=True)
    assert projector.toggle(key="presentation").value is True
    assert not [s for s in projector.slider if s.key == "plan_s0_rate0"]  # nothing to edit
    assert "Following the room" in captions(projector)
    maya.slider(key="plan_s0_rate0").set_value(80).run()
    projector.run()  # its live bar found the new version
    follow_hit = next(m.value for m in projector.metric if m.label == "Chance we hit the number")
    assert follow_hit == next(m.value for m in maya.metric if m.label == "Chance we hit the number")
    next(b for b in projector.button if b.label == "Take the wheel").click().run()
    assert projector.toggle(key="presentation").value is False
    assert projector.slider(key="plan_s0_rate0").value == 80
    projector.slider(key="plan_s0_rate0").set_value(82).run()  # the former projector edits
    maya.run()
    assert maya.slider(key="plan_s0_rate0").value == 82


def test_a_catch_up_leaves_open_clock_and_team_fields_as_the_leader_has_them() -> None:
    """Another leader's slider move reaches a screen whose clock and team editors are open:
    their fields are not written again (a field the leader is typing in keeps what is typed;
    the browser takes a written value over it)."""
    maya = run_page()
    maya.text_input(key="author").set_value("Maya").run()
    team_file = ROOT / "examples" / "team-plan.json"
    maya.file_uploader(key="plan_upload").set_value(
        ("team-plan.json", team_file.read_bytes(), "application/json")
    ).run()
    maya.toggle(key="plan_time_edit").set_value(True).run()
    maya.toggle(key="plan_team_edit").set_value(True).run()
    table = maya.session_state["plan_team_table_key"]
    sam = open_link(link_of(maya), "Sam")
    sam.slider(key="plan_marketing_share").set_value(40).run()
    maya.run()  # her live bar found Sam's version
    assert maya.slider(key="plan_marketing_share").value == 40  # caught up
    for key in ("plan_time_weeks", "plan_team_pace_cv"):
        assert not maya.number_input(key=key).proto.set_value, key
    assert maya.session_state["plan_team_table_key"] == table  # the same table, not a new one


# ---- the SLA page: one form, several leaders ------------------------------------------------
def open_terms(at: AppTest) -> AppTest:
    at.switch_page("pages/2_SLA.py").run()
    assert not at.exception, at.exception
    return at


def apply_terms(at: AppTest, **fields: object) -> AppTest:
    for key, value in fields.items():
        at.number_input(key=f"sla_{key}").set_value(value)
    next(b for b in at.button if b.label == "Apply to the plan").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def follow_up(at: AppTest) -> tuple[int, int]:
    fu = at.session_state["scenario"].sla.follow_up
    return fu.first_touch_hours, fu.min_attempts


def test_terms_applied_from_an_older_form_keep_what_another_leader_applied() -> None:
    maya = run_page()
    maya.text_input(key="author").set_value("Maya").run()
    maya.slider(key="plan_s0_rate0").set_value(70).run()
    sam = open_link(link_of(maya), "Sam")
    open_terms(maya)
    open_terms(sam)
    apply_terms(maya, first_touch=2)  # the plan's first terms (all of them)
    apply_terms(sam, attempts=9)  # his form still shows the 4 h first touch
    assert follow_up(sam) == (2, 9)  # Maya's first touch stayed, and his attempts landed
    assert not sam.warning  # the plan still held the 6 attempts his form showed: no clash
    assert sam.number_input(key="sla_first_touch").value == 2  # his form shows it now
    apply_terms(maya, attempts=5)  # her form shows 6 attempts: a clash with Sam's 9
    assert follow_up(maya) == (2, 5)  # the later apply wins ...
    notice = " ".join(w.value for w in maya.warning).replace("\\", "")
    assert "You changed Attempts per MQL to 5, replacing Sam's 9" in notice  # ... names it
    sam.run()  # Sam's screen: the latest terms below his form, which keeps what he sees
    assert any("At least 5 attempts" in m.value for m in sam.markdown)
    assert any("Someone applied other terms" in i.value for i in sam.info)
    assert sam.number_input(key="sla_attempts").value == 9
    assert "Live" in captions(sam)
    next(b for b in maya.button if b.label == "Put back Sam's 9").click().run()
    assert follow_up(maya) == (2, 9)
    assert maya.number_input(key="sla_attempts").value == 9


# ---- the head route the browser asks (asgi.py) -----------------------------------------------
def ask_head(query: str) -> tuple[int, dict]:
    """`GET /_pact/head?<query>` through the route ui.serve mounts, as the browser sends it."""
    import asyncio
    import json
    from concurrent.futures import ThreadPoolExecutor

    from starlette.applications import Starlette

    from ui.room import head_route

    app = Starlette(routes=[head_route()])
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/_pact/head",
        "raw_path": b"/_pact/head",
        "query_string": query.encode(),
        "headers": [],
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1234),
        "root_path": "",
        "http_version": "1.1",
    }
    # In a thread of its own: a browser test earlier in this process may hold an event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert headers["cache-control"] == "no-store"  # every question reaches the server
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body)


def test_the_head_route_answers_the_latest_version_without_a_script_run() -> None:
    maya = run_page()
    maya.slider(key="plan_s0_rate0").set_value(70).run()
    sid = link_of(maya)
    assert ask_head(f"scenario={sid}") == (200, {"head": 1})
    maya.slider(key="plan_s0_rate1").set_value(40).run()
    maya.slider(key="plan_marketing_share").set_value(40).run()
    assert ask_head(f"scenario={sid}") == (200, {"head": 3})  # this process's saves, at once
    assert ask_head("scenario=0123456789ab") == (200, {"head": None})  # no such scenario


def test_the_head_route_names_a_bad_scenario_id() -> None:
    for query in ("", "scenario=", "scenario=../../etc", "scenario=" + "a" * 13, "x=1"):
        status, body = ask_head(query)
        assert status == 400
        assert body["error"].startswith("scenario:")


def test_the_head_route_answers_the_proposals_beside_and_the_agreed_plan() -> None:
    """Compare's proposals beside the scenario, and the quarter's agreed plan (which adds no
    version), are asked in the same question, so they reach an idle screen as fast as a move."""
    from ui.storage import _open, default_url

    maya = run_page()
    maya.slider(key="plan_s0_rate0").set_value(70).run()
    sid = link_of(maya)
    store = _open(default_url())
    other = store.duplicate(sid, "Sam", "Sam's proposal").scenario_id
    quarter = store.load(sid)[0].quarter
    status, news = ask_head(f"scenario={sid}&also={other}&quarter={quarter}")
    assert (status, news["head"], news["also"]) == (200, 1, {other: 1})
    before = news["agreement"]
    agreement = store.agree(sid, 1, ["Maya", "Sam"])
    deadline = time.monotonic() + 5
    while news["agreement"] == before and time.monotonic() < deadline:
        time.sleep(0.02)
        news = ask_head(f"scenario={sid}&also={other}&quarter={quarter}")[1]
    assert news["agreement"] == agreement.id
    # Only a screen on an existing scenario learns more than the head.
    assert ask_head(f"scenario=0123456789ab&quarter={quarter}") == (200, {"head": None})


def test_the_head_route_names_a_bad_also_or_quarter() -> None:
    sid = "0123456789ab"
    for query, field in (
        (f"scenario={sid}&also=../x", "also:"),
        (f"scenario={sid}&also=" + ",".join([sid] * 9), "also:"),
        (f"scenario={sid}&quarter=2027-Q5", "quarter:"),
        (f"scenario={sid}&quarter=", "quarter:"),
        (f"scenario={sid}&quarter=" + quote("\u0662\u0660\u0662\u0667-Q1"), "quarter:"),  # ٢٠٢٧
    ):
        status, body = ask_head(query)
        assert status == 400, query
        assert body["error"].startswith(field), query
