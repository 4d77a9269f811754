"""OpenAI's chat completions format as citeqa reads and writes it: requests, completions and their chunks.

The last user message is the question; earlier user messages are the conversation a follow-up is read
with. The answer with its markers is the message content; ``citations``, ``sources``, ``abstained`` and
``closest`` travel as extra top-level fields (in the last chunk when streaming), since a chat message has no
place for them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr, model_validator

from indexer.errors import InputError
from service.answering.answerer import Answer
from service.api.schemas import MAX_HISTORY, MAX_QUESTION_CHARS, CitationOut, ClosestOut, Source, Text, trimmed


class TextPart(BaseModel):
    """One part of a message's content given as a list of parts."""

    type: Literal["text"]
    text: Text


def read_role(role: object) -> object:
    """OpenAI's roles as citeqa reads them: "developer" is what current clients send for "system"; tool
    and function results mean nothing to an answerer that calls no tools, and are refused by name."""
    if role == "developer":
        return "system"
    if role in ("tool", "function"):
        raise InputError(f"role {role!r} is not accepted: citeqa calls no tools, so there is no tool result to read")
    if role not in ("system", "user", "assistant"):
        raise InputError(f"role {role!r} is not one of system, developer, user or assistant")
    return role


class ChatMessage(BaseModel):
    """One message of the conversation; its content a text or a list of text parts."""

    model_config = ConfigDict(extra="ignore")  # e.g. "name"

    role: Annotated[Literal["system", "user", "assistant"], BeforeValidator(read_role)] = Field(
        description="system (or developer), user or assistant"
    )
    content: Text | list[TextPart]

    @property
    def text(self) -> str:
        """The message's text: its content, or its parts one per line."""
        # Parts are separate pieces of text: joined without a break, "Who will lead" and "the lab?" ran together.
        return self.content if isinstance(self.content, str) else "\n".join(p.text for p in self.content)


class ChatRequest(BaseModel):
    """A chat completions request: the last user message is the question, the earlier ones the conversation."""

    # OpenAI's sampling parameters (temperature, max_tokens, ...) mean nothing to extractive answers.
    model_config = ConfigDict(extra="ignore")

    model: StrictStr = Field("citeqa", description="any name; echoed in the response")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: StrictBool = False

    @model_validator(mode="after")
    def _asks_something(self) -> ChatRequest:
        if not self.user_texts:
            raise InputError("messages must contain at least one user message (the question)")
        try:
            trimmed(self.user_texts[-1])
        except InputError as error:
            raise InputError(f"the last user message (the question) {error}") from None
        return self

    @property
    def user_texts(self) -> list[str]:
        """The texts of the user messages, oldest first: the question is the last."""
        return [m.text for m in self.messages if m.role == "user"]

    @property
    def question(self) -> str:
        """The last user message, trimmed: what is asked."""
        return trimmed(self.user_texts[-1])

    @property
    def history(self) -> list[str]:
        """Earlier questions for reading a follow-up: the last few, blank ones left out, long ones cut."""
        earlier = [text.strip()[:MAX_QUESTION_CHARS] for text in self.user_texts[:-1] if text.strip()]
        return earlier[-MAX_HISTORY:]


class AssistantMessage(BaseModel):
    """The answer as the assistant's message: its text with the markers, and any closest sentences quoted after it."""

    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    """The one choice of a completion."""

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class Grounding(BaseModel):
    """The extra fields: what an answer rests on."""

    citations: list[CitationOut]
    sources: list[Source]
    abstained: bool
    closest: list[ClosestOut] = []

    @classmethod
    def of(cls, answer: Answer) -> Grounding:
        """The extra fields of ``answer``."""
        return cls(
            citations=[CitationOut.of(c) for c in answer.citations],
            sources=[Source.of(hit) for hit in answer.sources],
            abstained=answer.abstained,
            closest=[ClosestOut.of(c) for c in answer.closest],
        )


class ChatCompletion(Grounding):
    """The whole answer at once (``stream`` false), with what it rests on as extra fields."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]


class Delta(BaseModel):
    """What one chunk adds to the message: the role first, then the answer piece by piece."""

    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    """The one choice of a chunk; ``finish_reason`` is set in the last one."""

    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(BaseModel):
    """One event of a streamed answer; the last one carries what the answer rests on."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    citations: list[CitationOut] | None = None
    sources: list[Source] | None = None
    abstained: bool | None = None
    closest: list[ClosestOut] | None = None
