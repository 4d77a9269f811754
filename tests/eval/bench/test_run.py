from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow  # a process of its own
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


def test_a_report_of_one_part_keeps_what_the_other_parts_measured() -> None:
    from eval.bench.report import merged

    table = "| target | figure | met |\n| --- | --- | --- |\n"
    kept = (
        "# citeqa benchmark\n\n## Targets\n\n"
        + table
        + "| `/search` faster than LangChain + FAISS | 2.00× faster | yes |\n"
        "| index build ≥ 0.9 × encode | 0.95× | yes |\n"
        "\n## Against LangChain + FAISS\n\nPeer figures.\n\n_9.0 s to run._\n"
        "\n## Index build\n\nOld build figures, and a note written by hand.\n\n_30.0 s to run._\n"
    )
    fresh = (
        "# citeqa benchmark\n\n## Targets\n\n" + table + "| index build ≥ 0.9 × encode | 0.50× | **no** |\n"
        "\n## Index build\n\nNew build figures.\n\n_31.0 s to run._\n"
    )
    report = merged(kept, fresh, {"build": {}})
    # The part run anew replaces its section and its row; the part not run keeps both, in their place.
    assert report == (
        "# citeqa benchmark\n\n## Targets\n\n"
        + table
        + "| `/search` faster than LangChain + FAISS | 2.00× faster | yes |\n"
        "| index build ≥ 0.9 × encode | 0.50× | **no** |\n"
        "\n## Against LangChain + FAISS\n\nPeer figures.\n\n_9.0 s to run._\n"
        "\n## Index build\n\nNew build figures.\n\n_31.0 s to run._\n"
    )


def test_a_section_written_by_hand_outlives_a_run() -> None:
    from eval.bench.report import merged

    kept = "# citeqa benchmark\n\n## Index build\n\nOld build figures.\n\n## Figures behind choices\n\nBy hand.\n"
    fresh = "# citeqa benchmark\n\n## Index build\n\nNew build figures.\n"
    assert merged(kept, fresh, {"build": {}}) == (
        "# citeqa benchmark\n\n## Index build\n\nNew build figures.\n\n## Figures behind choices\n\nBy hand.\n"
    )
