"""Each page test gets its own data folder (the scenario store lives there)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each page test gets its own data folder (the scenario store lives there)."""
    monkeypatch.setenv("PACT_DATA_DIR", str(tmp_path))
