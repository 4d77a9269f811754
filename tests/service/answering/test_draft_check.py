"""A model's draft checked sentence by sentence: restatements kept with the report's markers, the
errors models make dropped with a reason, computed figures recomputed."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.drafts import FINANCEBENCH_PAGES, judge, load_drafts, open_indexes, summary
from indexer.embedder import Embedder
from indexer.markers import markers_in
from service.answering.acronyms import acronym_phrases
from service.answering.draft_check import DraftChecker, draft_sentences
from service.answering.search_index import Hit, SearchIndex
from service.answering.supports import supports_in
from tests.support import index_of

NOTE = """Acme Robotics: quarterly note

Event Summary - In March 2024, Acme Robotics agreed to buy a 30% stake in Volt Systems for about \
$2.5 billion. Volt's founder, Dana Reyes, will join Acme to run its battery lab [1][2] Outlook - The \
deal may still face a review by the FTC [3] - Acme's margins do not depend on Volt's sales [4]
"""
FILING = """Acme Robotics
Consolidated Statements of Operations
(in millions)
Years ended December 31,
2023
2022
Total revenues
12,400
10,000
Net income
1,240
900
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> SearchIndex:
    return index_of({"acme-note.txt": NOTE, "ACME_2023_10K_p10.txt": FILING}, tmp_path_factory, embedder)


def checked(sentence: str, index: SearchIndex, embedder: Embedder) -> tuple[str | None, str | None]:
    """(the sentence as kept, with its markers, or None; why it was dropped, or None)."""
    hits = [Hit(chunk, index.titles[chunk.doc_id], 1.0) for chunk in index.chunks]
    kept, dropped = DraftChecker().check(draft_sentences(sentence), supports_in(hits, index), index, embedder)
    return (kept[0].render() if kept else None), (dropped[0].reason if dropped else None)


@pytest.mark.parametrize(
    ("draft", "kept"),
    [
        ("Acme is buying 30% of Volt Systems for roughly $2.5 billion [7].", "[1][2]"),
        ("Dana Reyes, who founded Volt, is joining Acme to lead its battery lab.", "[1][2]"),
        ("Dana Reyes will run Acme's battery lab, and the deal may still face an FTC review.", "[1][2][3]"),
        ("Acme's margins are not dependent on sales at Volt.", "[4]"),
    ],
)
def test_a_restatement_is_kept_with_the_markers_of_the_claims_it_restates(
    index: SearchIndex, embedder: Embedder, draft: str, kept: str
) -> None:
    sentence, reason = checked(draft, index, embedder)
    assert reason is None and sentence is not None and "".join(markers_in(sentence)) == kept


@pytest.mark.parametrize(
    ("draft", "why"),
    [
        ("Acme is buying 30% of Volt Systems for roughly $2.5 million.", "2.5 is not in the supporting passage"),
        ("Acme is buying 35% of Volt Systems for roughly $2.5 billion.", "35 is not in the supporting passage"),
        ("Dana Reyes will not join Acme to run its battery lab.", "does not negate"),
        ("Acme's margins depend on Volt's sales.", "the opposite"),
        ("The deal will still face a review by the FTC.", "not so certain"),
        ("Acme's margins are guaranteed not to depend on Volt's sales.", "guaranteed"),
        ("In April 2024, Acme agreed to buy a 30% stake in Volt Systems.", "April"),
        ("Acme also gets two board seats at Volt.", "says this"),
        ("Lucy Guo, Volt's founder, will join Acme to run its battery lab.", "guo is not named"),
        ("Net income was $900 million in 2023.", "900 is the figure for 2022, not 2023"),
    ],
)
def test_the_errors_models_make_are_dropped_with_the_reason(
    index: SearchIndex, embedder: Embedder, draft: str, why: str
) -> None:
    sentence, reason = checked(draft, index, embedder)
    assert sentence is None and reason is not None and why in reason


@pytest.mark.parametrize(
    ("draft", "right"),
    [
        ("Total revenues grew 24% in 2023 ($12,400 million versus $10,000 million in 2022).", True),
        ("Total revenues grew 30% in 2023 ($12,400 million versus $10,000 million in 2022).", False),
        ("Acme's net margin was 10.0% in 2023 ($1,240 million of net income / $12,400 million of revenues).", True),
        ("Acme's net margin was 11.0% in 2023 ($1,240 million of net income / $12,400 million of revenues).", False),
        ("Revenues rose by $2,400 million ($12,400 million less $10,000 million).", True),
        ("Revenues rose by $2,500 million ($12,400 million less $10,000 million).", False),
    ],
)
def test_a_computed_figure_is_kept_only_when_recomputing_it_agrees(
    index: SearchIndex, embedder: Embedder, draft: str, right: bool
) -> None:
    sentence, reason = checked(draft, index, embedder)
    assert (sentence is not None) == right, reason


def test_scripted_drafts_over_the_seed_report_are_judged_as_their_labels_say(
    embedder: Embedder, tmp_path: Path
) -> None:
    """The scripted drafts of eval/drafts.jsonl over the seed report (figures in eval/README.md):
    floors below what both halves measure, and no marker the report's claims do not carry."""
    drafts = [d for d in load_drafts() if d.corpus == "seed"]
    judged = judge(drafts, open_indexes(drafts, embedder, tmp_path), embedder, DraftChecker())
    figures = summary(judged)
    assert figures["faithful_kept"] >= 0.7 and figures["unfaithful_dropped"] >= 0.88, figures
    report = set(markers_in((Path(__file__).resolve().parents[3] / "corpus" / drafts[0].documents[0]).read_text()))
    for j in judged:
        for kept in j.kept:
            assert set(markers_in(kept.render())) <= {m for s in kept.supports for m in s.sentence.markers} <= report


@pytest.mark.skipif(not FINANCEBENCH_PAGES.is_dir(), reason="the FinanceBench sample is not beside this checkout")
def test_scripted_drafts_over_filings_keep_no_wrong_figure(embedder: Embedder, tmp_path: Path) -> None:
    drafts = [d for d in load_drafts() if d.corpus == "financebench"]
    judged = judge(drafts, open_indexes(drafts, embedder, tmp_path), embedder, DraftChecker())
    wrong_figures = [j for j in judged if j.kept and j.sentence.kind in ("changed-number", "wrong-computation")]
    assert not wrong_figures, [j.sentence.text for j in wrong_figures]
    assert summary(judged)["faithful_kept"] >= 0.3


RESULTS = """Orbit Resorts: full-year results

Highlights - Diluted earnings per share of $3.49 in 2022 compared to $2.41 in 2021 [5] - Revenue for \
the company rose 9% [6]
"""


@pytest.fixture(scope="module")
def results_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> SearchIndex:
    return index_of({"orbit-results.txt": RESULTS}, tmp_path_factory, embedder)


def test_an_acronym_is_supported_by_the_words_it_stands_for(results_index: SearchIndex, embedder: Embedder) -> None:
    sentence, reason = checked("The company's diluted EPS rose to $3.49 in 2022, from $2.41.", results_index, embedder)
    assert reason is None and sentence is not None and markers_in(sentence) == ["[5]"]
    sentence, reason = checked("The company's diluted EPS rose to $3.94 in 2022.", results_index, embedder)
    assert sentence is None and reason is not None and "3.94" in reason


def test_a_first_word_the_passages_capitalise_only_to_start_a_line_is_no_name(
    results_index: SearchIndex, embedder: Embedder
) -> None:
    sentence, reason = checked("Diluted EPS rose to $3.49 in 2022, from $2.41 in 2021.", results_index, embedder)
    assert reason is None and sentence is not None and markers_in(sentence) == ["[5]"]


def test_an_acronym_stands_only_for_words_that_say_something() -> None:
    passages = ["Revenue for the company rose 9%.", "Diluted earnings per share rose."]
    assert acronym_phrases("The FTC and diluted EPS.", passages) == {"EPS": "earnings per share"}
