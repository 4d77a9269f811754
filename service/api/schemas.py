"""Request and response bodies of the HTTP API (the contract in the README)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
)

from indexer.errors import InputError
from service.answering.answerer import Answer, Citation
from service.answering.closest import Closest
from service.answering.filters import (
    COMPANY,
    DOC_PREFIX,
    MAX_COMPANY,
    MAX_DOC_PREFIX,
    MAX_PERIOD,
    PERIOD,
    DocumentFilter,
    checked_company,
    checked_period,
)
from service.answering.search_index import Hit

MAX_QUESTION_CHARS = 2000
MAX_TOP_K = 20
MAX_HISTORY = 5


def unicode_text(text: str) -> str:
    """JSON may carry lone surrogates (``"\\ud800"``), which no tokenizer can read: refused here, as bad
    input, rather than failing the model on them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(f"must be valid Unicode text: character {error.start} is a lone surrogate") from None
    return text


Text = Annotated[StrictStr, AfterValidator(unicode_text)]


def trimmed(text: str) -> str:
    """``text`` without the whitespace around it; ``InputError`` when it is not valid Unicode, nothing visible
    is left, or it is over ``MAX_QUESTION_CHARS``."""
    text = unicode_text(text).strip()
    # Invisible format characters (a zero-width space, a byte-order mark) are no more a question than spaces.
    if all(unicodedata.category(ch) == "Cf" for ch in text):
        raise InputError("must not be empty or only whitespace")
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(f"must be at most {MAX_QUESTION_CHARS} characters (got {len(text)})")
    return text


Question = Annotated[StrictStr, AfterValidator(trimmed)]
# Lengths checked before the validators, so that an over-long value is refused as such.
Company = Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_COMPANY), AfterValidator(checked_company)]
Period = Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_PERIOD), AfterValidator(checked_period)]


class AskRequest(BaseModel):
    """A question as ``POST /ask`` and ``POST /ask/stream`` read it, with its conversation, filters and mode."""

    model_config = ConfigDict(extra="forbid")

    question: Question = Field(description=f"1 to {MAX_QUESTION_CHARS} characters after trimming")
    top_k: StrictInt | None = Field(None, ge=1, le=MAX_TOP_K, description="passages to retrieve (default 5)")
    # null is taken as no history, as null is taken as the default by every other optional field.
    history: Annotated[list[Question], BeforeValidator(lambda value: [] if value is None else value)] = Field(
        [],
        max_length=MAX_HISTORY,
        description=f"the conversation's previous questions, oldest first (at most {MAX_HISTORY}); a follow-up "
        "such as 'who will lead it?' is read with them",
    )
    doc_prefix: StrictStr | None = Field(None, min_length=1, max_length=MAX_DOC_PREFIX, description=DOC_PREFIX)
    company: Company | None = Field(None, description=COMPANY)
    period: Period | None = Field(None, description=PERIOD)
    mode: Literal["extractive", "generated"] | None = Field(
        None,
        description="who writes the answer: the reports' own sentences, or a language model whose sentences "
        "are kept only where the passages support them (default: generated when a model is configured)",
    )


    @property
    def where(self) -> DocumentFilter:
        """The documents the question may be answered from, as its filters give them."""
        return DocumentFilter(self.doc_prefix, self.company, self.period)


# The fused score is no similarity: the lexical parts are added to the cosine, so it can pass 1.
RELEVANCE = (
    "relevance score, higher is more relevant: the passage's cosine similarity to the question plus its BM25 "
    "scores over its text (weight CITEQA_LEXICAL_WEIGHT) and over its document's name, company and period "
    "(CITEQA_NAME_WEIGHT), each scaled to 0..1; so it can exceed 1 (up to 1.25 with the default weights). "
    "Compare it between the passages of one response, not across questions."
)


class Source(BaseModel):
    """A retrieved passage: its document, its text and the markers it carries."""

    doc_id: str
    title: str
    chunk_id: str
    text: str
    score: float = Field(description=RELEVANCE)
    markers: list[str]

    @classmethod
    def of(cls, hit: Hit) -> Source:
        """``hit`` as the API gives it, its score rounded to four places."""
        chunk = hit.chunk
        return cls(
            doc_id=chunk.doc_id,
            title=hit.title,
            chunk_id=chunk.chunk_id,
            text=chunk.text,
            score=round(hit.score, 4),
            markers=list(chunk.markers),
        )


class CitationOut(BaseModel):
    """One marker of the answer: the passage it comes from and the sentence it stands for, quoted with its markers."""

    marker: str
    doc_id: str
    chunk_id: str
    quote: str

    @classmethod
    def of(cls, citation: Citation) -> CitationOut:
        """``citation`` as the API gives it."""
        return cls(**citation.__dict__)


class ClosestOut(BaseModel):
    """A sentence where the reports come closest to a question none answers as asked; never an answer."""

    text: str = Field(description="the sentence followed by its claim's marker group, as the report writes it")
    markers: list[str]
    doc_id: str
    chunk_id: str
    score: float = Field(description="how close the sentence comes, to compare the closest sentences of one answer")

    @classmethod
    def of(cls, closest: Closest) -> ClosestOut:
        """``closest`` as the API gives it."""
        sentence = closest.sentence
        return cls(
            text=closest.text,
            markers=list(sentence.markers),
            doc_id=sentence.doc_id,
            chunk_id=closest.hit.chunk.chunk_id,
            score=closest.score,
        )


class DroppedOut(BaseModel):
    """A model's sentence the passages did not support, and why it was dropped."""

    sentence: str
    reason: str


class AskResponse(BaseModel):
    """The answer to a question, with the citations of its markers and the passages retrieved for it."""

    answer: str
    abstained: bool
    citations: list[CitationOut]
    sources: list[Source]
    mode: Literal["extractive", "generated"] = Field("extractive", description="what produced the answer")
    dropped: list[DroppedOut] = Field([], description="a model's sentences the passages did not support")
    note: str | None = Field(
        None,
        description="what the answer's text does not say: when no sentence is verified, the words of the"
        " question no report sentence uses or what the closest sentence lacks; a part of the question no"
        " sentence answers as asked, a filter matching no document, or why a model's answer fell back to the"
        " extractive one",
    )
    closest: list[ClosestOut] = Field(
        [],
        description="when no sentence is verified to answer the question (or a part of it) as asked: up to three"
        " sentences where the reports come closest, best first, for the reader to judge; never an answer",
    )

    @classmethod
    def of(cls, answer: Answer) -> AskResponse:
        """``answer`` as the API gives it."""
        return cls(
            answer=answer.text,
            abstained=answer.abstained,
            citations=[CitationOut.of(c) for c in answer.citations],
            sources=[Source.of(hit) for hit in answer.sources],
            mode=answer.mode,
            dropped=[DroppedOut(sentence=d.sentence, reason=d.reason) for d in answer.dropped],
            note=answer.note,
            closest=[ClosestOut.of(c) for c in answer.closest],
        )


class SearchRequest(BaseModel):
    """A search's query and filters, as ``GET /search`` and the MCP ``search`` tool read them."""

    model_config = ConfigDict(extra="forbid")

    q: Question
    k: StrictInt = Field(5, ge=1, le=MAX_TOP_K)
    doc_prefix: StrictStr | None = Field(None, min_length=1, max_length=MAX_DOC_PREFIX)
    company: Company | None = None
    period: Period | None = None

    @property
    def where(self) -> DocumentFilter:
        """The documents to search, as the filters give them."""
        return DocumentFilter(self.doc_prefix, self.company, self.period)


class SearchResponse(BaseModel):
    """The passages of a search, best first."""

    results: list[Source]


class Status(BaseModel):
    """What a health probe says: ``ok``, ``ready``, ``loading`` or ``failed``, with the reason when not ready
    and the index's size when ready."""

    status: str
    detail: str | None = None
    documents: int | None = None
    chunks: int | None = None


class ErrorBody(BaseModel):
    """Every error: a sentence saying what is wrong, or for invalid input one entry per problem."""

    detail: str | list[dict[str, Any]]


class ReloadResult(BaseModel):
    """The index now served after a reload: its size."""

    status: str
    documents: int
    chunks: int
