"""Benchmark of the command line's start-up (issue 12): wall time of each command, end to end.

Every command runs as a fresh `python -m sim ...` process, as a CI job or a script calls it.
Rounds are interleaved (each round runs every command once, the reference first), so load
from other work on the machine spreads over all commands alike. The reference is
`python -c pass` measured in the same rounds; the table gives each command's median wall time,
its fastest run, its median as a multiple of the reference's, and the median CPU time (user +
system) the process used, which other load on the machine disturbs much less than wall time.

Run from the repository root:  .venv/bin/python bench/cli.py [--rounds 7] [--root CHECKOUT]
Prints a table; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
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


def timed(argv: list[str], root: Path) -> tuple[float, float]:
    """Wall time of one run, and the CPU time (user + system) the process used."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=root, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, argv)
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="runs of each command")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the checkout to time (e.g. an older commit's)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out_dir:
        todo = commands(out_dir)
        for argv, _ in todo.values():  # warm the file cache and the .pyc files once
            timed(argv, args.root)
        walls: dict[str, list[float]] = {label: [] for label in todo}
        cpus: dict[str, list[float]] = {label: [] for label in todo}
        for _ in range(args.rounds):
            for label, (argv, _) in todo.items():
                wall, cpu = timed(argv, args.root)
                walls[label].append(wall)
                cpus[label].append(cpu)
    ref = statistics.median(walls[REFERENCE])
    rows = [["command", "wall median", "fastest", f"x {REFERENCE}", "CPU median", "target", "met"]]
    for label, (_, target) in todo.items():
        median = statistics.median(walls[label])
        rows.append(
            [
                label,
                f"{median:.3f} s",
                f"{min(walls[label]):.3f} s",
                f"{median / ref:.1f}",
                f"{statistics.median(cpus[label]):.3f} s",
                "" if target is None else f"< {target} s",
                "" if target is None else ("yes" if median < target else "NO"),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{args.root}: {args.rounds} rounds, {os.cpu_count()} cores, load average {load}")
    for r in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )


if __name__ == "__main__":
    main()
