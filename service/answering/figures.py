"""A draft sentence's figures held to its supports': each amount in a passage (or computed from amounts
that are), each stated for the year the table gives it, each change going the way the figures go."""

from __future__ import annotations

import re
from decimal import Decimal

from indexer.terms import NUMBER
from service.answering.arithmetic import explained
from service.answering.search_index import Hit, SearchIndex
from service.answering.statements import YEAR, Statement, is_year, statement, value
from service.answering.supports import Support

_UP = frozenset(
    """rose rise risen rising increase increased increasing grew grow grown growth up higher gain gained improved
    climbed jumped expanded""".split()
)


_DOWN = frozenset(
    """fell fall fallen falling decline declined declining decrease decreased decreases dropped down lower shrank
    slipped contracted""".split()
)


# Words either side of a figure read for the way it went.
_NEAR = 4


_CLAUSE_BREAK = re.compile(r"[;()]|,(?!\d)|\b(?:versus|vs|compared with|against|than|from)\b")


def wrong_years(text: str, supports: list[Support]) -> str | None:
    """A figure a table gives for one year, stated for another: the year its clause gives it (the
    first after it, "$4,290 million in 2021", else the last before it, "in 2022, $5,053 million")."""
    for support in supports:
        for figure, year in support.columns:
            for clause in _CLAUSE_BREAK.split(text):
                for m in NUMBER.finditer(clause):
                    if m[0].replace(",", "") != figure:
                        continue
                    after = [y for y in YEAR.finditer(clause) if y.start() > m.start()]
                    before = [y for y in YEAR.finditer(clause) if y.start() < m.start()]
                    stated = after[0][0] if after else before[-1][0] if before else year
                    if stated != year:
                        return f"{m[0]} is the figure for {year}, not {stated}"
    return None


def wrong_direction(text: str, supports: list[Support]) -> str | None:
    """A change stated the wrong way: "rose" where the table's later figure is the smaller. Rows of
    losses in parentheses are left alone (a loss that grows is a figure that falls)."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    up, down = bool(words & _UP), bool(words & _DOWN)
    if up == down:
        return None
    numbers = NUMBER.findall(text)
    # Said in words next to the same figure: "adding $394 million" is not "a $394 million decrease".
    for number in numbers:
        ours = _change_near(text, number)
        for support in supports:
            theirs = _change_near(support.sentence.text, number)
            if ours and theirs and ours != theirs:
                return f"the supporting sentence says {number} went {theirs}"
    stated = {n.replace(",", "") for n in numbers}
    by_year = {
        year: Decimal(figure)
        for support in supports
        if "(" not in support.sentence.text
        for figure, year in support.columns
        if figure in stated
    }
    if len(by_year) < 2:
        return None
    change = by_year[max(by_year)] - by_year[min(by_year)]
    if (up and change < 0) or (down and change > 0):
        return f"the figures went {'down' if change < 0 else 'up'} from {min(by_year)} to {max(by_year)}"
    return None


def _change_near(text: str, number: str) -> str | None:
    """"up" or "down" when the words around ``number`` in ``text`` say only one of them, else None."""
    words = re.findall(r"[a-z]+|[\d.,]+", text.lower())
    at = [i for i, word in enumerate(words) if word.strip(".,") == number.lower()]
    near = {w for i in at for w in words[max(0, i - _NEAR) : i + _NEAR + 1]}
    up, down = bool(near & _UP), bool(near & _DOWN)
    return None if up == down else "up" if up else "down"


def numbers_supported(
    claim: Statement, supports: list[Support], candidates: list[Support], index: SearchIndex
) -> tuple[list[Support], str | None]:
    """Every number of ``claim`` in a supporting passage as the same amount, or computed from numbers
    that are (or that were computed so: a difference, then a percentage of it); the sentences holding
    those operands join the supports."""
    passages = list({s.hit.chunk.row: s.hit for s in supports}.values())
    missing = list(dict.fromkeys(n for n, scale in claim.quantities if not _in_passages(n, scale, passages, index)))
    if not missing:
        return supports, None
    sources = {
        n: next((c for c in supports + candidates if writes_amount(c.sentence.text, n, scale)), None)
        for n, scale in claim.quantities
        if n not in missing and not is_year(n)
    }
    known = [n for n, source in sources.items() if source is not None]
    unexplained = [n for n in missing if is_year(n)]
    pending = [n for n in missing if not is_year(n)]
    while pending:
        found = [n for n in pending if explained(n, known)]
        if not found:
            break
        known += found
        pending = [n for n in pending if n not in found]
    unexplained += pending
    if unexplained:
        return supports, f"{', '.join(unexplained)} is not in the supporting passage"
    used = [s for s in sources.values() if s is not None]
    return list({s.sentence.row: s for s in supports + used}.values()), None


def _in_passages(number: str, scale: str, hits: list[Hit], index: SearchIndex) -> bool:
    """In a passage, or in the document's name (a filing named for 2023 speaks of 2023)."""
    return any(
        writes_amount(h.chunk.text, number, scale) or number in index.naming.naming_terms(h.chunk.doc_id) for h in hits
    )


def writes_amount(text: str, number: str, scale: str) -> bool:
    """Whether ``text`` writes the amount: with the same scale or another that makes it equal
    ("$4.2 billion" is "$4,200,000,000"), or either bare (a table's scale is in its header; a
    sentence may leave its scale out; "900.0" is "900")."""
    written = statement(text)
    if value(number, scale) in written.values:
        return True
    bare = value(number, "")
    return any(value(n, "") == bare for n, s in written.quantities if not s or not scale)
