"""Question answering over a loaded index: the one path shared by the HTTP API, the CLI and the eval."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from indexer.claims import says_no_information
from indexer.embedder import QUERY_CACHE_SIZE, Embedder, serving_threads
from indexer.errors import CiteqaError
from service.answering.answerer import NOT_VERIFIED, Answer, Answerer, verified_answer
from service.answering.closest import CLOSEST_LIMIT, Closest
from service.answering.draft_check import DraftChecker
from service.answering.filters import DocumentFilter
from service.answering.followup import resolve
from service.answering.generated import GeneratedAnswerer
from service.answering.judge import EntailmentJudge
from service.answering.llm import ChatClient, LLMSettings
from service.answering.parts import question_parts
from service.answering.search_index import Hit, IndexRetriever, SearchIndex
from service.answering.steps import Reader, Retriever
from service.config import Settings

State = Literal["loading", "ready", "failed"]
# An index built by an older citeqa from a corpus of unreadable files; current ones refuse to write it.
EMPTY_INDEX = "the index holds no documents: run `citeqa index` on a folder of reports and reload"
Mode = Literal["extractive", "generated"]


@dataclass(frozen=True)
class Retrieval:
    """The passages for a question, kept apart from answering so a stream can send them first."""

    question: str  # as read: a follow-up carries the subject of the question before it
    vector: np.ndarray
    hits: list[Hit]
    index: SearchIndex  # the one the hits are from: a reload in between must not mix two indexes
    where: DocumentFilter | None = None
    # A question asking two things: each part's own retrieval, answered apart (``hits`` holds all).
    parts: tuple[Retrieval, ...] = ()


class NotReady(CiteqaError):
    """The model or index is not loaded (yet, or at all); the message says which."""


class ModeUnavailable(CiteqaError):
    """Generated answers were asked for, but no language model is configured."""


class QuestionAnswering:
    """Holds the model and index; ``warm_up`` loads them once, ``reload`` swaps in the index on disk, the
    other methods are cheap and thread-safe."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        reader: Reader | None = None,
        generator: GeneratedAnswerer | None = None,
        retriever: Retriever | None = None,
    ) -> None:
        """The steps (``steps.py``) default to the index's retrieval, the extractive ``Answerer`` and, when
        ``settings`` name a language model, a ``GeneratedAnswerer``."""
        self.settings = settings
        self.embedder = embedder or serving_embedder(settings)
        self.retriever: Retriever = retriever or IndexRetriever()
        self.reader: Reader = reader or Answerer()
        self.generator = generator if generator is not None else _generator(settings)
        self._index: SearchIndex | None = None
        self.state: State = "loading"
        self.error: str | None = None
        self._lock = threading.Lock()
        # answered, abstained, reloaded, reload_failed: for /metrics
        self.counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()

    def warm_up(self) -> None:
        """Load model and index; on failure keep the reason for ``/readyz`` and re-raise."""
        with self._lock:
            if self._index is not None:
                return
            try:
                self._index = self._open()
            except CiteqaError as error:
                self.state, self.error = "failed", str(error)
                raise
            self.state, self.error = "ready", None

    def reload(self) -> SearchIndex:
        """Load the index on disk fully aside, then swap it in with one assignment: requests already
        running finish on the old one. When it cannot be loaded, the old one keeps serving and the
        error is raised."""
        with self._lock:
            try:
                index = self._open()
            except CiteqaError as error:
                self._count("reload_failed")
                if self._index is None:
                    self.state, self.error = "failed", str(error)
                raise
            self._index = index
            self.state, self.error = "ready", None
        self._count("reloaded")
        return index

    def _open(self) -> SearchIndex:
        self.embedder.warm_up()
        return SearchIndex.open(self.settings.index_dir, self.embedder, self.settings.fusion)

    def _count(self, what: str) -> None:
        with self._counts_lock:
            self.counts[what] += 1

    @property
    def index(self) -> SearchIndex:
        """The index being served; ``NotReady`` while it loads, or when it could not be loaded."""
        if self._index is None:
            raise NotReady(self.error or "the model and index are still loading")
        return self._index

    def search(self, query: str, k: int, where: DocumentFilter | None = None) -> list[Hit]:
        """``search_async`` for callers without an event loop (the CLI, the eval)."""
        return asyncio.run(self.search_async(query, k, where))

    async def search_async(self, query: str, k: int, where: DocumentFilter | None = None) -> list[Hit]:
        """The ``k`` passages the retriever finds best for ``query`` among the documents ``where`` admits;
        ``NotReady`` before the index is loaded."""
        index = self.index
        return self.retriever.retrieve(index, await self.embedder.embed_query_async(query), k, where, query)

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[str] = (),
        mode: Mode | None = None,
        where: DocumentFilter | None = None,
    ) -> Answer:
        """``ask_async`` for callers without an event loop (the CLI, the eval)."""
        return asyncio.run(self.ask_async(question, top_k, history, mode, where))

    async def ask_async(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[str] = (),
        mode: Mode | None = None,
        where: DocumentFilter | None = None,
    ) -> Answer:
        """``mode``: None answers with the model when one is configured, extractively otherwise. An
        extractive answer takes well under a millisecond once the question is embedded, so it is
        written on the event loop; only a language model's answer is written on a thread."""
        retrieval = await self.retrieve_async(question, top_k, history, where)
        if self._generated_wanted(mode):
            return await asyncio.to_thread(self.answer, retrieval, mode)
        return self.answer(retrieval, mode)

    async def retrieve_async(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[str] = (),
        where: DocumentFilter | None = None,
    ) -> Retrieval:
        """``history``: the conversation's earlier questions, oldest first, for reading a follow-up;
        ``where``: only the documents it admits are searched. Waiting for the model holds no thread
        (``Embedder.embed_query_async``)."""
        read = resolve(question, history)
        index = self.index
        k = top_k or self.settings.top_k
        # A later part is read as a follow-up of the ones before it ("... and who runs it now?").
        asked = question_parts(read)
        texts = [resolve(part, asked[:i]) for i, part in enumerate(asked)] if len(asked) > 1 else []
        vector, *vectors = await asyncio.gather(*(self.embedder.embed_query_async(t) for t in [read, *texts]))
        retrieve = self.retriever.retrieve
        if not texts:
            return Retrieval(read, vector, retrieve(index, vector, k, where, read), index, where)
        parts = tuple(Retrieval(t, v, retrieve(index, v, k, where, t), index, where) for t, v in zip(texts, vectors))
        return Retrieval(read, vector, _merged([part.hits for part in parts]), index, where, parts)

    def answer(self, retrieval: Retrieval, mode: Mode | None = None) -> Answer:
        """The final ``Answer`` of ``answer_stream``, for a caller that does not stream."""
        *_, answer = self.answer_stream(retrieval, mode)
        assert isinstance(answer, Answer)
        return answer

    def answer_stream(self, retrieval: Retrieval, mode: Mode | None = None) -> Iterator[str | Answer]:
        """Generated answers' sentences as each is checked, then the final ``Answer`` (the only item
        for extractive answers)."""
        extractive = self._extractive(retrieval)
        if not retrieval.hits and retrieval.where:
            extractive = replace(extractive, note=f"no document matches the filters ({retrieval.where.described})")
        elif not retrieval.index.data.documents:
            extractive = replace(extractive, note=EMPTY_INDEX)
        final: str | Answer = extractive
        if self._generated_wanted(mode):
            assert self.generator is not None
            for final in self.generator.stream(
                retrieval.question, retrieval.vector, retrieval.hits, extractive, retrieval.index, self.embedder
            ):
                if isinstance(final, str):
                    yield final
        assert isinstance(final, Answer)
        self._count("abstained" if final.abstained else "answered")
        yield final

    def _extractive(self, retrieval: Retrieval) -> Answer:
        """The answerer's answer; for a question asking two things, each part's, joined, with the closest
        sentences of a part no sentence is verified for and a note naming it."""
        if not retrieval.parts:
            return _without_no_information(
                self.reader.run(retrieval.question, retrieval.vector, retrieval.hits, retrieval.index)
            )
        answers = [self._extractive(part) for part in retrieval.parts]
        answered = [a for a in answers if not a.abstained]
        unanswered = [(part, a) for part, a in zip(retrieval.parts, answers) if a.abstained]
        closest = _taking_turns([a.closest for _, a in unanswered])
        if not answered:
            notes = [f"{part.question} ({a.note})" if a.note else part.question for part, a in unanswered]
            return replace(
                answers[0],
                text=NOT_VERIFIED if closest else answers[0].text,
                sources=retrieval.hits,
                closest=closest,
                evidence=[e for _, a in unanswered for e in a.evidence],
                note="; ".join(notes),
            )
        note = None
        if unanswered:
            asked = " ".join(part.question for part, _ in unanswered)
            note = f"No sentence of the reports answers as asked: {asked} The closest they come is listed."
            if not closest:
                note = f"Nothing in the reports is close to: {asked}"
        answer = verified_answer([e for a in answered for e in a.evidence], retrieval.hits, note=note)
        shown = {e.sentence.row for e in answer.evidence}
        return replace(answer, closest=[c for c in closest if c.sentence.row not in shown])

    def _generated_wanted(self, mode: Mode | None) -> bool:
        self.check_mode(mode)
        return self.generator is not None and mode != "extractive"

    def check_mode(self, mode: Mode | None) -> None:
        """Raise ``ModeUnavailable`` before any work when generated answers are asked for but off."""
        if mode == "generated" and self.generator is None:
            raise ModeUnavailable("generated answers are off: set CITEQA_LLM_URL to an OpenAI-compatible server")


def _merged(lists: list[list[Hit]]) -> list[Hit]:
    """The passages of several retrievals, each once, best first by score."""
    best: dict[str, Hit] = {}
    for hits in lists:
        for hit in hits:
            if hit.chunk.chunk_id not in best or hit.score > best[hit.chunk.chunk_id].score:
                best[hit.chunk.chunk_id] = hit
    return sorted(best.values(), key=lambda hit: -hit.score)


def _taking_turns(lists: list[list[Closest]]) -> list[Closest]:
    """The closest sentences of several parts, each part's best first, each sentence once."""
    taken: dict[int, Closest] = {}
    for rank in range(CLOSEST_LIMIT):
        for closest in lists:
            if rank < len(closest) and len(taken) < CLOSEST_LIMIT:
                taken.setdefault(closest[rank].sentence.row, closest[rank])
    return list(taken.values())


def _without_no_information(answer: Answer) -> Answer:
    """``answer`` without the report's lines saying it has no information (they carry no markers and
    state no claim); when only such lines answered, an abstention showing the report's line as the
    closest it comes, and a note quoting it."""
    kept = [e for e in answer.evidence if not says_no_information(e.sentence.text)]
    if answer.abstained or len(kept) == len(answer.evidence):
        return answer
    if kept:
        return verified_answer(kept, answer.sources, answer.note)
    line = answer.evidence[0]
    return replace(
        answer,
        text=NOT_VERIFIED,
        abstained=True,
        citations=[],
        closest=[Closest(line.sentence, line.hit, round(line.score, 4))],
        note=f'the report says it has no information on this: "{line.sentence.text}" ({line.hit.chunk.doc_id})',
    )


def serving_embedder(
    settings: Settings, query_cache: int = QUERY_CACHE_SIZE, batch_queries: bool = True, own_process: bool = True
) -> Embedder:
    """The model as a server runs it: in a process of its own, on the threads ``settings`` give it."""
    return Embedder(
        settings.model,
        query_cache=query_cache,
        batch_queries=batch_queries,
        precision=settings.precision,
        threads=serving_threads(settings.model_threads),
        own_process=own_process,
        runtime=settings.runtime,
    )


def chat_client(settings: Settings) -> ChatClient | None:
    """The configured language model's client, or None when none is configured."""
    if not settings.llm_url:
        return None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return ChatClient(
        LLMSettings(settings.llm_url, settings.llm_model, key, settings.llm_timeout, settings.llm_deadline)
    )


def _generator(settings: Settings) -> GeneratedAnswerer | None:
    client = chat_client(settings)
    if client is None:
        return None
    return GeneratedAnswerer(client, DraftChecker(entailment=EntailmentJudge(client) if settings.llm_judge else None))
