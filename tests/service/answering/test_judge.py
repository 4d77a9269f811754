"""The optional judge (CITEQA_LLM_JUDGE): a drafted sentence that passes every check but shares few words
with its support is put to the model as a yes/no question; anything but yes drops it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eval.drafts import DRAFTS, main
from service.answering.judge import SYSTEM
from service.answering.qa import QuestionAnswering
from service.config import Settings
from tests.service.llm_stub import Script, llm_stub

# Answers with the model; the drafts eval loads it too.
pytestmark = pytest.mark.slow

QUESTION = "Who will run Meta's superintelligence lab?"
# Passes the checks, yet shares few of its words with the report's sentence: the judge is asked.
PARAPHRASE = "Alexandr Wang, who started Scale AI, is heading to Meta to run its superintelligence effort."
# Close to the report in wording: the judge is not asked.
CLOSE = "Scale AI's founder, Alexandr Wang, will join Meta to lead its superintelligence lab."


def judged(request: dict[str, Any]) -> bool:
    return request["messages"][0]["content"] == SYSTEM


@pytest.fixture(scope="module")
def stub() -> Iterator[tuple[str, Script]]:
    with llm_stub() as server:
        yield server


def pipeline(qa: QuestionAnswering, url: str, judge: bool) -> QuestionAnswering:
    settings = Settings(
        index_dir=qa.settings.index_dir, llm_url=url, llm_model="stub", llm_timeout=0.5, llm_deadline=1.5,
        llm_judge=judge,
    )
    answering = QuestionAnswering(settings, embedder=qa.embedder)
    answering.warm_up()
    return answering


def scripted(script: Script, draft: str, verdict: str, judge_delay: float = 0.0) -> None:
    script.requests.clear()
    script.status, script.delay, script.draft = 200, 0.0, draft

    def respond(request: dict[str, Any]) -> str:
        if judged(request):
            time.sleep(judge_delay)
            return verdict
        return draft

    script.respond = respond


def test_a_yes_keeps_the_sentence(qa: QuestionAnswering, stub: tuple[str, Script]) -> None:
    url, script = stub
    scripted(script, f"{PARAPHRASE} [1][6]", "YES")
    answer = pipeline(qa, url, judge=True).ask(QUESTION)
    assert answer.mode == "generated" and answer.text == f"{PARAPHRASE.removesuffix('.')} [1][6]."
    asked = [r for r in script.requests if judged(r)]
    assert len(asked) == 1 and PARAPHRASE in asked[0]["messages"][1]["content"]


def test_a_no_drops_the_sentence_and_says_why(qa: QuestionAnswering, stub: tuple[str, Script]) -> None:
    url, script = stub
    scripted(script, f"{PARAPHRASE} [1][6]", "No.")
    answer = pipeline(qa, url, judge=True).ask(QUESTION)
    assert answer.mode == "extractive"
    assert [(d.sentence, d.reason) for d in answer.dropped] == [
        (PARAPHRASE, "the judge found that the passage does not say this")
    ]


def test_a_judge_that_does_not_answer_in_time_drops_the_sentence(
    qa: QuestionAnswering, stub: tuple[str, Script]
) -> None:
    url, script = stub
    scripted(script, f"{PARAPHRASE} [1][6]", "YES", judge_delay=2.0)
    answer = pipeline(qa, url, judge=True).ask(QUESTION)
    assert answer.mode == "extractive"
    assert len(answer.dropped) == 1 and answer.dropped[0].reason.startswith("the judge did not answer")


def test_a_sentence_close_to_the_report_is_not_put_to_the_judge(
    qa: QuestionAnswering, stub: tuple[str, Script]
) -> None:
    url, script = stub
    scripted(script, f"{CLOSE} [1][6]", "NO")
    answer = pipeline(qa, url, judge=True).ask(QUESTION)
    assert answer.mode == "generated" and not [r for r in script.requests if judged(r)]


def test_off_by_default_the_judge_is_never_asked(qa: QuestionAnswering, stub: tuple[str, Script]) -> None:
    url, script = stub
    scripted(script, f"{PARAPHRASE} [1][6]", "NO")
    answer = pipeline(qa, url, judge=False).ask(QUESTION)
    assert answer.mode == "generated" and not [r for r in script.requests if judged(r)]


def test_the_drafts_eval_reports_the_figures_with_and_without_the_judge(
    stub: tuple[str, Script], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, script = stub
    scripted(script, "", "NO")
    drafts = tmp_path / "drafts.jsonl"
    seed = [line for line in DRAFTS.read_text(encoding="utf-8").splitlines() if '"corpus": "seed"' in line]
    drafts.write_text("\n".join(seed[:3]) + "\n", encoding="utf-8")
    monkeypatch.setenv("CITEQA_LLM_URL", url)
    monkeypatch.setenv("CITEQA_LLM_TIMEOUT", "0.5")
    assert main(["--drafts", str(drafts), "--judge"]) == 0
    report = json.loads(capsys.readouterr().out.split("\n}\n")[0] + "\n}")
    without, with_judge = report["without the judge"], report["with the judge"]
    # Every sentence put to the judge was refused: fewer faithful sentences kept, never more.
    assert with_judge["faithful_kept"] <= without["faithful_kept"]
    assert any(judged(r) for r in script.requests)
