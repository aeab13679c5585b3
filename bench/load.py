"""Load benchmark: N leaders editing the Plan page at once against one server, every move saved.

Run from the repository root:
    .venv/bin/python bench/load.py [--sessions 20] [--seconds 60] [--port 8599] [--think 0.4]

Starts the app as the product does (`python -m ui.serve`) on a fresh SQLite store in a temporary
folder, then opens N Streamlit websocket clients at once. Each speaks the browser's protocol on
/_stcore/stream (BackMsg `rerun_script` with the query string and widget states; ForwardMsgs
until `script_finished`): it loads the Plan page, then for --seconds moves one slider (by default
"MQL → SQL rate" of the first source) to a new value, waits for the page to finish, pauses
about --think seconds (0.5-1.5x at random, seeded) and moves it again. Every move makes the page
recompute the chance of hitting the number and autosave a new version (the first move creates
the session's scenario and its `?scenario=` link, which the client then sends back like the
browser's address bar). Only the widgets it moved are in its widget states; the others keep
their values in the session, as they do for a browser that has not touched them.

Slider latency: from sending the rerun to `script_finished`, i.e. the server's whole rerun with
every delta received (simulation, plan, charts, autosave, ~60 elements); no browser rendering.
"Headline" is the same clock stopped at the "Chance we hit the number" delta.

Errors: an exception element, an error or warning message on the page (a stale-save conflict
shows "Not saved"), a run that ends other than successfully, no `script_finished` within 10 s,
or a closed websocket. Afterwards the store is opened directly (sim.store.Store, same URL) and
every session's scenario must hold exactly one version per successful move, numbered 1..n
without gaps, with the values sent in the order sent and the session's author name.

The server runs exactly as scripts/run starts it; .streamlit/config.toml turns Streamlit's file
watcher off (--watch-files turns it on: in a checkout being edited, a save during the run makes
Streamlit unload the app's modules and 20 sessions re-import them at once; seen here before the
watcher was off: "KeyError: 'sim.sla'" in one session, and every session waited ~10 s).

Prints a table; asserts nothing about time. Exits 1 on any error or lost or wrong version.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.store import Store
from ui.editor import bindings

TIMEOUT_S = 10.0  # a rerun slower than this counts as an error
GIVE_UP_S = 120.0  # ... and after this the session stops waiting for it
HEADLINE = "Chance we hit the number"
AUTHOR_KEY = "author"
ERROR, WARNING = 1, 2  # streamlit.proto.Alert_pb2.Alert.Format
FINISHED_SUCCESSFULLY = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")


@dataclass
class Run:
    """What one rerun produced, as a client sees it."""

    total_s: float = float("nan")
    headline_s: float = float("nan")
    finished: bool = False
    status_ok: bool = True
    exceptions: list[str] = field(default_factory=list)
    alerts: list[tuple[int, str]] = field(default_factory=list)
    widgets: dict[str, tuple[str, object]] = field(default_factory=dict)  # key -> (id, proto)


@dataclass
class Session:
    index: int
    author: str
    query_string: str = ""
    page_hash: str = ""
    widget_id: str = ""
    author_id: str = ""
    value: int = 0
    low: int = 0
    high: int = 100
    load_s: float = float("nan")
    sent: list[int] = field(default_factory=list)  # values the app should have saved, in order
    unsure: set[int] = field(default_factory=set)  # indexes in `sent` of runs that raised
    pending: int | None = None  # a move whose outcome is unknown (gave up or connection lost)
    latencies: list[float] = field(default_factory=list)
    headlines: list[float] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail)
    reruns: int = 0

    @property
    def scenario_id(self) -> str | None:
        return parse_qs(self.query_string).get("scenario", [None])[0]


def widget_key(widget_id: str) -> str:
    """'$$ID-<hash>-plan_s0_rate0' -> 'plan_s0_rate0' (Streamlit's id for a keyed widget)."""
    return widget_id.split("-", 2)[2] if widget_id.startswith("$$ID-") else widget_id


async def rerun(ws, s: Session, states: dict[str, object], timeout: float) -> Run:
    """Send one rerun_script as the browser does and read ForwardMsgs until script_finished."""
    back = BackMsg()
    cs = back.rerun_script
    cs.query_string = s.query_string
    cs.page_script_hash = s.page_hash
    cs.context_info.timezone = "UTC"
    cs.context_info.locale = "en-US"
    for wid, value in states.items():
        w = cs.widget_states.widgets.add()
        w.id = wid
        if isinstance(value, str):
            w.string_value = value
        else:
            w.double_array_value.data.append(float(value))  # what the frontend slider sends
    run = Run()
    t0 = time.perf_counter()
    await ws.send(back.SerializeToString())
    while True:
        left = t0 + timeout - time.perf_counter()
        raw = await asyncio.wait_for(ws.recv(), timeout=max(left, 0.001))
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            el = msg.delta.new_element
            etype = el.WhichOneof("type")
            proto = getattr(el, etype)
            if etype == "exception":
                run.exceptions.append(f"{proto.type}: {proto.message}")
            elif etype == "alert" and proto.format in (ERROR, WARNING):
                run.alerts.append((proto.format, proto.body))
            elif etype == "metric" and proto.label == HEADLINE and math.isnan(run.headline_s):
                run.headline_s = time.perf_counter() - t0
            wid = getattr(proto, "id", "") if etype not in ("markdown", "metric") else ""
            if wid:
                run.widgets[widget_key(wid)] = (wid, proto)
        elif kind == "new_session":
            s.page_hash = msg.new_session.page_script_hash
        elif kind == "page_info_changed":
            s.query_string = msg.page_info_changed.query_string
        elif kind == "script_finished":
            run.total_s = time.perf_counter() - t0
            run.finished = True
            run.status_ok = msg.script_finished == FINISHED_SUCCESSFULLY
            return run


def record_problems(s: Session, run: Run) -> bool:
    """Count what went wrong in a run as errors; True if the run was clean."""
    before = len(s.errors)
    for text in run.exceptions:
        s.errors.append(("exception", text))
    for fmt, body in run.alerts:
        kind = (
            "stale-save conflict"
            if "Not saved" in body
            else ("error message" if fmt == ERROR else "warning")
        )
        s.errors.append((kind, body[:160]))
    if not run.status_ok:
        s.errors.append(("run not finished successfully", ""))
    if run.total_s > TIMEOUT_S:
        s.errors.append(("timeout", f"{run.total_s:.1f} s"))
    return len(s.errors) == before


def next_value(s: Session, k: int) -> int:
    """A new slider value near the start, never the one on screen, spread across sessions."""
    span = list(range(max(s.low, s.value - 20), min(s.high, s.value + 20) + 1))
    v = span[(k * 7 + s.index * 3) % len(span)]
    prev = s.sent[-1] if s.sent else s.value
    return v if v != prev else span[(span.index(v) + 1) % len(span)]


def slider_value(proto: object) -> int:
    values = list(proto.value) if proto.set_value and proto.value else list(proto.default)
    return round(values[0])


async def session_main(
    s: Session, url: str, key: str, start: asyncio.Event, loaded: asyncio.Queue, args
) -> None:
    try:
        async with websockets.connect(
            url,
            subprotocols=["streamlit"],
            origin=f"http://localhost:{args.port}",
            max_size=None,
            open_timeout=30,
        ) as ws:
            try:
                run = await rerun(ws, s, {}, GIVE_UP_S)  # the page loads (first render)
            except TimeoutError:
                s.errors.append(("timeout", "page load"))
                return
            s.load_s = run.total_s
            record_problems(s, run)
            if key not in run.widgets or AUTHOR_KEY not in run.widgets:
                s.errors.append(("widget missing", key))
                return
            s.widget_id, proto = run.widgets[key]
            s.value, s.low, s.high = slider_value(proto), round(proto.min), round(proto.max)
            s.author_id = run.widgets[AUTHOR_KEY][0]
            await loaded.put(s.index)
            await start.wait()
            deadline = time.perf_counter() + args.seconds
            # Leaders do not move in step: each starts within one pause of the window opening
            # and pauses 0.5-1.5 times --think between moves (seeded, so runs repeat).
            rng = random.Random(s.index)
            await asyncio.sleep(rng.uniform(0, args.think))
            k = 0
            while time.perf_counter() < deadline:
                value = next_value(s, k)
                k += 1
                s.pending = value
                try:
                    run = await rerun(ws, s, {s.author_id: s.author, s.widget_id: value}, GIVE_UP_S)
                except TimeoutError:
                    s.errors.append(("timeout", f"no script_finished in {GIVE_UP_S:.0f} s"))
                    return
                s.reruns += 1
                s.latencies.append(run.total_s)
                if not math.isnan(run.headline_s):
                    s.headlines.append(run.headline_s)
                clean = record_problems(s, run)
                if run.status_ok and not any("Not saved" in b for _, b in run.alerts):
                    if run.exceptions:  # saved or not depends on where it raised
                        s.unsure.add(len(s.sent))
                    s.sent.append(value)
                s.pending = None
                if not clean and args.stop_on_error:
                    return
                await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))
    except websockets.ConnectionClosed as exc:
        s.errors.append(("websocket closed", str(exc)[:160]))
    except OSError as exc:
        s.errors.append(("connection failed", str(exc)[:160]))


async def drive(sessions: list[Session], args, key: str, pid: int) -> tuple[float, list[float]]:
    """Run the sessions; the window's length and CPU seconds used in it (server, this client,
    the whole machine)."""
    url = f"ws://localhost:{args.port}/_stcore/stream"
    start, loaded = asyncio.Event(), asyncio.Queue()
    tasks = [asyncio.create_task(session_main(s, url, key, start, loaded, args)) for s in sessions]
    # The window opens when every session has its page (or has failed to get it).
    while loaded.qsize() + sum(t.done() for t in tasks) < len(tasks):
        await asyncio.sleep(0.05)
    t0 = time.perf_counter()
    cpu0 = (cpu_seconds(pid), time.process_time(), machine_busy_seconds())
    start.set()
    await asyncio.gather(*tasks)
    cpu1 = (cpu_seconds(pid), time.process_time(), machine_busy_seconds())
    return time.perf_counter() - t0, [b - a for a, b in zip(cpu0, cpu1, strict=True)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), or nan elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def machine_busy_seconds() -> float:
    """CPU seconds all processes spent busy since boot (Linux /proc/stat), or nan elsewhere."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return (sum(ticks[:3]) + sum(ticks[5:8])) / os.sysconf("SC_CLK_TCK")  # not idle, iowait
    except (OSError, ValueError):
        return float("nan")


def start_server(port: int, db_url: str, log: Path, watch_files: bool) -> subprocess.Popen:
    health = f"http://localhost:{port}/_stcore/health"
    try:
        urllib.request.urlopen(health, timeout=1)
    except OSError:
        pass
    else:
        sys.exit(f"error: something already answers on port {port}; pick another with --port")
    env = {**os.environ, "PACT_DATABASE_URL": db_url}
    command = [sys.executable, "-m", "ui.serve", "--server.port", str(port)]
    command += ["--server.headless", "true"]
    if watch_files:
        command += ["--server.fileWatcherType", "auto"]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    t = time.perf_counter()
    while time.perf_counter() - t < 90:
        if proc.poll() is not None:
            sys.exit(f"error: the server exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(health, timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    sys.exit("error: the server did not answer /_stcore/health within 90 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Check:
    expected: int = 0
    found: int = 0
    lost: int = 0
    extra: int = 0
    wrong: list[str] = field(default_factory=list)


def check_store(db_url: str, sessions: list[Session], key: str) -> tuple[Check, int]:
    """Every session's scenario holds exactly the moves it saw succeed, in order, numbered 1..n."""
    store = Store(db_url)
    check = Check()
    for s in sessions:
        check.expected += len(s.sent)
        sid = s.scenario_id
        if sid is None:
            check.lost += len(s.sent)
            if s.sent:
                check.wrong.append(
                    f"session {s.index}: no ?scenario= link after {len(s.sent)} saves"
                )
            continue
        versions = store.versions(sid)
        check.found += len(versions)
        numbers = [v.number for v in versions]
        if numbers != list(range(1, len(numbers) + 1)):
            check.wrong.append(f"session {s.index}: version numbers not 1..n: {numbers[:12]}...")
        if any(v.author != s.author for v in versions):
            check.wrong.append(f"session {s.index}: a version has another author")
        stored = []
        for v in versions:
            scenario, _ = store.load(sid, v.number)
            data, b = scenario.to_dict(), next(b for b in bindings(scenario) if b.key == key)
            value = data
            for part in b.path:
                value = value[part]
            stored.append(b.to_widget(value))
        sent = list(s.sent)
        unsure = set(s.unsure)
        if s.pending is not None:  # the move in flight when the session stopped
            unsure.add(len(sent))
            sent.append(s.pending)
        # A run that raised may or may not have saved; consecutive values always differ, so
        # the stored sequence tells which.
        kept = []
        for n, v in enumerate(sent):
            if n in unsure and (len(kept) >= len(stored) or stored[len(kept)] != v):
                continue
            kept.append(v)
        check.expected += len(kept) - len(s.sent)
        sent = kept
        common = min(len(stored), len(sent))
        bad = [n + 1 for n in range(common) if stored[n] != sent[n]]
        if bad:
            check.wrong.append(f"session {s.index}: versions {bad[:8]} hold other values")
        check.lost += max(0, len(sent) - len(stored))
        check.extra += max(0, len(stored) - len(sent))
    listed = len(store.scenarios())
    store.engine.dispose()
    return check, listed


def ms(values: list[float], q: float | None = None) -> str:
    if not values:
        return "-"
    a = np.array(values) * 1000
    return f"{(np.median(a) if q is None else np.percentile(a, q)):.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--port", type=int, default=8599)
    parser.add_argument(
        "--think",
        type=float,
        default=0.4,
        help="mean pause between a finished rerun and the next move, s (bench/core.py: 0.4)",
    )
    parser.add_argument("--widget", default="plan_s0_rate0", help="key of the slider moved")
    parser.add_argument("--stop-on-error", action="store_true")
    parser.add_argument(
        "--watch-files",
        action="store_true",
        help="turn Streamlit's file watcher on (scripts/run has it off; see the docstring)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the store and server log")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pact-load-"))
    db_url = f"sqlite:///{tmp / 'pact.db'}"
    log = tmp / "server.log"
    sessions = [Session(i, f"load-{i:02d}") for i in range(args.sessions)]
    t = time.perf_counter()
    proc = start_server(args.port, db_url, log, args.watch_files)
    up = time.perf_counter() - t
    try:
        window, (server_cpu, client_cpu, all_cpu) = asyncio.run(
            drive(sessions, args, args.widget, proc.pid)
        )
    finally:
        stop_server(proc)
    check, listed = check_store(db_url, sessions, args.widget)
    server_log = log.read_text(errors="replace")
    log_errors = sum(
        line.startswith("Traceback") or " ERROR " in line or "Exception" in line
        for line in server_log.splitlines()
    )

    lat = [x for s in sessions for x in s.latencies]
    head = [x for s in sessions for x in s.headlines]
    loads = [s.load_s for s in sessions if not math.isnan(s.load_s)]
    errors = [e for s in sessions for e in s.errors]
    kinds: dict[str, int] = {}
    for kind, _ in errors:
        kinds[kind] = kinds.get(kind, 0) + 1
    reruns = sum(s.reruns for s in sessions)
    per_session = [s.reruns for s in sessions]

    import streamlit

    print(
        f"Load: {args.sessions} sessions x {args.seconds:g} s, think {args.think:g} s, "
        f"slider {args.widget!r}; machine: {os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()}, Streamlit {streamlit.__version__}, SQLite store"
    )
    rows = [
        ("server up (start to /_stcore/health)", f"{up:.1f} s"),
        ("sessions", f"{args.sessions}"),
        ("seconds (window, all sessions moving)", f"{window:.1f}"),
        (
            "page load (first render), median / p95 / max",
            f"{ms(loads)} / {ms(loads, 95)} / {ms(loads, 100)} ms",
        ),
        ("reruns total", f"{reruns}"),
        ("reruns/s", f"{reruns / window:.1f}" if window else "-"),
        (
            "reruns per session, min / max",
            f"{min(per_session, default=0)} / {max(per_session, default=0)}",
        ),
        ("slider latency, median / p95 / max", f"{ms(lat)} / {ms(lat, 95)} / {ms(lat, 100)} ms"),
        ("slider to headline delta, median / p95", f"{ms(head)} / {ms(head, 95)} ms"),
        (
            "server CPU (cores busy over the run)",
            f"{server_cpu / window:.2f}" if window else "-",
        ),
        ("load client CPU (cores busy)", f"{client_cpu / window:.2f}" if window else "-"),
        (
            "everything else on the machine (cores busy)",
            f"{(all_cpu - server_cpu - client_cpu) / window:.2f}" if window else "-",
        ),
        (
            "errors",
            f"{len(errors)}"
            + (f" ({', '.join(f'{k}: {n}' for k, n in kinds.items())})" if kinds else ""),
        ),
        ("server log: tracebacks / ERROR lines", f"{log_errors}"),
        ("versions expected / found", f"{check.expected} / {check.found}"),
        ("lost versions", f"{check.lost}"),
        ("extra or wrong versions", f"{check.extra + len(check.wrong)}"),
        ("scenarios in the store", f"{listed} (one per session expected)"),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    for s in sessions:
        for kind, detail in s.errors[:3]:
            print(f"  session {s.index}: {kind}: {detail}")
    for line in check.wrong[:20]:
        print(f"  store: {line}")
    if args.keep or errors or log_errors:
        print(f"  store and server log kept in {tmp}")
    else:
        shutil.rmtree(tmp)
    ok = not errors and not check.lost and not check.wrong and not check.extra
    ok = ok and listed == sum(s.scenario_id is not None for s in sessions)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
