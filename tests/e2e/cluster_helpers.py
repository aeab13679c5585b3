"""The team-server topology of scripts/cluster (PostgreSQL, two replicas, nginx) for tests."""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

from e2e_helpers import ROOT, _free_port


class Cluster:
    """`scripts/cluster start FOLDER` on free ports; `replica_of` tells which replica nginx
    sends a browser with a given pact_route cookie to (from nginx's access log)."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.proxy_port = _free_port()
        self.app_ports = [_free_port(), _free_port()]
        self.url = f"http://127.0.0.1:{self.proxy_port}"
        self.env = {
            **os.environ,
            "PACT_PROXY_PORT": str(self.proxy_port),
            "PACT_PROXY_ADDRESS": "127.0.0.1",
            "PACT_APP_PORTS": " ".join(map(str, self.app_ports)),
            **(env or {}),
        }
        self.env.pop("PACT_DATABASE_URL", None)  # the cluster starts its own PostgreSQL

    def start(self) -> None:
        done = subprocess.run(
            [str(ROOT / "scripts" / "cluster"), "start", str(self.folder)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            self.stop()
            raise RuntimeError(f"scripts/cluster start failed:\n{done.stdout}\n{done.stderr}")

    def stop(self) -> None:
        subprocess.run(
            [str(ROOT / "scripts" / "cluster"), "stop", str(self.folder)],
            env=self.env,
            capture_output=True,
            timeout=120,
            check=False,
        )

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://postgres@/pact?host={self.folder / 'postgres'}"

    def replica_of(self, route: str) -> int:
        """The app port nginx sends requests carrying `pact_route=route` to."""
        request = urllib.request.Request(
            f"{self.url}/_stcore/health", headers={"Cookie": f"pact_route={route}"}
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            r.read()
        pattern = re.compile(
            rf"upstream=127\.0\.0\.1:(\d+) route={re.escape(route)}$", re.MULTILINE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # nginx logs a request just after answering it
            if served := pattern.findall((self.folder / "nginx" / "access.log").read_text()):
                return int(served[-1])
            time.sleep(0.02)
        raise AssertionError(f"nginx logged no request with route {route}")

    def stream_served(self, route: str, timeout: float = 15) -> set[int]:
        """The app ports that served the websockets of the browser with this route (nginx logs
        a websocket when it closes, so wait for one)."""
        pattern = re.compile(
            rf'"GET /_stcore/stream[^"]*" 101 upstream=127\.0\.0\.1:(\d+) route={re.escape(route)}$',
            re.MULTILINE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if served := pattern.findall((self.folder / "nginx" / "access.log").read_text()):
                return {int(p) for p in served}
            time.sleep(0.05)
        raise AssertionError(f"nginx logged no websocket with route {route}")

    def routes_to_each_replica(self) -> dict[int, str]:
        """A pact_route cookie value for each replica (nginx's hash is deterministic)."""
        found: dict[int, str] = {}
        for k in range(64):
            found.setdefault(self.replica_of(f"probe{k}"), f"probe{k}")
            if len(found) == len(self.app_ports):
                return found
        raise AssertionError(f"nginx sent 64 routes to one replica only: {found}")

    def app_log(self, n: int) -> str:
        return (self.folder / f"app-{n}.log").read_text(errors="replace")
