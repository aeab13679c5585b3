"""Benchmark of the scenario store on SQLite: save latency and opening a large list.

Run from the repository root:  .venv/bin/python bench/store.py [--scenarios 1000] [--versions 50]
Prints a table; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import load_scenario, parse_scenario
from sim.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenarios", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=50)
    args = parser.parse_args()
    seed = load_scenario(ROOT / "examples" / "seed-sla.json")
    data = seed.to_dict()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'pact.db'}")
        sid = store.create(seed, "bench").scenario_id
        saves = []
        for k in range(300):
            data["sources"][0]["volume"]["mean"] = 100 + k
            s = parse_scenario(data)
            t = time.perf_counter()
            store.save(sid, s, "bench", based_on=k + 1)
            saves.append(time.perf_counter() - t)
        ms = np.array(saves) * 1000
        print(f"{'work':<52} {'result':>14}")
        print(f"{'save one version (300 saves): median':<52} {np.median(ms):>11.1f} ms")
        print(f"{'save one version (300 saves): p95':<52} {np.percentile(ms, 95):>11.1f} ms")
        body = seed.to_json()
        t = time.perf_counter()
        with store.engine.begin() as c:  # bulk-load the large store directly
            from sqlalchemy import text

            for i in range(args.scenarios):
                c.execute(
                    text(
                        "INSERT INTO pact_scenarios (id, name, quarter, created_at, head) "
                        "VALUES (:id, :n, '2027-Q1', '2026-11-25', :h)"
                    ),
                    {"id": f"b{i:08d}", "n": f"Scenario {i}", "h": args.versions},
                )
                c.execute(
                    text(
                        "INSERT INTO pact_versions (scenario_id, number, author, "
                        "created_at, content_hash, body) VALUES (:s, :n, 'x', 't', 'h', "
                        ":b)"
                    ),
                    [{"s": f"b{i:08d}", "n": n, "b": body} for n in range(1, args.versions + 1)],
                )
        fill = time.perf_counter() - t
        t = time.perf_counter()
        listed = Store(store.url).scenarios()
        opened = time.perf_counter() - t
        t = time.perf_counter()
        store.versions(listed[0].id)
        store.load(listed[0].id)
        one = time.perf_counter() - t
        label = f"open the list: {len(listed):,} scenarios x {args.versions} versions"
        print(f"{label:<52} {opened * 1000:>11.1f} ms")
        print(f"{'open one scenario and its version history':<52} {one * 1000:>11.1f} ms")
        print(f"{'(filling the store took)':<52} {fill:>12.1f} s")


if __name__ == "__main__":
    main()
