from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

# Runs the table command in a process of its own.
pytestmark = pytest.mark.slow


def test_the_table_command_says_which_financebench_path_is_missing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "eval.retrieval_table", "--financebench", str(tmp_path / "nowhere")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert f"{tmp_path / 'nowhere' / 'corpus'} is missing" in result.stderr and "--financebench" in result.stderr
