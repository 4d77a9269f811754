from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_a_benchmark_without_its_extra_stops_at_once_and_says_what_to_install() -> None:
    # matplotlib made unimportable, as in an install without the bench extra.
    hide = "import sys; sys.modules['matplotlib'] = None; from eval.bench.run import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", hide, "--only", "query"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "matplotlib not installed" in done.stderr
    assert "pip install -e '.[bench]'" in done.stderr
    assert "== query" not in done.stdout  # nothing was measured first
