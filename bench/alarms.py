"""Replication of the Signal or noise guarantees (issue 12): the figures in docs/calibration.md.

1. False alarms: the share of stable histories (nothing changed) in which any rate raises an
   alarm, for the issue's history (3 sources x 3 steps, ~150/120/60 MQLs a quarter, 8
   quarters) and for fewer, more and smaller rates; beside it the old rule (every
   quarter-to-quarter comparison at 5% on its own) and the exploration scan's share of
   histories with any move marked worth a look.
2. Power: how often the talk's drop (57% for seven quarters, then 39%) on the first rate is
   flagged, by MQLs per quarter.
3. The example history: over seeds of examples/make_history.py, what the alarms show.

The arrays go through the functions the app uses (sim.signal.latest_vs_earlier, holm,
mid_p_value, benjamini_hochberg); tests/unit/test_signal.py checks that the whole import path
flags the same rates. Run from the repository root:
    .venv/bin/python bench/alarms.py [--histories 20000] [--example-seeds 200]
Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.calibrate import calibrate, read_history
from sim.signal import DEFAULT_ALPHA, benjamini_hochberg, holm, latest_vs_earlier, mid_p_value

QUARTERS = 8
ISSUE = ((150, 120, 60), ((0.57, 0.50, 0.45), (0.75, 0.50, 0.45), (0.40, 0.45, 0.30)))
DESIGNS = {
    "issue's history: 3 sources x 3 steps, ~150/120/60": ISSUE,
    "1 rate, ~150 leads": ((150,), ((0.57,),)),
    "6 sources x 3 steps, ~40 to ~200": ((150, 120, 60, 200, 90, 40), ISSUE[1] * 2),
    "3 sources x 3 steps, small and extreme, ~20 to ~40": (
        (40, 30, 20),
        ((0.3, 0.2, 0.1), (0.9, 0.3, 0.1), (0.5, 0.2, 0.15)),
    ),
}


def histories(rng, count, volumes, rates, latest_first_rate=None):
    """Counts reaching each stage: (history, source, quarter, stage); Poisson volumes."""
    steps = len(rates[0])
    counts = np.zeros((count, len(volumes), QUARTERS, steps + 1), dtype=np.int64)
    counts[..., 0] = rng.poisson(np.asarray(volumes, dtype=float)[:, None], counts.shape[:3])
    for j in range(steps):
        p = np.empty(counts.shape[:3])
        p[:] = np.asarray([r[j] for r in rates])[:, None]
        if j == 0 and latest_first_rate is not None:
            p[:, 0, -1] = latest_first_rate
        counts[..., j + 1] = rng.binomial(counts[..., j], p)
    return counts


def by_rate(counts):
    h, s, q, stages = counts.shape
    leads = counts[..., :-1].transpose(0, 1, 3, 2).reshape(h, s * (stages - 1), q)
    converted = counts[..., 1:].transpose(0, 1, 3, 2).reshape(h, s * (stages - 1), q)
    return leads, converted


def alarms(counts):
    *_, p = latest_vs_earlier(*by_rate(counts))
    return holm(p) < DEFAULT_ALPHA


def scan_p(counts):
    n, k = by_rate(counts)
    return mid_p_value(k[..., :-1], n[..., :-1], k[..., 1:], n[..., 1:]).reshape(len(counts), -1)


def share(x: np.ndarray) -> str:
    se = np.sqrt(x.mean() * (1 - x.mean()) / len(x))
    return f"{x.mean():.1%} ± {se:.1%}"


def table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )


def false_alarms(rng, n: int) -> None:
    rows = [["stable histories", "rates", "any alarm", "old rule: any flag", "scan: any mark"]]
    for label, (volumes, rates) in DESIGNS.items():
        counts = histories(rng, n, volumes, rates)
        scans = []
        for chunk in np.array_split(counts, max(1, n // 1000)):  # the scan is memory-hungry
            scans.append(scan_p(chunk))
        p = np.concatenate(scans)
        rows.append(
            [
                label,
                str(len(volumes) * len(rates[0])),
                share(alarms(counts).any(axis=1)),
                share((p < DEFAULT_ALPHA).any(axis=1)),
                share((benjamini_hochberg(p) < DEFAULT_ALPHA).any(axis=1)),
            ]
        )
    print(f"\n1. False alarms over {n:,} histories each (± one standard error)")
    table(rows)


def power(rng, n: int) -> None:
    rows = [["MQLs a quarter (first source)", "talk's drop flagged", "other rates: any alarm"]]
    volumes, rates = ISSUE
    for first in (100, 150, 200):
        counts = histories(rng, n, (first, *volumes[1:]), rates, latest_first_rate=0.39)
        flags = alarms(counts)
        rows.append([str(first), share(flags[:, 0]), share(flags[:, 1:].any(axis=1))])
    print(f"\n2. The talk's drop (57% -> 39% in the last quarter), {n:,} histories each")
    table(rows)


def example_seeds(count: int) -> None:
    spec = importlib.util.spec_from_file_location("mh", ROOT / "examples" / "make_history.py")
    assert spec is not None
    assert spec.loader is not None
    mh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mh)
    from sim.signal import signals

    outcomes: dict[str, int] = {}
    for seed in range(count):
        counts = mh.to_csv(mh.COUNTS_HEADER, mh.quarterly(mh.make_leads(seed=seed)))
        flags = [(t.source, t.step) for t in signals(calibrate(read_history(counts))).flags]
        if flags == [("Inbound", "MQL → SQL")]:
            key = "exactly the true drop"
        elif ("Inbound", "MQL → SQL") in flags:
            key = "the true drop and a false alarm"
        else:
            key = "the drop missed" + (" and a false alarm" if flags else "")
        outcomes[key] = outcomes.get(key, 0) + 1
    print(f"\n3. examples/make_history.py, seeds 0-{count - 1}: what the alarms show")
    table([["outcome", "seeds"], *([k, str(v)] for k, v in outcomes.items())])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", type=int, default=20_000)
    parser.add_argument("--example-seeds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    t = time.perf_counter()
    false_alarms(rng, args.histories)
    power(rng, args.histories)
    if args.example_seeds:
        example_seeds(args.example_seeds)
    print(f"\n({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
