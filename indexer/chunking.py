"""Group sentences into overlapping chunks without ever separating a claim from its marker group."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import groupby

from langchain_text_splitters import RecursiveCharacterTextSplitter, TextSplitter

from indexer.claims import Sentence

# An oversized claim is kept whole on purpose; LangChain's warning about it would only be noise.
logging.getLogger("langchain_text_splitters.base").setLevel(logging.ERROR)


@dataclass(frozen=True)
class ChunkSpan:
    """A chunk as a range of sentences ``[first, last)`` of its document, and its text."""

    first: int
    last: int
    text: str


class ClaimSplitter(TextSplitter):
    """LangChain's sizing and overlap, applied to whole claims rather than to characters.

    A claim (all sentences sharing one marker group) is atomic: a claim longer than ``chunk_size``
    becomes a chunk of its own. Unmarked sentences longer than ``chunk_size`` are first cut by
    ``fit`` with the recursive character splitter and the same length function.
    """

    def split_text(self, text: str) -> list[str]:
        """Refused (``NotImplementedError``): chunks are made of whole sentences (``split_sentences``), not cut from
        bare text."""
        raise NotImplementedError("ClaimSplitter works on sentences: call split_sentences()")

    def split_sentences(self, text: str, sentences: Sequence[Sentence]) -> list[ChunkSpan]:
        """The chunks of ``text``: its claims and unmarked ``sentences`` (from ``fit``) merged up to ``chunk_size`` with
        LangChain's overlap, each as a range of sentences and its text."""
        units = self._units(text, sentences)
        # Unit texts carry no newline, so joining with one lets each chunk be mapped back to its units.
        merged = self._merge_splits([unit_text for unit_text, _, _ in units], "\n")
        spans: list[ChunkSpan] = []
        cursor = 0
        for chunk in merged:
            parts = chunk.split("\n")
            cursor = next(
                i
                for i in range(cursor, len(units))
                if [u[0] for u in units[i : i + len(parts)]] == parts
            )
            first_unit, last_unit = units[cursor], units[cursor + len(parts) - 1]
            spans.append(
                ChunkSpan(
                    first=first_unit[1],
                    last=last_unit[2],
                    text=text[sentences[first_unit[1]].start : sentences[last_unit[2] - 1].end],
                )
            )
            cursor += 1
        return spans

    def fit(self, text: str, sentences: Sequence[Sentence]) -> list[Sentence]:
        """Unmarked sentences longer than a chunk (table rows run together, say) cut into pieces."""
        fitted: list[Sentence] = []
        for sentence in sentences:
            body = text[sentence.start : sentence.end]
            if sentence.kind == "claim" or self._length_function(body) <= self._chunk_size:
                fitted.append(sentence)
                continue
            for piece in self._long_text_splitter().create_documents([body]):
                start = sentence.start + piece.metadata["start_index"]
                end = start + len(piece.page_content)
                fitted.append(replace(sentence, text=piece.page_content, start=start, end=end))
        return fitted

    def _long_text_splitter(self) -> RecursiveCharacterTextSplitter:
        return RecursiveCharacterTextSplitter(
            chunk_size=self._chunk_size,
            chunk_overlap=0,
            length_function=self._length_function,
            separators=[". ", "; ", ", ", " ", ""],
            keep_separator="end",
            add_start_index=True,
        )

    @staticmethod
    def _units(text: str, sentences: Sequence[Sentence]) -> list[tuple[str, int, int]]:
        """(text on one line, first sentence, end sentence) of each claim or unmarked sentence, in order."""
        units: list[tuple[str, int, int]] = []
        index = 0
        for _, members in groupby(sentences, key=lambda s: (s.unit, s.start if s.kind != "claim" else -1)):
            first = index
            index += len(list(members))
            body = " ".join(text[sentences[first].start : sentences[index - 1].end].split())
            units.append((body, first, index))
        return units


def make_splitter(
    chunk_size: int, chunk_overlap: int, length_function: Callable[[str], int] = len
) -> ClaimSplitter:
    """A ``ClaimSplitter`` measuring text with ``length_function`` (the indexer passes the model's token count;
    characters by default)."""
    return ClaimSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap, length_function=length_function
    )
