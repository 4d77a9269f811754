"""Marker scope: each sentence carries the group that closes its claim (design, "Citation markers")."""

from __future__ import annotations

from indexer.claims import Sentence, says_no_information, split_claims
from indexer.normalise import normalise
from tests.support import CORPUS, SEED_DOC


def claims(text: str) -> list[Sentence]:
    return split_claims(normalise(text))


def by_text(sentences: list[Sentence], start: str) -> Sentence:
    return next(s for s in sentences if s.text.startswith(start))


def test_seed_event_summary_claim_of_three_sentences_inherits_its_group() -> None:
    sentences = claims((CORPUS / SEED_DOC).read_text(encoding="utf-8"))
    for start in ("In June 2025, Meta announced", "Scale AI's founder, Alexandr Wang", "After the deal, Scale AI"):
        sentence = by_text(sentences, start)
        assert sentence.markers == ("[1]", "[6]")
        assert sentence.render().endswith("[1][6].")
    first = by_text(sentences, "In June 2025")
    assert first.render() == (
        "In June 2025, Meta announced the acquisition of a 49% non-voting stake in Scale AI "
        "for approximately $14.8 billion [1][6]."
    )


def test_seed_unmarked_text_and_headings_carry_no_markers() -> None:
    sentences = claims((CORPUS / SEED_DOC).read_text(encoding="utf-8"))
    for start in ("Workflow", "Report Industry Investment Rating", "Event Summary", "Regulatory Scrutiny"):
        assert by_text(sentences, start).markers == ()
    assert by_text(sentences, "Event Summary").kind == "heading"
    # Each of the seed's seven claims keeps its own group.
    groups = {s.group for s in sentences if s.markers}
    assert groups == {"[4][10]", "[1][6]", "[2][7]", "[2][12]", "[3][8]", "[4][9]"}


def test_scope_stops_at_the_previous_group() -> None:
    sentences = claims("Sales rose. Margins held [1]. Costs fell. Debt was repaid [2][3].")
    assert [s.markers for s in sentences] == [("[1]",), ("[1]",), ("[2]", "[3]"), ("[2]", "[3]")]


def test_scope_stops_at_a_bullet_and_a_heading() -> None:
    text = "Overview\nThe market grew. - Prices fell sharply [5]\n\nOutlook\nDemand may recover [6]"
    sentences = claims(text)
    assert by_text(sentences, "The market grew").markers == ()
    assert by_text(sentences, "Prices fell").markers == ("[5]",)
    assert by_text(sentences, "Outlook").markers == ()
    assert by_text(sentences, "Demand may recover").markers == ("[6]",)


def test_list_range_and_full_width_markers() -> None:
    sentences = claims("Output doubled [1, 2]. Exports rose. Imports fell [3-5]. 利润增长【1】。收入下降［2］。")
    assert by_text(sentences, "Output doubled").markers == ("[1]", "[2]")
    assert by_text(sentences, "Exports rose").markers == ("[3]", "[4]", "[5]")
    assert by_text(sentences, "利润增长").render() == "利润增长【1】。"
    assert by_text(sentences, "收入下降").markers == ("[2]",)


def test_group_inside_a_sentence_stays_where_it_was_written() -> None:
    (sentence,) = claims("Revenue grew 10% [1], while costs fell [2].")
    assert sentence.markers == ("[1]", "[2]")
    assert sentence.render() == "Revenue grew 10% [1], while costs fell [2]."


def test_text_without_markers_carries_none() -> None:
    sentences = claims("No information provided regarding the rating. The outlook is unclear.")
    assert [s.markers for s in sentences] == [(), ()]
    assert all(s.render() == s.text for s in sentences)


def test_spaced_hyphens_inside_words_versus_bullets() -> None:
    text = (
        "Core Viewpoints - A non - voting stake brings long - term gains [4] - "
        "An open - source plan - the main risk [5]"
    )
    sentences = claims(text)
    assert by_text(sentences, "A non-voting stake brings long-term gains").markers == ("[4]",)
    # A dash before a function word is punctuation, not a split word.
    assert by_text(sentences, "An open-source plan - the main risk").markers == ("[5]",)
    assert by_text(sentences, "Core Viewpoints").markers == ()


def test_abbreviations_and_decimals_do_not_end_sentences() -> None:
    sentences = claims("U.S. sales rose 3.5% vs. last year, e.g. in Q2. Mr. Lee agreed [9].")
    assert [s.text for s in sentences] == ["U.S. sales rose 3.5% vs. last year, e.g. in Q2.", "Mr. Lee agreed."]
    assert all(s.markers == ("[9]",) for s in sentences)


def test_an_inline_heading_is_split_from_the_sentence_it_runs_into() -> None:
    sentences = claims((CORPUS / SEED_DOC).read_text(encoding="utf-8"))
    heading = by_text(sentences, "Report Industry Investment Rating")
    assert (heading.text, heading.kind) == ("Report Industry Investment Rating", "heading")
    line = by_text(sentences, "No information provided")
    assert line.text == "No information provided regarding the report industry investment rating."
    assert line.markers == () and says_no_information(line.text)
    # A sentence that opens with capitalised names is no heading: it stays whole.
    (sentence,) = claims("The Federal Trade Commission said it may review the deal [4].")
    assert sentence.text == "The Federal Trade Commission said it may review the deal."
    assert not says_no_information(sentence.text)
