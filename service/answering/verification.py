"""Whether a sentence answers a question as asked, not only its topic.

A sentence that shares a question's topic can still say something else: "When will the deal close?" is
not answered by the sentence saying the deal was announced, "Who founded Meta?" not by "Scale AI's
founder … will join Meta", "Which clients terminated their cooperation with Google?" not by the clients
that terminated their cooperation *with Scale AI*. A sentence is held to the question:

- **every word** the question asks with must be in the sentence itself (or in its section's heading,
  or in its document's name, or be the kind of thing asked for while the sentence holds one): what is
  asked to have happened (close, approve, found, leave) is not read into a sentence that does not say it;
- **whose**: a word the sentence gives an owner ("Scale AI's founder", "its lab") belongs to a party the
  question names, and to the one the question gives it when it gives one;
- **with whom**: a party the question puts after a preposition ("with Google", "in Meta") is there
  in the sentence too, when the sentence puts another party after it.

What fails is not claimed as an answer: the sentence is still shown among the closest, and the reason
becomes the note that tells the reader what it lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from indexer.markers import strip_markers
from indexer.terms import STOPWORDS, content_terms, stem

# Words that ask about an outcome rather than name one: "How does the deal affect Meta's position?"
# is answered by what the sentence says the deal does to it, whatever its verb.
ASKING_WORDS = frozenset(stem(w) for w in "affect affects affected impact impacts happen happened effect".split())
# Verbs whose past forms share no stem with them ("bought" is "buy"): a question asks in one form, a
# report states in another.
_IRREGULAR = """buy bought|pay paid|lead led|leave left|sell sold|make made|take took taken|give gave given|win won|
    hold held|bring brought|find found|keep kept|tell told|think thought|seek sought|spend spent|lose lost|
    begin began begun|grow grew grown|rise rose risen|fall fell fallen|get got gotten|go went gone|run ran|
    become became|come came|see saw seen|write wrote written|choose chose chosen|drive drove driven|send sent|
    build built|cut|set|put|let|quit"""
VERB_FORMS: dict[str, frozenset[str]] = {
    stem(form): frozenset(stem(f) for f in forms.split())
    for forms in _IRREGULAR.split("|")
    for form in forms.split()
}

# Prepositions that tie a party to what a sentence says of it: "terminated … with Scale AI".
_PREPOSITIONS = frozenset("with to from in into for of by against on at over".split())
# How far after a preposition its party may stand ("with clients like Microsoft and Google").
_PARTY_WINDOW = 6
_TOKEN = re.compile(r"[^\W_]+(?:[.'’&-][^\W_]+)*(?:'s|’s|s'|')?|[,.;:!?()]")
_BREAK = frozenset(",.;:!?()")
_PRONOUNS = frozenset({"its"})


@dataclass(frozen=True)
class Token:
    """A word or punctuation mark as ``read`` takes it: whether it is a name, and whether it owns the words after it."""

    word: str  # as written, without a possessive ending
    term: str  # stemmed, "" for a function word or punctuation
    name: bool
    possessive: bool


@dataclass(frozen=True)
class Reading:
    """A text's words in order, with who owns what and which parties follow which prepositions."""

    tokens: tuple[Token, ...]
    # term -> the name terms of its owner ("founder" -> {"scale", "ai"}), for owned words; ``named_owners``
    # only those a name owns ("Scale AI's founder"), not a pronoun ("its lab").
    owners: dict[str, frozenset[str]]
    named_owners: dict[str, frozenset[str]]
    # preposition -> the name terms of each party after it.
    parties: dict[str, tuple[frozenset[str], ...]]


@lru_cache(maxsize=16384)
def read(text: str, question: bool) -> Reading:
    """``text`` read for owners and parties. A statement's parties are its names; a question's may be
    any of its words, as users write names in lower case ("who founded meta?"): they are held against
    the names of the sentence."""
    tokens = tuple(_tokens(strip_markers(text), question))
    return Reading(
        tokens, _owners(tokens, pronouns=True), _owners(tokens, pronouns=False), _parties(tokens, first_only=question)
    )


def _tokens(text: str, question: bool) -> list[Token]:
    found: list[Token] = []
    for raw in _TOKEN.findall(text.replace("’", "'")):
        if raw in _BREAK:
            found.append(Token(raw, "", False, False))
            continue
        possessive = raw.endswith(("'s", "s'")) and len(raw) > 2
        word = raw[:-2] if raw.endswith("'s") else raw.rstrip("'")
        lower = word.lower()
        terms = content_terms(word) if lower not in STOPWORDS else []
        inner_capital = any(ch.isupper() for ch in word[1:])
        name = bool(terms) and (question or inner_capital or word[:1].isupper())
        # A question's pronoun may stand for anything it asks about; a statement's "its" for its last name.
        pronoun = not question and lower in _PRONOUNS
        found.append(Token(word, terms[0] if terms else "", name, possessive or pronoun))
    return found


def _name_before(tokens: tuple[Token, ...], end: int) -> frozenset[str]:
    """The name run ending at ``end`` (inclusive)."""
    terms: set[str] = set()
    position = end
    while position >= 0 and tokens[position].name:
        terms.add(tokens[position].term)
        position -= 1
    return frozenset(terms)


def _owners(tokens: tuple[Token, ...], pronouns: bool) -> dict[str, frozenset[str]]:
    """The owner of each word a possessive governs: "Scale AI's founder", and with ``pronouns`` "its
    'superintelligence' lab" (a pronoun's owner is the nearest name before it)."""
    owners: dict[str, frozenset[str]] = {}
    for position, token in enumerate(tokens):
        if not token.possessive:
            continue
        if token.word.lower() in _PRONOUNS:
            if not pronouns:
                continue
            before = [i for i in range(position) if tokens[i].name]
            owner = _name_before(tokens, before[-1]) if before else frozenset()
        else:
            owner = _name_before(tokens, position) if token.name else frozenset()
        if not owner:
            continue
        for following in tokens[position + 1 : position + 4]:
            if not following.term or following.possessive:
                break
            owners.setdefault(following.term, owner)
    return owners


def _parties(tokens: tuple[Token, ...], first_only: bool) -> dict[str, tuple[frozenset[str], ...]]:
    """The parties named after each preposition, up to a few words on and within the clause; ``first_only``:
    only the words right after it (a question's, whose every word may be a name: "with which clients are
    Scale AI's prospects uncertain" ties clients, not Scale AI, to "with")."""
    parties: dict[str, list[frozenset[str]]] = {}
    for position, token in enumerate(tokens):
        if token.word.lower() not in _PREPOSITIONS:
            continue
        after = tokens[position + 1 : position + 1 + _PARTY_WINDOW]
        for offset, following in enumerate(after):
            if following.word in _BREAK or (following.word.lower() in _PREPOSITIONS and offset):
                break
            ends_run = following.name and (offset + 1 == len(after) or not after[offset + 1].name)
            if ends_run:
                parties.setdefault(token.word.lower(), []).append(_name_before(after, offset))
                if first_only:
                    break
    return {preposition: tuple(names) for preposition, names in parties.items()}


def owner_conflict(question: Reading, sentence: Reading, same: SameWord) -> str | None:
    """Why the sentence speaks of another party's thing than the question does, or None."""
    asked_terms = {t.term for t in question.tokens if t.term}
    for term, owner in sentence.owners.items():
        asked = next((t for t in asked_terms if same(t, term)), None)
        if asked is None:
            continue
        asked_owner = question.owners.get(asked)
        if asked_owner is not None and not asked_owner & owner:
            return f"speaks of another party's {_written(sentence, term)} than the question does"
        if asked_owner is None and not owner & asked_terms:
            return f"speaks of the {_written(sentence, term)} of a party the question does not name"
    return None


def party_conflict(question: Reading, sentence: Reading) -> str | None:
    """Why the sentence ties another party to a preposition the question ties a party to, or None:
    "cooperation with Google" is not "cooperation with Scale AI"."""
    names = frozenset(t.term for t in sentence.tokens if t.name)
    for preposition, asked_parties in question.parties.items():
        given = sentence.parties.get(preposition)
        if not given:
            continue
        for party in asked_parties:
            named = party & names
            if named and not any(named & other for other in given):
                return f'puts another party after "{preposition}" than the question does'
    return None


def _written(reading: Reading, term: str) -> str:
    return next((t.word for t in reading.tokens if t.term == term), term)


class SameWord:
    """Whether two terms are forms of one word, by the index's vocabulary (``Vocabulary.variants``)."""

    def __init__(self, variants: dict[str, frozenset[str]]) -> None:
        self.variants = variants

    def __call__(self, asked: str, term: str) -> bool:
        return asked == term or term in self.variants.get(asked, frozenset())
