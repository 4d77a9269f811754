"""Agents ask citeqa over the Model Context Protocol, with the SDK's own client: `citeqa mcp` over stdio
and `/mcp` of a real `citeqa serve`, against the real model and index."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from indexer.markers import markers_in
from tests.support import ROOT, SEED_DOC, run_citeqa

# Runs `citeqa mcp` in a process of its own and asks the server.
pytestmark = pytest.mark.slow

QUESTION = "How much did Meta pay for its stake in Scale AI?"
T = TypeVar("T")


def stdio(seed_index: Path) -> StdioServerParameters:
    """`citeqa mcp` as a desktop client launches it."""
    command = [sys.executable, "-m", "service.cli", "mcp", "--index-dir", str(seed_index)]
    return StdioServerParameters(command=command[0], args=command[1:], cwd=str(ROOT))


def talk(server: Any, session: Callable[[Client], Awaitable[T]]) -> T:
    async def run() -> T:
        async with Client(server, read_timeout_seconds=120) as client:
            return await session(client)

    return asyncio.run(run())


async def conversation(client: Client) -> dict[str, Any]:
    """What an agent does: list the tools and documents, ask, search, read, and send bad arguments."""
    tools = (await client.list_tools()).tools
    asked = await client.call_tool("ask", {"question": QUESTION})
    far = await client.call_tool("ask", {"question": "When will the Meta Scale AI deal close?"})
    empty = await client.call_tool("ask", {"question": "   "})
    too_many = await client.call_tool("search", {"query": "regulators", "k": 50})
    found = await client.call_tool("search", {"query": "regulators", "k": 2})
    resources = (await client.list_resources()).resources
    read = await client.read_resource(resources[0].uri)
    again = await client.call_tool("ask", {"question": QUESTION})  # still serving after the errors
    return dict(tools=tools, asked=asked, far=far, empty=empty, too_many=too_many, found=found,
                resources=resources, read=read, again=again)


@pytest.mark.parametrize("transport", ["stdio", "streamable-http"])
def test_an_agent_gets_cited_answers_and_passages_and_reads_the_documents(
    transport: str, request: pytest.FixtureRequest
) -> None:
    if transport == "stdio":
        talked = talk(stdio(request.getfixturevalue("seed_index")), conversation)
    else:
        talked = talk(f"{request.getfixturevalue('server')}/mcp", conversation)
    tools = {tool.name: tool for tool in talked["tools"]}
    assert {"ask", "search"} <= set(tools)
    assert all(tools[name].output_schema and "markers" in (tools[name].description or "") for name in ("ask", "search"))
    asked = talked["asked"]
    assert not asked.is_error
    answer = asked.structured_content
    assert answer["abstained"] is False and "$14.8 billion" in answer["answer"]
    assert markers_in(answer["answer"]) == ["[1]", "[6]"]
    assert {c["marker"] for c in answer["citations"]} == {"[1]", "[6]"}
    assert all(c["doc_id"] == SEED_DOC and "$14.8 billion" in c["quote"] for c in answer["citations"])
    assert asked.content[0].text.startswith(answer["answer"])  # and a text rendering for text-only clients
    far = talked["far"].structured_content
    assert far["abstained"] is True and far["citations"] == [] and far["closest"] and far["note"]
    for bad, says in ((talked["empty"], "question"), (talked["too_many"], "k")):
        assert bad.is_error and says in bad.content[0].text
    results = talked["found"].structured_content["results"]
    assert len(results) == 2 and all(r["markers"] for r in results)
    title = "Meta收购ScaleAI补强数据能力,引发客户流失与监管争议"
    assert [(r.name, r.title) for r in talked["resources"]] == [(SEED_DOC, title)]
    assert "$14.8 billion [1][6]" in talked["read"].contents[0].text
    assert talked["again"].structured_content == answer


def test_a_missing_index_is_said_on_stderr_and_stdout_stays_the_protocols(tmp_path: Path) -> None:
    result = run_citeqa("mcp", "--index-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"citeqa: no index at {tmp_path / 'nowhere'}")
