"""What the browser benchmarks share: a Streamlit server started as scripts/run starts it, the
Chromium flags, and the figures (median, p95, max)."""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), or nan elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def figures(seconds: Sequence[float]) -> tuple[float, float, float]:
    """(median, p95, max) in milliseconds."""
    ms = [1000 * s for s in seconds]
    return statistics.median(ms), p95(ms), max(ms)


class Server:
    """`python -m ui.serve` (the app, as scripts/run starts it) or `streamlit run SCRIPT` on a
    port, with its own data folder and optional extra environment."""

    def __init__(
        self, port: int, data: str, script: Path | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        if script is None:
            cmd = [sys.executable, "-m", "ui.serve"]
        else:
            cmd = [sys.executable, "-m", "streamlit", "run", str(script)]
        cmd += ["--server.port", str(port), "--server.headless", "true"]
        cmd += ["--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={"PACT_DATA_DIR": data, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            | (env or {}),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server on {port} did not start")

    def cpu(self) -> float:
        """CPU seconds the server has used so far."""
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
