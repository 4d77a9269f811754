"""citeqa as a Model Context Protocol server: `citeqa mcp` over stdio, and `/mcp` (Streamable HTTP) in
`citeqa serve` (service/api/routes/mcp.py), with the official ``mcp`` SDK.

An agent asks with the ``ask`` tool and gets what ``POST /ask`` gives: the answer whose every claim
carries the report's own markers, its citations with the quoted sentence, and when nothing is verified
the sentences where the reports come closest; ``search`` lists passages with their markers. Each tool
has an output schema (structured content) and a text rendering for clients that read text. The indexed
documents are listed as resources, each readable as its sentences with their markers.
"""

from __future__ import annotations

from typing import Annotated, TypeVar
from urllib.parse import quote, unquote

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp_types import CallToolResult, Resource, TextContent
from pydantic import BaseModel, Field, ValidationError

from indexer.claims import render_with_group
from service.answering.closest import quoted
from service.answering.filters import COMPANY, DOC_PREFIX, PERIOD
from service.answering.qa import NotReady, QuestionAnswering
from service.api.schemas import AskRequest, AskResponse, CitationOut, ClosestOut, SearchRequest, Source

DOCUMENTS = "citeqa://documents/"
INSTRUCTIONS = (
    "citeqa answers questions about a set of analyst research reports with the reports' own sentences. "
    "Quote its answers with their citation markers exactly as given ([1][6]): they are the report's own, "
    "and each citation carries the sentence it stands for. When abstained is true, no sentence was verified "
    "to answer the question: say so, and offer the closest sentences only as what the reports come closest "
    "to, never as an answer."
)


class AskResult(BaseModel):
    """What the ``ask`` tool returns: ``POST /ask``'s answer, citations, closest sentences and note."""

    answer: str = Field(description="the answer, each sentence ending with its claim's markers as the report has them")
    abstained: bool = Field(description="true when no sentence was verified to answer the question as asked")
    citations: list[CitationOut] = Field(description="one per marker in the answer: the passage and quoted sentence")
    closest: list[ClosestOut] = Field(description="when nothing (or a part) is verified: the closest sentences")
    note: str | None = Field(description="what the answer does not say, or why nothing was verified")


class SearchResult(BaseModel):
    """What the ``search`` tool returns: the passages, best first."""

    results: list[Source]


def create_mcp(qa: QuestionAnswering) -> MCPServer:
    """The MCP server over ``qa``: tools and resources read the index ``qa`` serves at each call."""
    server = CiteqaMCP(qa)

    @server.tool(
        description="Answer a question from the reports. Quote the answer with its citation markers exactly as "
        "given; when abstained is true, the reports do not verifiably answer it, and closest lists only where "
        "they come closest."
    )
    async def ask(
        question: str,
        company: Annotated[str | None, Field(description=COMPANY)] = None,
        period: Annotated[str | None, Field(description=PERIOD)] = None,
        doc_prefix: Annotated[str | None, Field(description=DOC_PREFIX)] = None,
        top_k: Annotated[int | None, Field(description="passages to retrieve, 1 to 20 (default 5)")] = None,
    ) -> Annotated[CallToolResult, AskResult]:
        """The ``ask`` tool: ``POST /ask`` for an agent, its answer as structured content and as text."""
        request = _checked(
            AskRequest, question=question, company=company, period=period, doc_prefix=doc_prefix, top_k=top_k
        )
        ready = _ready(qa)
        response = AskResponse.of(await ready.ask_async(request.question, request.top_k, where=request.where))
        result = AskResult(
            answer=response.answer,
            abstained=response.abstained,
            citations=response.citations,
            closest=response.closest,
            note=response.note,
        )
        return _result(_ask_text(response), result)

    @server.tool(
        description="Search the reports: the passages closest to a query, best first, each with the citation "
        "markers it carries."
    )
    async def search(
        query: str,
        k: Annotated[int, Field(description="how many passages, 1 to 20")] = 5,
        company: Annotated[str | None, Field(description=COMPANY)] = None,
        period: Annotated[str | None, Field(description=PERIOD)] = None,
        doc_prefix: Annotated[str | None, Field(description=DOC_PREFIX)] = None,
    ) -> Annotated[CallToolResult, SearchResult]:
        """The ``search`` tool: ``GET /search`` for an agent, its passages as structured content and as text."""
        request = _checked(SearchRequest, q=query, k=k, company=company, period=period, doc_prefix=doc_prefix)
        hits = await _ready(qa).search_async(request.q, request.k, request.where)
        result = SearchResult(results=[Source.of(hit) for hit in hits])
        return _result(_search_text(result), result)

    @server.resource(f"{DOCUMENTS}{{doc_id}}", mime_type="text/plain", description="an indexed report")
    def document(doc_id: str) -> str:
        """A document resource: its sentences, each with its claim's markers."""
        return server.document_text(unquote(doc_id))

    return server


class CiteqaMCP(MCPServer):
    """Lists the documents of the index served now (a reload changes them) as resources."""

    def __init__(self, qa: QuestionAnswering) -> None:
        super().__init__("citeqa", instructions=INSTRUCTIONS, log_level="WARNING")
        self.qa = qa

    async def list_resources(self) -> list[Resource]:
        """The documents of the index served now, one resource each; none while no index is loaded."""
        try:
            documents = self.qa.index.data.documents
        except NotReady:
            return []
        return [
            Resource(uri=f"{DOCUMENTS}{quote(d.doc_id, safe='')}", name=d.doc_id, title=d.title, mime_type="text/plain")
            for d in documents
        ]

    def document_text(self, doc_id: str) -> str:
        """The document's sentences in order, each with its claim's markers."""
        index = _ready(self.qa).index
        chunks = [row for row, owner in enumerate(index.chunks.column("doc_id")) if owner == doc_id]
        if not chunks:
            raise ResourceNotFoundError(f"no indexed document {doc_id!r}")
        first, end = index.chunks[chunks[0]].first_sentence, index.chunks[chunks[-1]].end_sentence
        return " ".join(render_with_group(s.text, s.group) for s in index.sentences[first:end])


M = TypeVar("M", bound=BaseModel)


def _checked(model: type[M], **values: object) -> M:
    """``values`` as ``model`` reads them, or a tool error saying what is wrong."""
    try:
        return model(**{name: value for name, value in values.items() if value is not None})
    except ValidationError as error:
        problem = error.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        raise ToolError(f"{field}: {problem['msg'].removeprefix('Value error, ')}") from None


def _ready(qa: QuestionAnswering) -> QuestionAnswering:
    try:
        _ = qa.index
    except NotReady as error:
        raise ToolError(str(error)) from None
    return qa


def _result(text: str, structured: BaseModel) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=structured.model_dump(mode="json")
    )


def _ask_text(response: AskResponse) -> str:
    lines = [response.answer]
    if response.closest:
        lines.append(quoted(c.text for c in response.closest))
    if response.note:
        lines.append(f"({response.note})")
    lines += [f"{c.marker} {c.doc_id} ({c.chunk_id}): {c.quote}" for c in response.citations]
    return "\n".join(lines)


def _search_text(result: SearchResult) -> str:
    if not result.results:
        return "No passage matches."
    return "\n\n".join(
        f"{n}. {s.doc_id} ({s.chunk_id}) {''.join(s.markers)}\n{s.text}" for n, s in enumerate(result.results, 1)
    )
