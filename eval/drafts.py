"""How the checker of generated answers judges drafts written the way language models write them.

``eval/drafts.jsonl`` holds scripted drafts over the seed report and FinanceBench pages, each
sentence labelled faithful (paraphrased, shortened, two facts merged, a figure computed with its
operands shown) or unfaithful (a changed number, a swapped party, a negation, a wrong year, an
invented outcome, an overclaim, an absent fact, a wrong computation). Each draft is checked against
the passages of the documents it was written from, as the model was given them. Figures: the share of
faithful sentences kept, of unfaithful ones dropped, markers as the report writes them, and the time
per sentence. Thresholds are fitted on the odd-numbered drafts; ``--half held-out`` reports the others.

    python -m eval.drafts [--half fit|held-out] [--show] [--judge]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from eval.datasets import FINANCEBENCH_DIR, Half, fitting_id
from indexer.build import Indexer
from indexer.embedder import Embedder
from indexer.markers import markers_in
from service.answering.draft_check import NOTHING_TO_CHECK, DraftChecker, Supported, draft_sentences
from service.answering.filters import DocumentFilter
from service.answering.judge import EntailmentJudge
from service.answering.qa import chat_client
from service.answering.search_index import Hit, SearchIndex
from service.answering.supports import supports_in
from service.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DRAFTS = ROOT / "eval" / "drafts.jsonl"
SEED_CORPUS = ROOT / "corpus"
FINANCEBENCH_PAGES = FINANCEBENCH_DIR / "corpus"
WORK = ROOT / ".citeqa" / "drafts"
PASSAGES_PER_DOCUMENT = 3


@dataclass(frozen=True)
class DraftSentence:
    """One sentence of a draft, labelled ``faithful`` or not with the ``kind`` of rewording or fault, and the markers it
    should carry when kept."""

    text: str
    faithful: bool
    kind: str
    markers: tuple[str, ...]


@dataclass(frozen=True)
class Draft:
    """A scripted answer to ``question`` from ``documents`` of the ``seed`` or ``financebench`` corpus, sentence by
    sentence."""

    id: str
    corpus: str
    question: str
    documents: tuple[str, ...]
    sentences: tuple[DraftSentence, ...]


@dataclass(frozen=True)
class Judged:
    """One labelled sentence: kept when every part the checker cuts it into is ("Yes. Scale AI ..."
    is two; a part with nothing to check, such as "Yes.", is left out of the answer)."""

    draft: Draft
    sentence: DraftSentence
    kept: list[Supported]
    reason: str | None
    ms: float

    @property
    def right(self) -> bool:
        """Whether the checker did as the label says: kept a faithful sentence, dropped an unfaithful one."""
        return bool(self.kept) == self.sentence.faithful

    @property
    def markers_as_expected(self) -> bool:
        """Whether what was kept carries the markers the sentence is labelled with, no more and no fewer."""
        return set(markers_in(" ".join(k.render() for k in self.kept))) == set(self.sentence.markers)


def load_drafts(path: Path = DRAFTS) -> list[Draft]:
    """The drafts of ``path``, one JSON object a line."""
    drafts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        sentences = tuple(
            DraftSentence(s["text"], bool(s["faithful"]), s["kind"], tuple(s.get("markers", ())))
            for s in record["sentences"]
        )
        drafts.append(Draft(record["id"], record["corpus"], record["question"], tuple(record["documents"]), sentences))
    return drafts


def corpus_of(corpus: str, documents: set[str], work: Path) -> Path:
    """The seed corpus, or a folder of just the FinanceBench pages the drafts were written from."""
    if corpus == "seed":
        return SEED_CORPUS
    pages = work / "financebench-pages"
    pages.mkdir(parents=True, exist_ok=True)
    for document in documents:
        if not (pages / document).exists():
            shutil.copy(FINANCEBENCH_PAGES / document, pages / document)
    return pages


def passages(index: SearchIndex, embedder: Embedder, draft: Draft) -> list[Hit]:
    """What the model was given: the passages of its documents closest to the question."""
    vector = embedder.embed_query(draft.question)
    hits: list[Hit] = []
    for document in draft.documents:
        hits += index.search(vector, PASSAGES_PER_DOCUMENT, DocumentFilter(doc_prefix=document), draft.question)
    return hits


def judge(
    drafts: list[Draft], indexes: dict[str, SearchIndex], embedder: Embedder, checker: DraftChecker
) -> list[Judged]:
    """Every sentence of ``drafts`` checked by ``checker`` against its draft's passages (``passages``), timed: its own
    check and its share of reading the passages."""
    judged = []
    for draft in drafts:
        index = indexes[draft.corpus]
        hits = passages(index, embedder, draft)
        started = time.perf_counter()
        candidates = supports_in(hits, index)
        # Reading the passages is done once a draft: each sentence bears its share.
        reading = (time.perf_counter() - started) * 1000 / len(draft.sentences)
        for sentence in draft.sentences:
            started = time.perf_counter()
            kept, dropped = checker.check(draft_sentences(sentence.text), candidates, index, embedder)
            ms = reading + (time.perf_counter() - started) * 1000
            dropped = [d for d in dropped if d.reason != NOTHING_TO_CHECK]
            judged.append(Judged(draft, sentence, [] if dropped else kept, dropped[0].reason if dropped else None, ms))
    return judged


def open_indexes(drafts: list[Draft], embedder: Embedder, work: Path = WORK) -> dict[str, SearchIndex]:
    """Each corpus the drafts use indexed in ``work`` (brought up to date) and opened for search."""
    indexes = {}
    for corpus in sorted({d.corpus for d in drafts}):
        documents = {doc for d in drafts if d.corpus == corpus for doc in d.documents}
        index_dir = work / f"{corpus}-index"
        Indexer(embedder, progress=False).run(corpus_of(corpus, documents, work), index_dir)
        indexes[corpus] = SearchIndex.open(index_dir, embedder)
    return indexes


def summary(judged: list[Judged]) -> dict[str, float | int]:
    """The figures: shares of faithful sentences kept, of unfaithful ones dropped, of those kept with the markers
    expected, and milliseconds a sentence."""
    faithful = [j for j in judged if j.sentence.faithful]
    unfaithful = [j for j in judged if not j.sentence.faithful]
    kept = [j for j in judged if j.kept]
    return {
        "faithful": len(faithful),
        "faithful_kept": round(sum(j.right for j in faithful) / max(len(faithful), 1), 3),
        "unfaithful": len(unfaithful),
        "unfaithful_dropped": round(sum(j.right for j in unfaithful) / max(len(unfaithful), 1), 3),
        "kept_with_expected_markers": round(sum(j.markers_as_expected for j in kept) / max(len(kept), 1), 3),
        "ms_per_sentence_p50": round(statistics.median(j.ms for j in judged), 3),
        "ms_per_sentence_p95": round(sorted(j.ms for j in judged)[int(0.95 * (len(judged) - 1))], 3),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m eval.drafts``: print the figures in all, by corpus and by kind; 2 when what a run needs is missing,
    else 0."""
    parser = argparse.ArgumentParser(prog="python -m eval.drafts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--drafts", type=Path, default=DRAFTS)
    parser.add_argument(
        "--half", choices=["fit", "held-out"], help="only the drafts thresholds are fitted on, or the others"
    )
    parser.add_argument("--show", action="store_true", help="list every sentence judged wrongly, with the reason")
    parser.add_argument(
        "--judge",
        action="store_true",
        help="also judge with the model at CITEQA_LLM_URL asked yes or no (CITEQA_LLM_JUDGE), and report both",
    )
    args = parser.parse_args(argv)
    drafts = load_drafts(args.drafts)
    if args.half:
        half: Half = args.half
        drafts = [d for d in drafts if fitting_id(d.id) == (half == "fit")]
    if any(d.corpus == "financebench" for d in drafts) and not FINANCEBENCH_PAGES.is_dir():
        print(f"{FINANCEBENCH_PAGES} is missing: the FinanceBench drafts need its pages", file=sys.stderr)
        return 2
    entailment = _entailment() if args.judge else None
    if args.judge and entailment is None:
        print("--judge needs a model: set CITEQA_LLM_URL (and CITEQA_LLM_MODEL)", file=sys.stderr)
        return 2
    embedder = Embedder()
    embedder.warm_up()
    indexes = open_indexes(drafts, embedder)
    judged = judge(drafts, indexes, embedder, DraftChecker())
    if entailment is not None:
        with_judge = judge(drafts, indexes, embedder, DraftChecker(entailment=entailment))
        print(json.dumps({"without the judge": summary(judged), "with the judge": summary(with_judge)}, indent=2))
        judged = with_judge
    by_corpus: dict[str, list[Judged]] = defaultdict(list)
    for j in judged:
        by_corpus[j.draft.corpus].append(j)
    report: dict[str, object] = {"all": summary(judged)}
    report |= {corpus: summary(found) for corpus, found in sorted(by_corpus.items())}
    kinds: dict[str, list[Judged]] = defaultdict(list)
    for j in judged:
        kinds[j.sentence.kind].append(j)
    report["by_kind"] = {k: f"{sum(j.right for j in js)}/{len(js)}" for k, js in sorted(kinds.items())}
    print(json.dumps(report, indent=2))
    if args.show:
        for j in judged:
            if not j.right or not j.markers_as_expected:
                verdict = "kept" if j.kept else f"dropped: {j.reason}"
                print(f"{j.draft.id} [{j.sentence.kind}] {j.sentence.text}\n    {verdict}")
                if j.kept:
                    rendered = " ".join(k.render() for k in j.kept)
                    print(f"    -> {rendered} (expected {''.join(j.sentence.markers)})")
    return 0


def _entailment() -> EntailmentJudge | None:
    client = chat_client(Settings())
    return EntailmentJudge(client) if client else None


if __name__ == "__main__":
    raise SystemExit(main())
