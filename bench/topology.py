"""Load on the team-server topology (issue 14): N leaders editing the Plan page through nginx
on PostgreSQL, with one app replica and then two, every move saved.

Run from the repository root (as root or the owner of a PostgreSQL installation):
    .venv/bin/python bench/topology.py [--sessions 50] [--seconds 300] [--replicas 1,2]

For each replica count it starts scripts/cluster in a temporary folder (PostgreSQL, the replicas
started together, nginx with sticky sessions), then opens --sessions Streamlit websocket clients
through nginx, the same clients as bench/load.py (each loads the Plan page, then moves one slider
every --think seconds, 0.5-1.5x at random, for --seconds; nginx pins each websocket to one
replica). Measured in the same window, on the same machine:
- the empty page: a plain Streamlit server with one slider and one st.metric (and the name box
  the clients type into), driven by --empty-sessions clients the same way; the Plan page's slider
  -> headline p95 is reported as a ratio to this page's under the same load;
- saves: a probe process appending versions with sim.store.Store.save to the same PostgreSQL
  every 0.2 s (the save the app does on every move, timed alone);
- afterwards, bench/load.py's store check: every session's scenario holds exactly the moves it
  saw succeed (0 lost, 0 extra, in order); refused saves count as errors.
Prints a table per replica count; asserts nothing about time; exits 1 on any error or lost move.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import load

EMPTY_PAGE = """
import streamlit as st
st.text_input("Your name", key="author")
value = st.slider("Rate", 0, 100, 50, key="empty_rate")
st.metric("Chance we hit the number", f"{value}%")
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_cluster(folder: Path, replicas: int) -> tuple[dict[str, str], list[int], int]:
    ports = [free_port() for _ in range(replicas)]
    proxy = free_port()
    env = {
        **os.environ,
        "PACT_PROXY_PORT": str(proxy),
        "PACT_PROXY_ADDRESS": "127.0.0.1",
        "PACT_APP_PORTS": " ".join(map(str, ports)),
    }
    env.pop("PACT_DATABASE_URL", None)
    done = subprocess.run(
        [str(ROOT / "scripts" / "cluster"), "start", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        stop_cluster(folder, env)
        sys.exit(f"error: scripts/cluster start failed: {done.stderr.strip()[-800:]}")
    return env, ports, proxy


def stop_cluster(folder: Path, env: dict[str, str]) -> None:
    subprocess.run(
        [str(ROOT / "scripts" / "cluster"), "stop", str(folder)],
        env=env,
        capture_output=True,
        check=False,
    )


def start_empty_page(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    page = folder / "empty_page.py"
    page.write_text(EMPTY_PAGE)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(page), "--server.port", str(port)]
        + ["--server.headless", "true", "--server.fileWatcherType", "none"]
        + ["--browser.gatherUsageStats", "false", "--runner.postScriptGC", "false"],
        cwd=folder,
        stdout=(folder / "empty.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    load_health(port, proc)
    return proc, port


def load_health(port: int, proc: subprocess.Popen[bytes]) -> None:
    import urllib.request

    for _ in range(600):
        if proc.poll() is not None:
            sys.exit("error: the empty page server exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("error: the empty page server did not start")


SAVE_PROBE = """
import json, sys, threading, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from sim.models import load_scenario, parse_scenario
from sim.store import Store

store = Store(sys.argv[1])
data = load_scenario(Path(sys.argv[2]) / "examples" / "seed-sla.json").to_dict()
data["name"] = "Save probe"
variants = []
for k in range(2):
    data["sources"][0]["volume"]["mean"] = 160 + k
    variants.append(parse_scenario(data))
sid, head, times, errors = store.create(variants[0], "probe").scenario_id, 1, [], 0
print("ready", flush=True)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
while not stop.is_set():
    t0 = time.perf_counter()
    try:
        store.save(sid, variants[head % 2], "probe", based_on=head)
        head += 1
        times.append(time.perf_counter() - t0)
    except Exception:
        errors += 1
    stop.wait(max(0.0, 0.2 - (time.perf_counter() - t0)))
store.engine.dispose()
print(json.dumps({"times": times, "errors": errors}), flush=True)
"""


class SaveProbe:
    """A process of its own (not sharing the load client's interpreter) appending a version
    every 0.2 s to a probe scenario with Store.save and timing each save."""

    def __init__(self, url: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SAVE_PROBE, url, str(ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            sys.exit("error: the save probe did not start")
        self.times: list[float] = []
        self.errors = 0

    def finish(self) -> None:
        out, _ = self.proc.communicate("stop", timeout=60)
        result = json.loads(out.strip().splitlines()[-1])
        self.times, self.errors = result["times"], result["errors"]


async def drive(groups: list[tuple[list[load.Session], str, str, SimpleNamespace]]) -> float:
    start, loaded = asyncio.Event(), asyncio.Queue()
    tasks = [
        asyncio.create_task(load.session_main(s, url, key, start, loaded, args))
        for sessions, url, key, args in groups
        for s in sessions
    ]
    while loaded.qsize() + sum(t.done() for t in tasks) < len(tasks):
        await asyncio.sleep(0.05)
    t0 = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - t0


def one_run(replicas: int, args: argparse.Namespace) -> tuple[dict[str, str], bool]:
    folder = Path(tempfile.mkdtemp(prefix="pact-topo-"))
    folder.chmod(0o755)  # the cluster's PostgreSQL runs as "postgres" when we are root
    t = time.perf_counter()
    env, app_ports, proxy = start_cluster(folder, replicas)
    up = time.perf_counter() - t
    db_url = f"postgresql+psycopg://postgres@/pact?host={folder / 'postgres'}"
    empty_proc, empty_port = start_empty_page(folder)
    plan = [load.Session(i, f"load-{i:02d}") for i in range(args.sessions)]
    empty = [load.Session(1000 + i, f"empty-{i}") for i in range(args.empty_sessions)]
    common = {"seconds": args.seconds, "think": args.think, "stop_on_error": False}
    probe = SaveProbe(db_url)
    cpu = {p: load.cpu_seconds(p) for p in replica_pids(folder)}
    try:
        window = asyncio.run(
            drive(
                [
                    (
                        plan,
                        f"ws://localhost:{proxy}/_stcore/stream",
                        args.widget,
                        SimpleNamespace(port=proxy, **common),
                    ),
                    (
                        empty,
                        f"ws://localhost:{empty_port}/_stcore/stream",
                        "empty_rate",
                        SimpleNamespace(port=empty_port, **common),
                    ),
                ]
            )
        )
    finally:
        busy = sum(load.cpu_seconds(p) - c for p, c in cpu.items())
        probe.finish()
        empty_proc.terminate()
        empty_proc.wait()
    check, listed = load.check_store(db_url, plan, args.widget)
    log = (folder / "nginx" / "access.log").read_text()
    split = {
        port: len(re.findall(rf'"GET /_stcore/stream[^"]*" 101 upstream=127\.0\.0\.1:{port} ', log))
        for port in app_ports
    }
    stop_cluster(folder, env)
    app_logs = "".join((folder / f"app-{n}.log").read_text() for n in range(1, replicas + 1))
    tracebacks = app_logs.count("Traceback")

    lat = [x for s in plan for x in s.latencies]
    head = [x for s in plan for x in s.headlines]
    empty_head = [x for s in empty for x in s.headlines]
    errors = [e for s in plan + empty for e in s.errors]
    kinds: dict[str, int] = {}
    for kind, _ in errors:
        kinds[kind] = kinds.get(kind, 0) + 1
    reruns = sum(s.reruns for s in plan)
    p95 = load.ms(head, 95)
    empty_p95 = load.ms(empty_head, 95)
    ratio = (
        f"{float(p95) / float(empty_p95):.1f}x"
        if p95 != "-" and empty_p95 not in ("-", "0")
        else "-"
    )
    rows = {
        "cluster up (PostgreSQL, replicas, nginx)": f"{up:.1f} s",
        "websockets per replica (nginx log)": " / ".join(str(v) for v in split.values()),
        "window": f"{window:.0f} s",
        "reruns/s (Plan page, all replicas)": f"{reruns / window:.1f}" if window else "-",
        "slider latency median / p95": f"{load.ms(lat)} / {load.ms(lat, 95)} ms",
        "slider -> headline median / p95": f"{load.ms(head)} / {p95} ms",
        "empty page slider -> metric median / p95": f"{load.ms(empty_head)} / {empty_p95} ms",
        "headline p95 / empty page p95 (same load)": ratio,
        "save (Store.save probe) median / p95": f"{load.ms(probe.times)} / "
        f"{load.ms(probe.times, 95)} ms ({len(probe.times)} saves, {probe.errors} errors)",
        "replica CPU (cores busy)": f"{busy / window:.2f}" if window else "-",
        "errors": f"{len(errors)}"
        + (f" ({', '.join(f'{k}: {n}' for k, n in kinds.items())})" if kinds else ""),
        "replica log tracebacks": str(tracebacks),
        "versions expected / found": f"{check.expected} / {check.found}",
        "lost / extra or wrong versions": f"{check.lost} / {check.extra + len(check.wrong)}",
        "page load p95": f"{load.ms([s.load_s for s in plan if not math.isnan(s.load_s)], 95)} ms",
    }
    for s in plan + empty:
        for kind, detail in s.errors[:2]:
            print(f"  session {s.index}: {kind}: {detail}", file=sys.stderr)
    ok = not errors and not check.lost and not check.wrong and not check.extra and not tracebacks
    ok = ok and listed == sum(s.scenario_id is not None for s in plan) + 1  # + the probe's
    if ok and not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"  cluster folder kept: {folder}", file=sys.stderr)
    return rows, ok


def replica_pids(folder: Path) -> list[int]:
    return [int(p.read_text()) for p in sorted(folder.glob("app-*.pid"))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--replicas", default="1,2", help="replica counts to run, in order")
    parser.add_argument("--think", type=float, default=0.4)
    parser.add_argument("--empty-sessions", type=int, default=5)
    parser.add_argument("--widget", default="plan_s0_rate0")
    parser.add_argument("--keep", action="store_true", help="keep each run's cluster folder")
    args = parser.parse_args()
    results, all_ok = {}, True
    for n in [int(x) for x in args.replicas.split(",")]:
        print(f"running {n} replica(s)...", file=sys.stderr)
        results[n], ok = one_run(n, args)
        all_ok = all_ok and ok
    import platform

    import streamlit

    print(
        f"Topology load: {args.sessions} sessions through nginx on PostgreSQL, "
        f"{args.seconds:g} s, think {args.think:g} s, slider {args.widget!r}; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Streamlit {streamlit.__version__}"
    )
    labels = list(next(iter(results.values())))
    width = max(map(len, labels))
    print(f"  {'':<{width}}  " + "  ".join(f"{n} replica(s)" for n in results))
    for label in labels:
        print(f"  {label:<{width}}  " + "  |  ".join(results[n][label] for n in results))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
