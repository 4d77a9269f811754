from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.datasets import FINANCEBENCH_DIR, GoldFormatError, detect_format, load_gold, save_gold, split_half
from indexer.claims import split_claims
from indexer.loaders import load_document
from tests.support import CORPUS, ROOT

GOLD = ROOT / "eval" / "gold.jsonl"
FINANCEBENCH = FINANCEBENCH_DIR / "dev.jsonl"


def test_seed_gold_set_has_the_promised_mix() -> None:
    items = load_gold(GOLD)
    kinds = [i.kind for i in items]
    assert len(items) >= 40
    assert sum(not i.answerable for i in items) >= 10
    assert {"direct", "paraphrase", "yes-no", "inherited", "multi-claim", "unanswerable"} <= set(kinds)


def test_the_halves_split_the_gold_set_by_the_number_ending_each_id() -> None:
    items = load_gold(GOLD)
    fit, held_out = split_half(items, "fit"), split_half(items, "held-out")
    assert sorted(i.id for i in fit + held_out) == sorted(i.id for i in items)
    assert {i.id for i in fit} & {i.id for i in held_out} == set()
    assert all(int(i.id.rsplit("-", 1)[1]) % 2 == 1 for i in fit)
    # Each half holds own-words questions and near misses to report on.
    for half in (fit, held_out):
        assert sum(i.kind == "paraphrase" for i in half) >= 10 and sum(not i.answerable for i in half) >= 15


def test_seed_gold_evidence_and_markers_agree_with_the_report() -> None:
    """Each evidence quote is in the report, and the markers the indexer gives its sentences are the gold markers."""
    documents = {p.name: load_document(p, CORPUS) for p in CORPUS.iterdir()}
    for item in load_gold(GOLD):
        found: list[str] = []
        for evidence in item.evidence:
            document = documents[evidence.doc_id]
            assert evidence.quote and evidence.quote in document.text, (item.id, evidence.quote)
            start = document.text.index(evidence.quote)
            for sentence in split_claims(document.text):
                if sentence.start < start + len(evidence.quote) and start < sentence.end:
                    found.extend(m for m in sentence.markers if m not in found)
        assert sorted(found) == sorted(item.markers), item.id


@pytest.mark.parametrize("target", ["citeqa", "ragas", "beir"])
def test_round_trip_through_each_format_keeps_questions_and_evidence(target: str, tmp_path: Path) -> None:
    items = load_gold(GOLD)
    destination = tmp_path / ("beir" if target == "beir" else "gold.jsonl")
    save_gold(items, destination, target)  # type: ignore[arg-type]
    assert detect_format(destination) == target
    again = load_gold(destination)
    assert [i.question for i in again] == [i.question for i in items]
    assert [i.answerable for i in again] == [i.answerable for i in items]
    # BEIR's relevance judgements are per document: quotes in one document become one judgement.
    assert [sorted({e.doc_id for e in i.evidence}) for i in again] == [
        sorted({e.doc_id for e in i.evidence}) for i in items
    ]
    if target != "beir":
        assert [sorted(i.markers) for i in again] == [sorted(i.markers) for i in items]
        assert [[e.quote for e in i.evidence] for i in again] == [[e.quote for e in i.evidence] for i in items]


def test_ragas_rows_use_ragas_field_names(tmp_path: Path) -> None:
    save_gold(load_gold(GOLD), tmp_path / "r.jsonl", "ragas")
    row = json.loads((tmp_path / "r.jsonl").read_text().splitlines()[0])
    assert {"user_input", "reference", "reference_contexts"} <= set(row)


@pytest.mark.skipif(not FINANCEBENCH.exists(), reason="FinanceBench sample not beside the project")
def test_financebench_reads_as_page_level_evidence() -> None:
    items = load_gold(FINANCEBENCH)
    assert detect_format(FINANCEBENCH) == "financebench" and len(items) == 75
    assert all(i.answerable and i.evidence and all(e.quote is None for e in i.evidence) for i in items)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json}\n", "not valid JSON"),
        ('{"id": "x"}\n', "missing field 'question'"),
        ("", "holds no questions"),
        ("[1]\n", "JSON object"),
    ],
)
def test_bad_gold_files_say_where(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(content)
    with pytest.raises(GoldFormatError, match=message):
        load_gold(path, "citeqa")
