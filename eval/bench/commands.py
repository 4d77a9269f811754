"""Commands run in a process of their own and measured: wall time, peak memory, and for `citeqa index` the
time it says it took."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from eval.bench.workspace import FINANCEBENCH, ROOT


def run_measured(command: list[str]) -> tuple[str, float, int]:
    """(stdout, wall seconds, peak RSS in bytes) of a child process; wait4 reports that child's own peak."""
    started = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.DEVNULL, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {text}")
    return text, seconds, usage.ru_maxrss * 1024


def build_command(index_dir: Path, *options: str) -> list[str]:
    """`citeqa index` of the FinanceBench pages into ``index_dir``, without progress bars."""
    index = [sys.executable, "-m", "service.cli", "index", str(FINANCEBENCH), "--index-dir", str(index_dir)]
    return [*index, "--quiet", *options]


def indexer_seconds(output: str) -> float:
    """The time `citeqa index` says it took, the model load included."""
    found = re.search(r" in ([\d.]+)s: ", output)
    if found is None:
        raise ValueError(f"citeqa index did not say how long it took: {output[-300:]!r}")
    return float(found[1])
