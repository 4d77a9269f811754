from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import run_citeqa


def test_ask_prints_the_answer_with_markers_and_citations(seed_index: Path) -> None:
    result = run_citeqa("ask", "Who is Scale AI's founder?", "--index-dir", str(seed_index))
    assert result.returncode == 0, result.stderr
    assert "Alexandr Wang" in result.stdout and "[1][6]" in result.stdout
    assert "[1] meta-scale-ai-acquisition.txt" in result.stdout


def test_ask_json_matches_the_http_contract(seed_index: Path) -> None:
    result = run_citeqa("ask", "What was Scale AI's revenue in 2024?", "--json", "--index-dir", str(seed_index))
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body) == {"answer", "abstained", "citations", "sources", "mode", "dropped", "note"}
    assert body["mode"] == "extractive"
    assert body["abstained"] is True


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    for command in (["ask", "Anything?"], ["serve"]):
        result = run_citeqa(*command, "--index-dir", str(tmp_path / "none"))
        assert result.returncode == 2
        assert "no index at" in result.stderr and "citeqa index" in result.stderr


def test_bad_options_are_refused(tmp_path: Path) -> None:
    assert run_citeqa("ask", "  ", "--index-dir", str(tmp_path)).returncode == 2
    result = run_citeqa("index", str(tmp_path / "missing-corpus"), "--index-dir", str(tmp_path / "i"))
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_a_setting_out_of_range_is_one_line_naming_the_setting(tmp_path: Path) -> None:

    result = run_citeqa("ask", "Anything?", "--top-k", "50", "--index-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == "citeqa: top_k (CITEQA_TOP_K): Input should be less than or equal to 20"
    result = run_citeqa("ask", "Anything?", env={**os.environ, "CITEQA_PRECISION": "fp16"})
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("citeqa: precision (CITEQA_PRECISION): Input should be")

def test_ask_filters_by_company_and_period(seed_index: Path) -> None:
    question = "How much did Meta pay for its stake in Scale AI?"
    # The seed report's file name names no company or period, so a filter on either leaves nothing.
    result = run_citeqa("ask", question, "--json", "--period", "2025", "--index-dir", str(seed_index))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sources"] == []
    bad = run_citeqa("ask", question, "--period", "soon", "--index-dir", str(seed_index))
    assert bad.returncode == 2 and "period" in bad.stderr and "must be a year" in bad.stderr
