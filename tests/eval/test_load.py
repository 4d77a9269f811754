"""`python -m eval.load`, in a short run: it drives a real server on loopback and holds its bounds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_a_short_load_run_fails_no_request_and_stays_within_its_bounds(seed_index: Path) -> None:
    # Latency under load is a benchmark figure (the full run's bound), not something a test may time.
    command = [sys.executable, "-m", "eval.load", "--index-dir", str(seed_index), "--seconds", "3", "--clients", "4"]
    command += ["--p95-factor", "0"]
    result = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = {
        name.strip(): value.strip()
        for name, _, value in (line.partition(" : ") for line in result.stdout.splitlines() if " : " in line)
    }
    assert summary["errors"] == "0"
    assert set(summary) == {"one client", "under load", "p95 ratio", "errors", "server RSS"}
