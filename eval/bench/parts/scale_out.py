"""Past one machine: the build on a Ray cluster (eval/bench/ray_build.py) and serving with several workers
(eval/bench/workers.py)."""

from __future__ import annotations

from eval.bench.ray_build import bench_ray_build
from eval.bench.results import Figures
from eval.bench.workers import bench_workers
from eval.bench.workspace import FINANCEBENCH, WORK, ensure_index


def bench_scale_out(chunks: int) -> Figures:
    """The Ray build against the local one, then ``citeqa serve --workers N`` on an index of ``chunks`` chunks."""
    build = bench_ray_build()
    return {"build": build, "serving": bench_workers(ensure_index(FINANCEBENCH, "financebench-index"), WORK, chunks)}
