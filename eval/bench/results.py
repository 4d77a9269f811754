"""Each part's figures with the conditions they were measured in, kept between runs in bench.json: running
one part leaves the others' figures in place."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval.bench.report import COMMAND
from eval.bench.workspace import OUT

RESULTS = OUT / "bench.json"
# What a part measured: figures, or groups of them, as bench.json holds them.
Figures = dict[str, Any]


def read_results() -> dict[str, Figures]:
    """The figures in bench.json by part; empty before the first run."""
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def write_results(results: dict[str, Figures]) -> None:
    """Write every part's figures to bench.json."""
    RESULTS.write_text(json.dumps(results, indent=2))


def measured(run: Callable[[], Figures]) -> Figures:
    """What ``run`` measured, with how long it took, when and on what machine, and the command that ran it."""
    conditions = {
        "date": time.strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "load_average": os.getloadavg()[0],
    }
    started = time.perf_counter()
    figures = {**run(), "seconds": round(time.perf_counter() - started, 1), "measured": conditions}
    figures["command"] = " ".join([COMMAND, *sys.argv[1:]])
    return figures


def cpu_model() -> str | None:
    """The CPU's name as the kernel gives it: which runtime or batch size wins differs from one CPU to another."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    return next((line.partition(":")[2].strip() for line in lines if line.startswith("model name")), None)
