"""What a model's sentence says of whom, held against the sentence it restates.

Word-for-word support is not enough: a model restating "Scale AI's platform can help Meta build …" as
"Meta's help lets Scale AI build …" keeps every word and turns the relation around. These checks read
who is on each side of what a sentence says:

- **roles** ("the buyer", "the target", "Scale AI's new owner") are resolved to the parties the passages
  name for them, from their own wording of the deal ("Meta's acquisition of Scale AI"): a sentence that
  calls Scale AI the buyer, or gives the target's strategy to the acquirer, is not the report's;
- **direction**: for a relation word the sentence and its support share (help, join, leave, lead,
  terminate, …), the parties before and after it must be the support's;
- **no new link**: a causal or purpose link ("because", "thanks to", "which is why", "in order to",
  "by buying") is kept only where a supporting sentence states a link;
- **details**: a form of payment, an authority's action, a title, a superlative the sentence adds must
  be in a supporting passage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from indexer.markers import strip_markers
from indexer.terms import content_terms, names_in, stem
from service.answering.verification import VERB_FORMS, Reading, Token, read

_NAME = r"[A-Z][\w.&-]*(?:\s+[A-Z][\w.&-]*)*"
_ACQUIRER_ROLES = "acquirer|buyer|purchaser|investor|owner|parent|bidder|acquiring company"
_TARGET_ROLES = "target|seller|startup|start-up|acquiree|investee|acquired company|portfolio company"
_ROLE = rf"(?:{_ACQUIRER_ROLES}|{_TARGET_ROLES})"
# How the passages write a deal: "Meta's acquisition of Scale AI", "Meta announced the acquisition of a
# 49% stake in Scale AI", "Meta acquired Scale AI".
_DEALS = [
    re.compile(rf"(?P<a>{_NAME})'s\s+(?:acquisition|purchase|takeover)\s+of\s+(?:[^.]*?\bstake\s+in\s+)?(?P<b>{_NAME})"),
    re.compile(
        rf"(?P<a>{_NAME})\s+(?:announced\s+|completed\s+|agreed\s+to\s+)?(?:the\s+)?(?:acquisition|purchase)\s+of\s+"
        rf"(?:[^.]*?\b(?:in|of)\s+)?(?P<b>{_NAME})"
    ),
    re.compile(
        rf"(?P<a>{_NAME})\s+(?:acquired|acquires|bought|buys|purchased|invested\s+in|invests\s+in)\s+"
        rf"(?:[^.]*?\bstake\s+in\s+)?(?P<b>{_NAME})"
    ),
]
# A name bound to a role: "Scale AI, the buyer,", "Scale AI, as the investor,", "the target, Meta,",
# "Meta is the target".
_NAMED_ROLE = [
    re.compile(rf"(?P<name>{_NAME})\s*,\s*(?:as\s+)?the\s+(?:new\s+)?(?P<role>{_ROLE})\b", re.IGNORECASE),
    re.compile(rf"\bthe\s+(?:new\s+)?(?P<role>{_ROLE})\s*,\s*(?P<name>{_NAME})"),
    re.compile(rf"(?P<name>{_NAME})\s+(?:is|was|acts as|acted as|serves as)\s+the\s+(?:new\s+)?(?P<role>{_ROLE})\b"),
]
# "Scale AI's new owner": the acquirer of Scale AI.
_OWNED_BY = re.compile(rf"(?P<name>{_NAME})'s\s+(?:new\s+)?(?:owner|parent|acquirer|buyer|investor)\b")
_BARE_ROLE = re.compile(rf"\b(?:the|its|their)\s+(?:new\s+)?(?P<role>{_ROLE})\b", re.IGNORECASE)

RELATION_WORDS = frozenset(
    stem(word)
    for word in """give help join leave lead head run terminate end drop quit acquire buy invest pay provide
    supply fill build own control sue approve fund hire serve support partner cooperate send""".split()
)
_BE = frozenset("is are was were be been being".split())
_PRONOUNS = frozenset("it its he his she her they their them him".split())
_RELATIVE = frozenset("who which that".split())
_SIDE_REACH = 10
_SIDE_STOP = frozenset(";.:!?") | {"but", "while", "although", "though", "whereas", "however"}
_LINK = re.compile(
    r"\b(?:because|due to|owing to|thanks to|which is why|that is why|so that|in order to|so as to|as a result|"
    r"leading to|therefore|hence|as a consequence)\b|\bby\s+\w+ing\b|,\s*so\s",
    re.IGNORECASE,
)
# A computation shown: "($23,298 million / $38,655 million)".
_COMPUTATION = re.compile(r"\([^)]*\d[^)]*[/+×*−-][^)]*\d[^)]*\)")
# Specifics a model adds that sound like the report: a form of payment, an authority's action, a title.
_DETAILS = frozenset(
    stem(word)
    for word in """cash debt loan loans bond bonds financing approved approve cleared clear blocked block sued sue
    fined fine subpoena subpoenaed rejected reject opened launched settled ceo cfo chairman chairwoman president
    chief founder cofounder co-founder reportedly""".split()
)
_SUPERLATIVE = re.compile(r"\b(?:largest|biggest|smallest|highest|lowest|first|only|record|best|worst|most)\b", re.I)


@dataclass(frozen=True)
class Deal:
    """The parties of the deal the passages speak of, as they write them: the buyer or investor, and the target."""

    acquirer: str
    target: str

    @property
    def parties(self) -> frozenset[str]:
        """The terms of both parties' names."""
        return frozenset(content_terms(self.acquirer)) | frozenset(content_terms(self.target))


@lru_cache(maxsize=4096)
def deal_in(passages: tuple[str, ...]) -> Deal | None:
    """The deal the passages speak of, as their own words give its parties; None when they name none."""
    for passage in passages:
        plain = strip_markers(passage)
        for pattern in _DEALS:
            found = pattern.search(plain)
            if found and _terms(found["a"]) and _terms(found["b"]) and not _terms(found["a"]) & _terms(found["b"]):
                return Deal(found["a"], found["b"])
    return None


def role_conflict(text: str, deal: Deal | None) -> str | None:
    """Why ``text`` puts a party in a role the passages give the other, or None."""
    if deal is None:
        return None
    for pattern in _NAMED_ROLE:
        for found in pattern.finditer(text):
            party = _party(found["role"], deal)
            if _terms(found["name"]) and not _terms(found["name"]) & _terms(party):
                return f"it calls {found['name']} the {found['role'].lower()}; in the passages that is {party}"
    for found in _OWNED_BY.finditer(text):
        if _terms(found["name"]) & _terms(deal.acquirer) and not _terms(found["name"]) & _terms(deal.target):
            return f"it gives {found['name']} an owner; in the passages {deal.acquirer} is the buyer"
    return None


def resolved(text: str, deal: Deal | None) -> str:
    """``text`` with its roles written as the parties they stand for: "the target's strategy" is
    "Scale AI's strategy", "Scale AI's new owner" is "Meta"."""
    if deal is None:
        return text
    text = _OWNED_BY.sub(lambda m: deal.acquirer if _terms(m["name"]) & _terms(deal.target) else m[0], text)
    return _BARE_ROLE.sub(lambda m: _party(m["role"], deal), text)


def direction_conflict(text: str, supports: list[str], parties: frozenset[str]) -> str | None:
    """Why ``text`` puts other ``parties`` (the names the passages write) on the sides of a relation word
    than every support writing that word does, or None."""
    drafted = read(text, question=False)
    for term in _relations(drafted):
        position = _positions(drafted, term)[0]
        if position and drafted.tokens[position - 1].word.lower() == "to":
            continue  # an infinitive's subject is not the name before it ("join Meta to lead its lab")
        verdicts = []
        for support in supports:
            stated = read(support, question=False)
            for there in _positions(stated, term):
                if there and stated.tokens[there - 1].word.lower() == "to":
                    continue
                ours, theirs = _sides(drafted, position, parties), _sides(stated, there, parties)
                # Read only where both sides are known in both: a side left unread settles nothing.
                known = all(ours) and all(theirs)
                verdicts.append(not known or all(a & b for a, b in zip(ours, theirs)))
        if verdicts and not any(verdicts):
            return f'it puts other parties around "{drafted.tokens[position].word}" than the supporting sentence does'
    return None


def party_conflict(text: str, supports: list[str], parties: frozenset[str]) -> str | None:
    """Why ``text`` ties another of ``parties`` to a preposition than its supports do ("with Meta" where
    they say "with Scale AI"), or None."""
    drafted = read(text, question=False)
    for preposition, runs in drafted.parties.items():
        asked = [run & parties for run in runs if run & parties]
        given = [run for s in supports for run in read(s, question=False).parties.get(preposition, ())]
        if asked and given and not any(a & g for a in asked for g in given):
            return f'it puts another party after "{preposition}" than the supporting sentence does'
    return None


def owner_swap(text: str, support: str) -> str | None:
    """Why ``text`` gives a thing another owner than ``support`` does ("Scale AI's open-source strategy"
    where the support has Meta's), or None."""
    drafted, stated = read(text, question=False), read(support, question=False)
    for term, owner in drafted.named_owners.items():
        theirs = stated.owners.get(term)
        if theirs and not owner & theirs:
            word = next(t.word for t in drafted.tokens if t.term == term)
            return f'it gives "{word}" another owner than the supporting sentence does'
    return None


def unstated_link(text: str, supports: list[str]) -> str | None:
    """Why ``text`` links two statements that no supporting sentence links, or None."""
    link = _LINK.search(_COMPUTATION.sub(" ", text))
    if link and _COMPUTATION.search(text) and link[0].strip(" ,").lower() in ("so", "therefore", "hence"):
        link = None  # "so", "therefore" before a computation shown: the arithmetic is the link
    if link and not any(_LINK.search(s) for s in supports):
        return f'it links two statements ("{link[0].strip(" ,")}") that no supporting sentence links'
    return None


def unstated_details(text: str, passages: list[str]) -> str | None:
    """Why ``text`` adds a specific (a form of payment, an authority's action, a title, a superlative)
    that no supporting passage states, or None."""
    held = frozenset(t for passage in passages for t in content_terms(passage))
    written = {term: word for word, term in ((w, t) for w in re.findall(r"[\w-]+", text) for t in content_terms(w))}
    for term, word in written.items():
        if term in _DETAILS and term not in held:
            return f'"{word}" is in no supporting passage'
    lower_passages = " ".join(passages).lower()
    for found in _SUPERLATIVE.finditer(text):
        if found[0].lower() not in lower_passages:
            return f'"{found[0]}" is in no supporting passage'
    return None


def _party(role: str, deal: Deal) -> str:
    return deal.acquirer if re.fullmatch(_ACQUIRER_ROLES, role.lower()) else deal.target


def _terms(name: str) -> frozenset[str]:
    return frozenset(t for t in content_terms(name) if len(t) > 2 or t.isupper())


def _relations(reading: Reading) -> list[str]:
    return list(dict.fromkeys(t.term for t in reading.tokens if _base(t.term) in RELATION_WORDS))


def _base(term: str) -> str:
    """The relation word a term is a form of ("led" is "lead", "terminated" is "termin")."""
    for base, forms in VERB_FORMS.items():
        if term in forms:
            return base
    return term


def _positions(reading: Reading, term: str) -> list[int]:
    return [i for i, t in enumerate(reading.tokens) if t.term and _base(t.term) == _base(term)]


@lru_cache(maxsize=1024)
def names_written(passages: tuple[str, ...]) -> frozenset[str]:
    """The names the passages write, past each sentence's first word (which any sentence capitalises)."""
    return frozenset(t for passage in passages for t in names_in(passage) if len(t) > 2)


def _sides(reading: Reading, position: int, parties: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The nearest of ``parties`` before and after the word at ``position``, in its clause; a passive
    ("was acquired by Meta") turned around."""
    tokens = reading.tokens
    before = _subject(tokens, position, parties)
    after = _nearest(iter(tokens[position + 1 : position + 1 + _SIDE_REACH]), parties)
    # "was acquired by Meta", "helped by growth in …"
    following = [t.word.lower() for t in tokens[position + 1 : position + 4]]
    passive = bool(following) and (
        following[0] == "by" or (position > 0 and tokens[position - 1].word.lower() in _BE and "by" in following)
    )
    return (after, before) if passive else (before, after)


def _subject(tokens: tuple[Token, ...], position: int, parties: frozenset[str]) -> frozenset[str]:
    """Who does what the word at ``position`` says: a name owning it ("Meta's help"); the name a relative
    pronoun stands for ("Alexandr Wang, who will join"); else the first name of its clause that owns
    nothing ("Volt's founder, Dana Reyes, will join" is Dana Reyes's doing), or failing one the owner of
    the subject ("Scale AI's platform can help")."""
    if position and tokens[position - 1].possessive and tokens[position - 1].term in parties:
        return _nearest(reversed(tokens[:position]), parties)
    start = position
    while start > 0 and position - start < _SIDE_REACH and tokens[start - 1].word.lower() not in _SIDE_STOP:
        start -= 1
        if tokens[start].word.lower() in _RELATIVE:
            return _nearest(reversed(tokens[:start]), parties)
    run: set[str] = set()
    owner: frozenset[str] = frozenset()
    for token in tokens[start:position]:
        if token.name:
            if token.term in parties:
                run.add(token.term)
            if token.possessive:
                owner, run = owner or frozenset(run), set()
        elif run:
            break
        elif token.word.lower() in _PRONOUNS:
            return frozenset()  # "it", "they": not read here
    return frozenset(run) or owner


def _nearest(tokens: Iterator[Token], parties: frozenset[str]) -> frozenset[str]:
    """The first run of names among ``parties`` in ``tokens``, up to a clause's end."""
    run: set[str] = set()
    for token in tokens:
        if token.word.lower() in _SIDE_STOP or (not run and token.word.lower() in _PRONOUNS):
            break  # a pronoun nearer than any name: who it stands for is not read here
        if token.name and token.term in parties:
            run.add(token.term)
        elif run:
            break
    return frozenset(run)


