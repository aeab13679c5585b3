"""Load on the team-server topology (issue 14): meeting rooms of leaders through nginx on
PostgreSQL, with one app replica and then two, every move saved.

Run from the repository root (as root or the owner of a PostgreSQL installation):
    .venv/bin/python bench/topology.py [--rooms 10] [--sessions 5] [--seconds 300] [--replicas 1,2]

For each replica count it starts scripts/cluster in a temporary folder (PostgreSQL, the replicas
started together, nginx with sticky sessions), then drives bench/load.py's clients through nginx:
--rooms rooms of --sessions leaders on one `?scenario=` link each (10 x 5 = 50 sessions), every
leader moving a slider of their own every --think seconds (0.5-1.5x at random) for --seconds, the
Plan body rerunning as a fragment, the live bar polled like the browser's timer (bench/load.py's
docstring has the details). nginx pins each websocket to a replica (no cookie: a random one), so
leaders of one room sit on different replicas. Measured in the same window, on the same machine:
- the empty reference page (bench/empty_page.py: one slider, one metric) on a Streamlit server of
  its own, driven by one client at the same pace; the Plan page's slider -> headline p95 is
  reported as a ratio to it;
- saves: a probe process appending versions with sim.store.Store.save to the same PostgreSQL
  every 0.2 s (the store's part of every move, timed alone);
- the follower lag (a move to the other screens of its room), and bench/load.py's store check
  afterwards: per room, every saved move once, in order, by its owner, no move undone; refused
  and lost moves are counted.
Prints a table per replica count; asserts nothing about time; exits 1 on any error, refused or
lost move.
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import load


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


def one_run(replicas: int, args: argparse.Namespace) -> tuple[dict[str, str], bool]:
    folder = Path(tempfile.mkdtemp(prefix="pact-topo-"))
    folder.chmod(0o755)  # the cluster's PostgreSQL runs as "postgres" when we are root
    busy_before = load.machine_busy_now()
    t = time.perf_counter()
    env, app_ports, proxy = start_cluster(folder, replicas)
    up = time.perf_counter() - t
    db_url = f"postgresql+psycopg://postgres@/pact?host={folder / 'postgres'}"
    ref_port = free_port()
    reference = [sys.executable, "-m", "streamlit", "run", str(ROOT / "bench" / "empty_page.py")]
    reference += ["--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    ref_log = folder / "reference.log"
    ref_proc = load.start_server(reference, ref_port, {}, ref_log)
    load.wait_healthy([(ref_proc, ref_port, ref_log)])
    rooms = [
        load.Room(
            r,
            [
                load.Session(r * args.sessions + j, r, j, f"load-r{r}-{j}", load.ROOM_KEYS[j], 0)
                for j in range(args.sessions)
            ],
        )
        for r in range(args.rooms)
    ]
    sessions = [s for room in rooms for s in room.sessions]
    ref = load.Session(len(sessions), -1, 0, "reference", load.REFERENCE_KEY, -1)
    bench_args = SimpleNamespace(
        seconds=args.seconds, think=args.think, drain=args.drain, stop_on_error=False
    )
    bench = load.Bench(
        bench_args,  # type: ignore[arg-type]
        [f"ws://localhost:{proxy}/_stcore/stream", f"ws://localhost:{ref_port}/_stcore/stream"],
    )
    pids = replica_pids(folder)
    probe = SaveProbe(db_url)
    try:
        window, cpu = asyncio.run(load.drive(rooms, ref, bench, [*pids, ref_proc.pid]))
    finally:
        probe.finish()
        load.stop_server(ref_proc)
    *replica_cpu, _ref_cpu, _client_cpu, all_cpu = cpu
    check, listed = load.check_store(db_url, rooms)
    lag = load.follower_lags(rooms, bench.deadline)
    log = (folder / "nginx" / "access.log").read_text()
    split = [
        len(re.findall(rf'"GET /_stcore/stream[^"]*" 101 upstream=127\.0\.0\.1:{port} ', log))
        for port in app_ports
    ]
    stop_cluster(folder, env)
    app_logs = "".join((folder / f"app-{n}.log").read_text() for n in range(1, replicas + 1))
    tracebacks = app_logs.count("Traceback")

    moves = [m for s in sessions for m in s.moves if m.in_window]
    polls = [p for s in sessions for p in s.polls]
    head = [m.headline_s for m in moves if not math.isnan(m.headline_s)]
    ref_head = [m.headline_s for m in ref.moves if not math.isnan(m.headline_s)]
    errors = [e for s in [*sessions, ref] for e in s.errors]
    kinds: dict[str, int] = {}
    for kind, _ in errors:
        kinds[kind] = kinds.get(kind, 0) + 1
    ratio = "-"
    if head and ref_head:
        ratio = f"{np.percentile(head, 95) / np.percentile(ref_head, 95):.1f}x"
    rows = {
        "machine busy before the run (other work), cores": f"{busy_before:.2f}",
        "cluster up (PostgreSQL, replicas, nginx)": f"{up:.1f} s",
        "sessions (websockets per replica, nginx log)": f"{len(sessions)} "
        f"({' / '.join(map(str, split))})",
        "window": f"{window:.0f} s",
        "moves/s / reruns/s (moves + live-bar polls)": f"{len(moves) / window:.1f} / "
        f"{(len(moves) + len(polls)) / window:.1f}",
        "move: slider -> headline, median / p95": f"{load.ms(head)} / {load.ms(head, 95)} ms",
        "reference page: slider -> metric, median / p95": f"{load.ms(ref_head)} / "
        f"{load.ms(ref_head, 95)} ms",
        "headline p95 / reference p95 (same load)": ratio,
        "follower lag, median / p95": f"{load.ms(lag.same + lag.across)} / "
        f"{load.ms(lag.same + lag.across, 95)} ms",
        "moves a follower never showed (sent before the last second)": str(len(lag.unseen)),
        "save (Store.save probe), median / p95": f"{load.ms(probe.times)} / "
        f"{load.ms(probe.times, 95)} ms ({len(probe.times)} saves, {probe.errors} errors)",
        "replicas' CPU, cores busy": " + ".join(f"{c / window:.2f}" for c in replica_cpu),
        "whole machine, cores busy": f"{all_cpu / window:.2f}",
        "errors": f"{len(errors)}"
        + (f" ({', '.join(f'{k}: {n}' for k, n in kinds.items())})" if kinds else ""),
        "replica log tracebacks": str(tracebacks),
        "versions expected / found": f"{check.expected} / {check.found}",
        "lost / refused / extra or wrong": f"{check.lost} / {check.refused} / "
        f"{check.extra + len(check.wrong)}",
    }
    for s in [*sessions, ref]:
        for kind, detail in s.errors[:2]:
            print(f"  {s.author}: {kind}: {detail}", file=sys.stderr)
    for line in check.wrong[:10]:
        print(f"  store: {line}", file=sys.stderr)
    ok = not errors and not check.lost and not check.wrong and not check.extra
    ok = ok and not check.refused and not tracebacks and not lag.unseen
    ok = ok and listed == sum(r.scenario_id is not None for r in rooms) + 1  # + the probe's
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
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--sessions", type=int, default=5, help="per room, 1 to 5")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--replicas", default="1,2", help="replica counts to run, in order")
    parser.add_argument("--think", type=float, default=0.4)
    load.add_drain_argument(parser)
    parser.add_argument("--keep", action="store_true", help="keep each run's cluster folder")
    args = parser.parse_args()
    if not 1 <= args.sessions <= len(load.ROOM_KEYS):
        parser.error(f"--sessions: 1 to {len(load.ROOM_KEYS)} per room (one slider each)")
    results, all_ok = {}, True
    for n in [int(x) for x in args.replicas.split(",")]:
        print(f"running {n} replica(s)...", file=sys.stderr)
        results[n], ok = one_run(n, args)
        all_ok = all_ok and ok
    import platform

    import streamlit

    print(
        f"Topology load: {args.rooms} rooms x {args.sessions} sessions through nginx on "
        f"PostgreSQL, {args.seconds:g} s, think {args.think:g} s; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, Streamlit {streamlit.__version__}"
    )
    labels = list(next(iter(results.values())))
    width = max(map(len, labels))
    print(f"  {'':<{width}}  " + "  |  ".join(f"{n} replica(s)" for n in results))
    for label in labels:
        print(f"  {label:<{width}}  " + "  |  ".join(results[n][label] for n in results))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
