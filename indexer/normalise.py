"""Clean up text extracted from PDFs, HTML and plain files so that answers read well.

Extraction leaves headings inline, bullets as `` - `` and hyphens with spaces around them
(``non - voting``). Normalising puts every bullet and every closed claim on a line of its own, so
line starts are exactly the scope boundaries of the marker rules, and joins split words.
"""

from __future__ import annotations

import re
import unicodedata

from indexer.markers import GROUP_RE

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2002\u2003\u2009\u202f\u3000\t\f\v"), " ")
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"}

# Words that follow a spaced dash used as punctuation ("the deal - the largest ever - closed"),
# where joining would glue two words together.
_FUNCTION_WORDS = frozenset(
    "a an the and but or nor so yet as at by for from in into of on onto to with without "
    "is are was were be been being it its this that these those which who whom whose "
    "he she they we you i not no if then than when while where".split()
)
_BULLET_START = r"[A-Z0-9\"'“‘(\u3400-\u9fff]"
_LINE_BULLET = re.compile(r"^\s*(?:[-–—•●▪◦*·]|\d{1,2}[.)])\s+")
_TERMINAL = ".!?。！？:;"
_HEADING_MAX_WORDS = 10
# A heading run inline into the sentence after it ("Report Industry Investment Rating No information
# provided ..."): two or more capitalised words, then a capitalised function word starting a sentence
# that ends in terminal punctuation. The function word tells the sentence's start from one more word of
# the heading ("The Federal Trade Commission said ..." has none, and stays whole).
_HEADING_WORD = r"[A-Z][A-Za-z&'’-]*"
_INLINE_HEADING = re.compile(
    rf"^((?:{_HEADING_WORD}[ ]+){{1,{_HEADING_MAX_WORDS - 1}}}{_HEADING_WORD})[ ]+(?=([A-Z][a-z]*)[ ]+[a-z][^\n]*[.!?])"
)


def normalise(text: str) -> str:
    """Readable text with one paragraph, bullet or closed claim per line, paragraphs split by a blank line."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE).translate(_SPACES)
    for ligature, letters in _LIGATURES.items():
        text = text.replace(ligature, letters)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # "informa-\ntion" -> "information"
    text = re.sub(r"(?<=[a-z])-\n\s*(?=[a-z])", "", text)
    paragraphs = re.split(r"\n[ ]*\n", text)
    return "\n\n".join(p for p in (_normalise_paragraph(p) for p in paragraphs) if p)


def _normalise_paragraph(paragraph: str) -> str:
    lines = [re.sub(r" {2,}", " ", line).strip() for line in paragraph.split("\n")]
    joined = _join_wrapped_lines([line for line in lines if line])
    out: list[str] = []
    for line in joined:
        line = _join_spaced_hyphens(line)
        # A " - " before a capitalised word is a bullet; a closed claim followed by new text ends a line.
        line = re.sub(rf" +[-–•] +(?={_BULLET_START})", "\n- ", line)
        line = re.sub(rf"({GROUP_RE.pattern})[ ]+(?={_BULLET_START})", r"\1\n", line)
        out.extend(_split_inline_heading(part.strip()) for part in line.split("\n") if part.strip())
    return "\n".join(out)


def _split_inline_heading(line: str) -> str:
    """``line`` with a heading that runs into its first sentence put on a line of its own."""
    match = _INLINE_HEADING.match(line)
    if match is None or match.group(2).lower() not in _FUNCTION_WORDS:
        return line
    if match.group(1).split()[0].lower() in _FUNCTION_WORDS:  # "The Board Of ...": a sentence, not a heading
        return line
    return f"{match.group(1)}\n{line[match.end():]}"


def _join_spaced_hyphens(line: str) -> str:
    def join(match: re.Match[str]) -> str:
        """The spaced dash kept before a function word (a dash of punctuation), else a hyphen joining the two words."""
        return match.group(0) if match.group(1) in _FUNCTION_WORDS else "-"

    return re.sub(r"(?<=[A-Za-z]) - (?=([a-z]+))", join, line)


def is_heading_like(line: str) -> bool:
    """A short line without closing punctuation or markers: a title or section heading."""
    stripped = line.rstrip()
    return (
        bool(stripped)
        and stripped[-1] not in _TERMINAL
        and not GROUP_RE.search(stripped)
        and len(stripped.split()) <= _HEADING_MAX_WORDS
    )


def _join_wrapped_lines(lines: list[str]) -> list[str]:
    """Undo hard wrapping: a line continues the previous one unless it starts a bullet or follows a heading."""
    joined: list[str] = []
    for line in lines:
        if joined and not _LINE_BULLET.match(line) and not _starts_new_line(joined[-1], line):
            joined[-1] = f"{joined[-1]} {line}"
        else:
            joined.append(line)
    return joined


def _starts_new_line(previous: str, line: str) -> bool:
    if line[:1].islower() or previous.endswith((",", "-")):
        return False
    return is_heading_like(previous) or bool(re.search(rf"{GROUP_RE.pattern}[.;]?$", previous))
