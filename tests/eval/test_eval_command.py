from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support import ROOT, run_citeqa, serving

# Runs `citeqa eval` and `citeqa convert` as a user does, each in a process of its own.
pytestmark = pytest.mark.slow

GOLD = ROOT / "eval" / "gold.jsonl"
QUALITY = ["accuracy", "hit@1", "mrr", "fact_recall", "marker_precision", "unsupported_marker_rate", "abstain_recall"]


def test_in_process_and_over_http_give_the_same_numbers(seed_index: Path, server: str, tmp_path: Path) -> None:
    local = run_citeqa(
        "eval", str(GOLD), "--index-dir", str(seed_index), "--report", str(tmp_path / "local"), "--quiet"
    )
    remote = run_citeqa("eval", str(GOLD), "--url", server, "--report", str(tmp_path / "remote"), "--quiet")
    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    a = json.loads((tmp_path / "local" / "eval.json").read_text())
    b = json.loads((tmp_path / "remote" / "eval.json").read_text())
    assert {m: a["metrics"][m] for m in QUALITY} == {m: b["metrics"][m] for m in QUALITY}
    assert [q["answer"] for q in a["questions"]] == [q["answer"] for q in b["questions"]]
    assert a["metrics"]["unsupported_marker_rate"] == 0.0
    assert "accuracy" in local.stdout and "questions passed" in local.stdout


def test_a_server_that_requires_a_key_is_evaluated_with_the_key_from_the_environment(
    seed_index: Path, tmp_path: Path
) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "k1", "question": "How much did Meta pay?", "answerable": True}) + "\n")
    without_key = {key: value for key, value in os.environ.items() if key != "CITEQA_API_KEY"}
    with serving(seed_index, env={"CITEQA_API_KEYS": "eval-key-1"}) as url:
        refused = run_citeqa("eval", str(gold), "--url", url, "--quiet", env=without_key)
        accepted = run_citeqa(
            "eval", str(gold), "--url", url, "--quiet", env={**without_key, "CITEQA_API_KEY": "eval-key-1"}
        )
    assert refused.returncode == 2 and "answered 401" in refused.stderr
    assert "eval-key-1" not in refused.stderr
    assert accepted.returncode == 0, accepted.stderr
    assert "questions passed" in accepted.stdout


def test_waits_for_a_rate_limit_are_not_counted_as_latency(seed_index: Path, tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "".join(
            json.dumps({"id": f"r{i}", "question": q, "answerable": True}) + "\n" for i, q in enumerate(RATE_QUESTIONS)
        )
    )
    # One request a second, no burst: each question after the first waits for a 429's Retry-After (1 s).
    limit = {"CITEQA_RATE_LIMIT": "1/second", "CITEQA_RATE_BURST": "1", "CITEQA_RATE_LIMIT_LOCAL": "true"}
    with serving(seed_index, env=limit) as url:
        result = run_citeqa("eval", str(gold), "--url", url, "--quiet", "--report", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    assert "rate-limits this client" in result.stderr
    metrics = json.loads((tmp_path / "r" / "eval.json").read_text())["metrics"]
    assert metrics["latency_p95_ms"] < 900


RATE_QUESTIONS = ["How much did Meta pay?", "Who founded Scale AI?", "Which regulators may review the deal?"]


def test_html_report_lists_every_question_escaped(seed_index: Path, tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        json.dumps(
            {"id": "x1", "question": "Who founded <b>Scale AI</b>?", "answerable": True, "facts": ["Alexandr Wang"]}
        )
        + "\n"
        + json.dumps({"id": "x2", "question": "What was Scale AI's revenue in 2024?", "answerable": False})
        + "\n"
    )
    result = run_citeqa("eval", str(gold), "--index-dir", str(seed_index), "--report", str(tmp_path / "r"), "--quiet")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "r" / "eval.html").read_text()
    assert "Who founded &lt;b&gt;Scale AI&lt;/b&gt;?" in page and "<b>Scale AI</b>" not in page
    assert page.count("<tr class=") == 2 and "<svg" in page and 'class="mk"' in page


def test_fail_under_turns_a_regression_into_a_failing_exit(seed_index: Path) -> None:
    passing = run_citeqa(
        "eval",
        str(GOLD),
        "--index-dir",
        str(seed_index),
        "--quiet",
        "--fail-under",
        "abstain_recall=0.5",
        "--fail-under",
        "unsupported_marker_rate=0",
    )
    assert passing.returncode == 0, passing.stderr
    failing = run_citeqa("eval", str(GOLD), "--index-dir", str(seed_index), "--quiet", "--fail-under", "accuracy=1.01")
    assert failing.returncode == 1 and "accuracy" in failing.stderr
    typo = run_citeqa("eval", str(GOLD), "--index-dir", str(seed_index), "--quiet", "--fail-under", "acuracy=0.5")
    assert typo.returncode == 2 and "no metric 'acuracy'" in typo.stderr
    assert typo.stdout == ""  # said before the questions are asked, not after


def test_a_report_path_that_is_a_file_is_refused_before_the_run(seed_index: Path, tmp_path: Path) -> None:
    taken = tmp_path / "notes.md"
    taken.write_text("mine", encoding="utf-8")
    result = run_citeqa("eval", str(GOLD), "--index-dir", str(seed_index), "--quiet", "--report", str(taken))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"citeqa: --report {taken}: not a folder (the reports are written into one)\n"
    assert taken.read_text(encoding="utf-8") == "mine"


def test_convert_writes_another_format(tmp_path: Path) -> None:
    result = run_citeqa("convert", str(GOLD), str(tmp_path / "beir"), "--to", "beir")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "beir" / "qrels" / "test.tsv").read_text().startswith("query-id\tcorpus-id\tscore")


def test_convert_to_a_folder_for_a_file_or_a_file_for_a_folder_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.jsonl").write_text("", encoding="utf-8")
    for destination, target, reason in (
        ("folder", "ragas", "Is a directory"),
        ("file.jsonl", "beir", "Not a directory"),
    ):
        result = run_citeqa("convert", str(GOLD), str(tmp_path / destination), "--to", target)
        assert result.returncode == 2
        assert result.stderr.startswith(f"citeqa: {tmp_path / destination}") and reason in result.stderr
        assert len(result.stderr.splitlines()) == 1


def test_the_report_starts_with_a_summary_per_kind_and_defines_every_metric(seed_index: Path, tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    questions = [
        {"id": "d1", "kind": "direct", "question": "Who is Scale AI's founder?", "answerable": True,
         "facts": ["Alexandr Wang"], "markers": ["[1]", "[6]"]},
        {"id": "d2", "kind": "direct", "question": "How much did Meta pay for its stake in Scale AI?",
         "answerable": True, "facts": ["$14.8 billion"], "markers": ["[1]", "[6]"]},
        {"id": "p1", "kind": "paraphrase", "question": "Who runs the new lab?", "answerable": True,
         "facts": ["no such fact in the report"], "markers": ["[99]"]},
        {"id": "u1", "kind": "unanswerable", "question": "What was Scale AI's revenue in 2024?", "answerable": False},
    ]
    gold.write_text("".join(json.dumps(q) + "\n" for q in questions))
    result = run_citeqa("eval", str(gold), "--index-dir", str(seed_index), "--report", str(tmp_path / "r"), "--quiet")
    assert result.returncode == 0, result.stderr
    # The terminal table: kinds first, then each metric with what it measures.
    lines = result.stdout.splitlines()
    assert lines[:5] == ["kind          passed", "------------  ------", "direct        2 of 2", "paraphrase    0 of 1",
                         "unanswerable  1 of 1"]
    assert any(line.startswith("abstain_precision") and "share of abstentions that were on unanswerable" in line
               for line in lines)
    page = (tmp_path / "r" / "eval.html").read_text()
    # The summary per kind comes before the metrics and the rows, so "0 of 1 paraphrase" is seen first.
    assert page.index("By kind of question") < page.index("<strong>Metrics</strong>") < page.index("<h2>Questions")
    assert "<span>paraphrase</span><b>0 of 1</b>" in page
    for name, words in [("fact_recall", "gold facts found in its answer"), ("marker_recall", "gold markers found"),
                        ("abstain_precision", "share of abstentions"), ("accuracy", "share of questions passed")]:
        row = page[page.index(f"<span>{name}</span>"):]
        assert words in row[: row.index("</div>")], name
    assert 'href="file://' in page and 'eval/README.md#metrics"' in page and ">eval/README.md</a>" in page
    kinds = json.loads((tmp_path / "r" / "eval.json").read_text())["kinds"]
    assert kinds["paraphrase"] == {"questions": 1, "passed": 0}
