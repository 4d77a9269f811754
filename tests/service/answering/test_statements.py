"""What a sentence asserts, as the checks of a drafted sentence read it: its figures with their scale, its
months, and which of its words it negates, hedges or claims with certainty."""

from __future__ import annotations

from decimal import Decimal

from indexer.markers import markers_in
from indexer.terms import content_terms
from service.answering.statements import statement, value


def term(word: str) -> str:
    """A word as statements hold it (stemmed)."""
    (stemmed,) = content_terms(word)
    return stemmed


def test_a_figure_is_read_with_its_scale() -> None:
    assert statement("Meta paid $14.8 billion.").values == {Decimal("14.8e9")}
    assert statement("Meta paid $14.8 million.").values == {Decimal("14.8e6")}
    billions = [statement(f"Revenue was {written}.").values for written in ("3bn", "3 billion", "3,000,000,000")]
    assert billions == [{Decimal("3e9")}] * 3
    assert statement("Margins rose 8 percent.").quantities == statement("Margins rose 8%.").quantities == {("8", "%")}


def test_citation_markers_are_not_figures_and_counts_in_words_are() -> None:
    cited = statement("Meta paid $14.8 billion for a 49% stake [1][6].")
    assert cited.numbers == {"14.8", "49"} and markers_in(cited.text) == []
    assert statement("Acme gets two board seats.").numbers == {"2"}


def test_may_before_a_day_is_a_month_and_otherwise_a_hedge() -> None:
    dated = statement("The deal closed on May 26.")
    assert dated.months == {"may"} and dated.hedged == frozenset()
    hedged = statement("The deal may close in June.")
    assert hedged.months == {"june"} and term("close") in hedged.hedged and hedged.asserted == frozenset()


def test_a_negation_reaches_the_end_of_its_clause() -> None:
    said = statement("Although minority investments usually avoid reviews, the deal may still face investigations.")
    assert term("reviews") in said.negated and term("investigations") not in said.negated
    assert term("investigations") in said.hedged and term("reviews") in said.asserted
    assert term("terminate") in statement("Clients did not terminate their contracts.").negated
    # "non-voting" negates voting, not the stake.
    stake = statement("Meta bought a non-voting stake.")
    assert term("voting") in stake.negated and term("stake") in stake.affirmed


def test_a_hedge_carries_over_and_or_a_comma_but_not_past_a_contrast() -> None:
    said = statement("Meta might pursue open source and enterprise services, but Scale AI keeps its clients.")
    assert term("enterprise") in said.hedged
    assert term("clients") in said.asserted and term("clients") not in said.hedged
    assert statement("It remains to be seen whether regulators act.").asserted == frozenset()


def test_certainty_is_read_where_it_is_claimed() -> None:
    assert statement("The platform guarantees full coverage.").certain == {"guarantees"}
    assert statement("The platform may cover most cases.").certain == frozenset()


def test_one_amount_written_two_ways_has_one_value() -> None:
    assert value("4.2", "billion") == value("4,200,000,000", "") == Decimal("4.2e9")
    assert value("n/a", "") is None
