"""citeqa against its limits and against what users would write instead; every comparison is a ratio
of figures measured in the same run, as the machine is shared.

    python -m eval.bench [--only query,peer,build,scale,footprint,tune,precision,scale-out]
        [--scale-sizes 100000,1000000] [--scale-out-chunks 51000]

Writes artifacts/bench/bench.json (parts run earlier are kept), bench.md and bench.png, and the same report
to eval/bench/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Callable

from eval.bench.parts.build import bench_build
from eval.bench.parts.footprint import bench_footprint
from eval.bench.parts.peer import bench_peer
from eval.bench.parts.precision import bench_precision
from eval.bench.parts.query import bench_query
from eval.bench.parts.scale import bench_scale
from eval.bench.parts.scale_out import bench_scale_out
from eval.bench.parts.tune import bench_tune
from eval.bench.report import write_report
from eval.bench.results import Figures, measured, read_results, write_results
from eval.bench.workspace import BENCHMARKS, OUT

PARTS = ("query", "peer", "build", "scale", "footprint", "tune", "precision", "scale-out")
# What the bench extra brings: the plot every run draws, and the peer that part measures against.
EXTRA_MODULES = {"matplotlib": "*", "langchain_community": "peer", "langchain_huggingface": "peer"}


def main() -> None:
    """``python -m eval.bench``: run the chosen parts, keeping each one's figures in bench.json as it ends, then write
    the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of: {','.join(PARTS)}")
    parser.add_argument("--scale-sizes", default="100000,1000000", help="vector counts for the scale part")
    parser.add_argument(
        "--scale-out-chunks",
        type=int,
        default=51_000,
        help="chunks of the index the scale-out part serves (51,000: a million vectors with its sentences)",
    )
    args = parser.parse_args()
    parts = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; choose from {','.join(PARTS)}")
    missing = missing_modules([name for name, part in EXTRA_MODULES.items() if part == "*" or part in parts])
    if missing:
        parser.error(f"{', '.join(missing)} not installed: the benchmark needs its extra, pip install -e '.[bench]'")
    OUT.mkdir(parents=True, exist_ok=True)
    results = read_results()
    runners: dict[str, Callable[[], Figures]] = {
        "query": bench_query,
        "peer": bench_peer,
        "build": bench_build,
        "scale": lambda: bench_scale([int(size) for size in args.scale_sizes.split(",")]),
        "footprint": bench_footprint,
        "tune": bench_tune,
        "precision": bench_precision,
        "scale-out": lambda: bench_scale_out(args.scale_out_chunks),
    }
    for part in parts:
        print(f"== {part}", flush=True)
        results[part] = measured(runners[part])
        write_results(results)
        print(json.dumps(results[part], indent=2), flush=True)
    summary = write_report(results, OUT, BENCHMARKS)
    print(summary)


def missing_modules(names: list[str]) -> list[str]:
    """Those of ``names`` that cannot be imported: found before a run, not after minutes of measuring."""
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


if __name__ == "__main__":
    main()
