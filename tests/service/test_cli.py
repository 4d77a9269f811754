from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from eval.datasets import GoldFormatError
from indexer.errors import CiteqaError, ConfigurationError, InputError, ModelUnavailable, ServerError
from indexer.location import IndexLocked
from indexer.markers import markers_in
from service.answering.qa import ModeUnavailable
from service.cli.errors import reported
from tests.support import run_citeqa

# Runs `citeqa` as a user does, in processes of its own.
pytestmark = pytest.mark.slow


def test_ask_prints_the_answer_with_markers_and_citations(seed_index: Path) -> None:
    result = run_citeqa("ask", "Who is Scale AI's founder?", "--index-dir", str(seed_index))
    assert result.returncode == 0, result.stderr
    assert "Alexandr Wang" in result.stdout and "[1][6]" in result.stdout
    assert "[1][6] meta-scale-ai-acquisition.txt" in result.stdout


def test_ask_quotes_each_passage_once_with_all_its_markers(seed_index: Path) -> None:
    result = run_citeqa("ask", "How much did Meta pay for its stake in Scale AI?", "--index-dir", str(seed_index))
    assert result.returncode == 0, result.stderr
    answer, *quotes = result.stdout.splitlines()
    assert answer.endswith("$14.8 billion [1][6].")
    assert quotes == [
        "  [1][6] meta-scale-ai-acquisition.txt (meta-scale-ai-acquisition.txt#0): In June 2025, Meta announced the "
        "acquisition of a 49% non-voting stake in Scale AI for approximately $14.8 billion [1][6]."
    ]


def test_ask_prints_why_an_unanswered_question_is_not_answered(seed_index: Path) -> None:
    result = run_citeqa("ask", "What was Scale AI's revenue in 2024?", "--index-dir", str(seed_index))
    assert result.returncode == 0, result.stderr
    first, *closest, note = result.stdout.splitlines()
    assert first == "No sentence of the reports answers this as asked; the closest they come:"
    # Each closest sentence whole, with its claim's markers and its document.
    assert 1 <= len(closest) <= 3
    assert all(line.startswith("  > ") and line.endswith("(meta-scale-ai-acquisition.txt)") for line in closest)
    assert all(markers_in(line) for line in closest)
    assert note == '  (no sentence of the reports uses the words "revenue" or "2024")'


def test_a_folder_of_reports_given_as_the_index_gets_the_command_that_indexes_it() -> None:
    result = run_citeqa("ask", "Anything?", "--index-dir", "corpus")
    assert result.returncode == 2
    assert result.stderr == (
        "citeqa: no index at corpus: that folder holds other files; to index the reports in it: "
        "`citeqa index corpus --index-dir .citeqa/index`\n"
    )


def test_ask_json_matches_the_http_contract(seed_index: Path) -> None:
    result = run_citeqa("ask", "What was Scale AI's revenue in 2024?", "--json", "--index-dir", str(seed_index))
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body) == {"answer", "abstained", "citations", "sources", "mode", "dropped", "note", "closest"}
    assert body["mode"] == "extractive"
    assert body["abstained"] is True


def test_a_mistyped_index_dir_gets_the_command_that_builds_that_folder(tmp_path: Path) -> None:
    typo = tmp_path / "my index"
    for command in (["ask", "Anything?"], ["serve"], ["eval"]):
        started = time.monotonic()
        result = run_citeqa(*command, "--index-dir", str(typo))
        assert result.returncode == 2
        # The exact command: a bare `citeqa index` would build .citeqa/index, not this folder.
        command_shown = f"`citeqa index CORPUS --index-dir '{typo}'`"
        assert result.stderr == f"citeqa: no index at {typo}: build it with {command_shown}\n"
        # Refused before the model loads, which alone takes several seconds.
        assert time.monotonic() - started < 5, command


def test_an_empty_question_is_refused_in_plain_words(tmp_path: Path) -> None:
    for question in ("", "  \n "):
        result = run_citeqa("ask", question, "--index-dir", str(tmp_path))
        assert result.returncode == 2
        assert result.stderr == "citeqa: the question must not be empty or only whitespace\n"
    long = run_citeqa("ask", "x" * 2001, "--index-dir", str(tmp_path))
    assert long.stderr == "citeqa: the question must be at most 2000 characters (got 2001)\n"


def test_bad_options_are_refused(tmp_path: Path) -> None:
    assert run_citeqa("ask", "  ", "--index-dir", str(tmp_path)).returncode == 2
    result = run_citeqa("index", str(tmp_path / "missing-corpus"), "--index-dir", str(tmp_path / "i"))
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_a_setting_out_of_range_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    # Named as it was given: the command's own option, or the environment variable.
    result = run_citeqa("ask", "Anything?", "--top-k", "50", "--index-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == "citeqa: --top-k: Input should be less than or equal to 20"
    result = run_citeqa("eval", "--k", "0", "--index-dir", str(tmp_path))
    assert result.returncode == 2 and result.stderr.strip() == "citeqa: --k: Input should be greater than or equal to 1"
    result = run_citeqa("ask", "Anything?", env={**os.environ, "CITEQA_PRECISION": "fp16"})
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("citeqa: CITEQA_PRECISION: Input should be")


def test_an_unknown_option_gets_the_usage_of_its_command() -> None:
    result = run_citeqa("ask", "Anything?", "--bogus")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: citeqa ask ")
    assert result.stderr.strip().endswith("citeqa ask: error: unrecognized arguments: --bogus")

def test_ask_filters_by_company_and_period(seed_index: Path) -> None:
    question = "How much did Meta pay for its stake in Scale AI?"
    # The seed report's file name names no company or period, so a filter on either leaves nothing.
    result = run_citeqa("ask", question, "--json", "--period", "2025", "--index-dir", str(seed_index))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sources"] == []
    bad = run_citeqa("ask", question, "--period", "soon", "--index-dir", str(seed_index))
    assert bad.returncode == 2 and "period" in bad.stderr and "must be a year" in bad.stderr


def test_serve_on_a_port_in_use_says_so_in_one_line_before_loading(seed_index: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_citeqa("serve", "--index-dir", str(seed_index), "--port", str(port), timeout=60)
    # Before the model loads: after it, uvicorn said so in its log and exited with 3.
    assert result.returncode == 2
    assert result.stderr == f"citeqa: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_a_model_that_is_not_there_is_named_as_a_folder_or_as_not_cached(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.txt").write_text("Revenue grew 4% [1].", encoding="utf-8")
    index = ["index", str(corpus), "--index-dir", str(tmp_path / "index"), "--quiet"]
    missing = run_citeqa(*index, "--model", str(tmp_path / "no-model"))
    assert missing.returncode == 2 and missing.stderr == f"citeqa: no model folder at {tmp_path / 'no-model'}\n"
    uncached = run_citeqa(*index, "--model", "no-such-org/no-such-model")
    assert uncached.returncode == 2
    assert uncached.stderr.strip().endswith("not in the Hugging Face cache (models are never downloaded at run time)")


@pytest.mark.parametrize(
    "error",
    [
        IndexLocked("another `citeqa index` is building index; wait for it to finish"),
        ConfigurationError("--report out: not a folder (the reports are written into one)"),
        InputError("the question must not be empty or only whitespace"),
        GoldFormatError("gold.jsonl holds no questions"),
        ModelUnavailable("no model folder at model"),
        ModeUnavailable("generated answers are off: set CITEQA_LLM_URL to an OpenAI-compatible server"),
        ServerError("cannot reach http://127.0.0.1:1: [Errno 111] Connection refused"),
    ],
)
def test_every_citeqa_error_exits_2_with_its_message_in_one_line(
    error: CiteqaError, capsys: pytest.CaptureFixture[str]
) -> None:
    def fails() -> int:
        raise error

    assert reported(fails) == 2
    assert capsys.readouterr().err == f"citeqa: {error}\n"


def test_a_path_that_cannot_be_written_is_named_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    def fails() -> int:
        raise IsADirectoryError(21, "Is a directory", "out.jsonl")

    assert reported(fails) == 2
    assert capsys.readouterr().err == "citeqa: out.jsonl: Is a directory\n"


def test_a_bug_is_not_told_as_the_users_mistake() -> None:
    def fails() -> int:
        raise ValueError("not a CiteqaError: a traceback, not a one-line message")

    with pytest.raises(ValueError, match="traceback"):
        reported(fails)
