"""Citation markers as reports write them: ``[1]``, ``[1, 2]``, ``[3-5]``, ``【1】``, ``［1］``.

Adjacent markers form a *group* (``[4][10]``). The group is kept verbatim wherever text is shown;
its canonical form (one ``[n]`` per number) is what structures, metrics and comparisons use.
"""

from __future__ import annotations

import re

# One to three digits: a bracketed year such as "[2024]" is not a citation.
_NUMBER = r"\d{1,3}"
_LIST = rf"{_NUMBER}(?:\s*[,，、\-–~]\s*{_NUMBER})*"
_MARKER = rf"(?:\[\s*{_LIST}\s*\]|【\s*{_LIST}\s*】|［\s*{_LIST}\s*］)"

MARKER_RE = re.compile(_MARKER)
GROUP_RE = re.compile(rf"{_MARKER}(?:[ \t]*{_MARKER})*")

# A range wider than this is taken as written text, not as a citation range to expand.
_MAX_RANGE = 50


def marker_numbers(group: str) -> list[int]:
    """The citation numbers a group stands for, in order, ranges expanded, without repeats."""
    numbers: list[int] = []
    for marker in MARKER_RE.findall(group):
        for part in re.split(r"\s*[,，、]\s*", marker.strip("[]【】［］ \t")):
            bounds = [int(n) for n in re.split(r"\s*[\-–~]\s*", part) if n]
            if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] <= _MAX_RANGE:
                expanded = list(range(bounds[0], bounds[1] + 1))
            else:
                expanded = bounds
            numbers.extend(n for n in expanded if n not in numbers)
    return numbers


def canonical_markers(group: str) -> list[str]:
    """``"[1, 2]【6】"`` -> ``["[1]", "[2]", "[6]"]``."""
    return [f"[{n}]" for n in marker_numbers(group)]


def markers_in(text: str) -> list[str]:
    """Every canonical marker written anywhere in ``text``, in order of first appearance."""
    found: list[str] = []
    for group in GROUP_RE.findall(text):
        found.extend(m for m in canonical_markers(group) if m not in found)
    return found


def strip_markers(text: str) -> str:
    """Text with every marker group removed, for matching words rather than citations."""
    return re.sub(r"[ \t]+", " ", GROUP_RE.sub("", text)).strip()
