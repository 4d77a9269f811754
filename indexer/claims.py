"""Split normalised text into sentences and give each the markers of the claim it belongs to.

A marker group closes a claim; the claim runs back to the previous group or the start of the line
(after normalisation a line starts at every paragraph, bullet and heading). Every sentence in that
scope inherits the group, so a sentence in the middle of a claim is cited like its last one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from indexer.markers import GROUP_RE, canonical_markers
from indexer.normalise import is_heading_like

SentenceKind = Literal["claim", "text", "heading"]

_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs approx inc corp co ltd llc plc mr mrs ms dr prof st no fig est jan feb mar apr "
    "jun jul aug sep sept oct nov dec u.s u.k e.u".split()
)
_BULLET = re.compile(r"^(?:[-–—•●▪◦*·]|\d{1,2}[.)])\s+")
# A group closes a sentence when only punctuation stands between it and the end or a new capitalised start.
_CLOSES = re.compile(r"[ \t]*[.;:!?。；！？]?(?:$|[ \t]+(?=[A-Z0-9\"“‘(\u3400-\u9fff]))")
_SENTENCE_END = re.compile(r"[.!?。！？][\"”’)\]]*(?=[ \t]+[A-Z0-9\"“‘(\u3400-\u9fff]|$)|[。！？]")
_ONLY_PUNCT = re.compile(r"[ \t]*[.;:!?。；！？]?[ \t]*")
_TRAILING_PUNCT = re.compile(r"[ \t]*([.;:!?。；！？]*)$")
# A report's own line saying it has nothing on a subject: no claim, so never an answer to cite.
_NO_INFORMATION = re.compile(
    r"^(?:there (?:is|was) )?no (?:information|data|details?|disclosure|figures?)\b.*"
    r"\b(?:provided|available|given|disclosed|reported|mentioned)\b",
    re.IGNORECASE,
)


def says_no_information(text: str) -> bool:
    """Whether ``text`` is a statement that the report has no information ("No information provided
    regarding the rating."): it tells the reader what is missing rather than what is so."""
    return bool(_NO_INFORMATION.match(text.strip()))


@dataclass(frozen=True)
class Sentence:
    """One sentence as shown to readers, with the markers its claim carries.

    ``text`` keeps markers written inside the sentence but not the group that closes its claim;
    ``group`` is that closing group verbatim, so an answer can put it back exactly as written.
    """

    text: str
    group: str
    markers: tuple[str, ...]
    kind: SentenceKind
    start: int
    end: int
    unit: int

    def render(self) -> str:
        """The sentence followed by its claim's markers, e.g. ``"... $14.8 billion [1][6]."``."""
        return render_with_group(self.text, self.group)


def render_with_group(text: str, group: str) -> str:
    """``text`` with its claim's marker ``group`` put back before its closing punctuation (a full stop where it has
    none), as the report writes it."""
    if not group:
        return text
    match = _TRAILING_PUNCT.search(text)
    assert match is not None
    core, punct = text[: match.start()], match.group(1) or "."
    joiner = "" if re.search(r"[\u3400-\u9fff]$", core) else " "
    return f"{core}{joiner}{group}{punct}"


def split_claims(text: str) -> list[Sentence]:
    """Sentences of normalised ``text`` in reading order; ``unit`` numbers the claims (never split by chunking)."""
    sentences: list[Sentence] = []
    unit = 0
    line_start = 0
    for line in text.split("\n"):
        bullet = _BULLET.match(line)
        pending: list[tuple[int, int]] = []
        for start, end in _sentence_spans(line, bullet.end() if bullet else 0):
            pending.append((line_start + start, line_start + end))
            groups = list(GROUP_RE.finditer(line, start, end))
            if not groups:
                continue
            # Every sentence waiting in the scope inherits the first group that follows it.
            inherited = groups[0].group(0)
            for p_start, p_end in pending[:-1]:
                sentences.append(_sentence(text, p_start, p_end, inherited, unit))
            sentences.append(_sentence(text, *pending[-1], None, unit))
            unit += 1
            pending = []
        for start, end in pending:
            sentences.append(_sentence(text, start, end, "", unit))
            unit += 1
        line_start += len(line) + 1
    return sentences


def _sentence(text: str, start: int, end: int, inherited: str | None, unit: int) -> Sentence:
    """``inherited`` is the claim's closing group; ``None`` when the sentence carries its own groups."""
    body = text[start:end].strip()
    if inherited is None:
        closing = list(GROUP_RE.finditer(body))[-1]
        ends_claim = _ONLY_PUNCT.fullmatch(body, closing.end()) is not None
        group = closing.group(0) if ends_claim else ""
        shown = body[: closing.start()].rstrip() + body[closing.end() :].strip() if ends_claim else body
        markers: list[str] = []
        for found in GROUP_RE.findall(body):
            markers.extend(m for m in canonical_markers(found) if m not in markers)
        kind: SentenceKind = "claim"
    else:
        group, shown = inherited, body
        markers = canonical_markers(inherited)
        kind = "claim" if inherited else ("heading" if is_heading_like(body) else "text")
    return Sentence(shown, group, tuple(markers), kind, start, end, unit)


def _sentence_spans(line: str, start: int) -> list[tuple[int, int]]:
    """Sentence boundaries in ``line``: after closing punctuation, and after a group that closes a claim."""
    cuts: list[int] = []
    for group in GROUP_RE.finditer(line, start):
        if _CLOSES.match(line, group.end()):
            trailing = _ONLY_PUNCT.match(line, group.end())
            assert trailing is not None
            cuts.append(trailing.end())
    for match in _SENTENCE_END.finditer(line, start):
        if _is_abbreviation(line, match.start()):
            continue
        # Punctuation followed by a group ends the sentence after the group, not before it.
        if GROUP_RE.match(line, len(line) - len(line[match.end() :].lstrip(" \t"))):
            continue
        cuts.append(match.end())
    spans: list[tuple[int, int]] = []
    previous = start
    for cut in sorted(set(cuts)) + [len(line)]:
        piece = line[previous:cut]
        if piece.strip():
            spans.append((previous + len(piece) - len(piece.lstrip()), previous + len(piece.rstrip())))
        previous = max(previous, cut)
    return spans


def _is_abbreviation(line: str, dot: int) -> bool:
    if line[dot] != ".":
        return False
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", line[:dot])
    if word is None:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or len(token) == 1
