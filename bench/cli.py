"""Benchmark of the command line's start-up (issue 12): wall time of each command, end to end.

Every command runs as a fresh `python -m sim ...` process, as a CI job or a script calls it.
Rounds are interleaved (each round runs every command once, the reference first), so load
from other work on the machine spreads over all commands alike. The reference is
`python -c pass` measured in the same rounds; the table gives each command's median, its
fastest run and its median as a multiple of the reference's.

Run from the repository root:  .venv/bin/python bench/cli.py [--rounds 7]
Prints a table; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = "examples/seed-sla.json"
REFERENCE = "python -c pass"


def commands(out_dir: str) -> dict[str, tuple[list[str], float | None]]:
    """Label -> (argv, target in seconds from issue 12, or None)."""
    sim = [sys.executable, "-m", "sim"]
    return {
        REFERENCE: ([sys.executable, "-c", "pass"], None),
        f"validate {SEED}": ([*sim, "validate", SEED], 0.5),
        "schema": ([*sim, "schema"], 0.5),
        f"simulate {SEED}": ([*sim, "simulate", SEED], 1.5),
        f"plan {SEED}": ([*sim, "plan", SEED], 1.5),
        f"simulate {SEED} --json": ([*sim, "simulate", SEED, "--json"], 1.5),
        "calibrate examples/history-quarterly.csv": (
            [*sim, "calibrate", "examples/history-quarterly.csv"],
            None,
        ),
        f"export {SEED} --format xlsx": (
            [*sim, "export", SEED, "--format", "xlsx", "-o", f"{out_dir}/plan.xlsx"],
            None,
        ),
    }


def wall_time(argv: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="runs of each command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out_dir:
        todo = commands(out_dir)
        for argv, _ in todo.values():  # warm the file cache and the .pyc files once
            wall_time(argv)
        times: dict[str, list[float]] = {label: [] for label in todo}
        for _ in range(args.rounds):
            for label, (argv, _) in todo.items():
                times[label].append(wall_time(argv))
    ref = statistics.median(times[REFERENCE])
    rows = [["command", "median", "fastest", f"x {REFERENCE}", "target", "met"]]
    for label, (_, target) in todo.items():
        median = statistics.median(times[label])
        rows.append(
            [
                label,
                f"{median:.3f} s",
                f"{min(times[label]):.3f} s",
                f"{median / ref:.1f}",
                "" if target is None else f"< {target} s",
                "" if target is None else ("yes" if median < target else "NO"),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(f"{args.rounds} rounds, {sys.executable}")
    for r in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )


if __name__ == "__main__":
    main()
