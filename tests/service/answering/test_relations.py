"""Who is on which side of what a model's sentence says, held against the report's sentence."""

from __future__ import annotations

import pytest

from service.answering.relations import (
    Deal,
    deal_in,
    direction_conflict,
    owner_swap,
    party_conflict,
    resolved,
    role_conflict,
    unstated_details,
    unstated_link,
)

ANNOUNCED = (
    "In June 2025, Meta announced the acquisition of a 49% non-voting stake in Scale AI for approximately "
    "$14.8 billion."
)
LEFT = (
    "After the acquisition, major AI clients such as Google, Microsoft, and xAI terminated their cooperation with "
    "Scale AI due to concerns about data leakage."
)
PLATFORM = "Scale AI's platform can help Meta build a complete AI development path."
STRATEGY = "Meta's open-source strategy faces commercialization challenges, while Scale AI has rich client resources."
DEAL = Deal("Meta", "Scale AI")
PARTIES = frozenset({"meta", "scale", "googl", "microsoft", "xai"})


def test_the_deal_is_read_from_the_passages_own_wording() -> None:
    assert deal_in((PLATFORM, ANNOUNCED)) == DEAL
    assert deal_in(("Meta's acquisition of Scale AI is a significant strategic move.",)) == DEAL
    assert deal_in((PLATFORM,)) is None


@pytest.mark.parametrize(
    "sentence",
    ["Scale AI, the buyer in this deal, took a 49% stake.", "Scale AI, as the investor, keeps running independently."],
)
def test_a_party_named_in_the_other_partys_role_is_refused(sentence: str) -> None:
    reason = role_conflict(sentence, DEAL)
    assert reason and "Scale AI" in reason and "Meta" in reason


def test_a_party_named_in_its_own_role_is_not() -> None:
    assert role_conflict("Meta, the buyer, paid about $14.8 billion.", DEAL) is None


def test_roles_are_written_as_the_parties_they_stand_for() -> None:
    assert resolved("Clients ended their partnerships with Scale AI's new owner.", DEAL) == (
        "Clients ended their partnerships with Meta."
    )
    assert resolved("It is the target's strategy, not the acquirer's.", DEAL) == (
        "It is Scale AI's strategy, not Meta's."
    )


def test_a_relation_turned_around_is_refused_and_one_restated_is_not() -> None:
    turned = "After the acquisition, Scale AI terminated its cooperation with Google, Microsoft and xAI."
    assert direction_conflict(turned, [LEFT], PARTIES)
    restated = "Google, Microsoft and xAI terminated their cooperation with Scale AI over data leakage."
    assert direction_conflict(restated, [LEFT], PARTIES) is None
    # Said in the passive, it is the same relation.
    assert direction_conflict("Scale AI was acquired by Meta.", ["Meta acquired Scale AI."], PARTIES) is None
    assert direction_conflict("Meta was acquired by Scale AI.", ["Meta acquired Scale AI."], PARTIES)


def test_another_party_after_a_preposition_is_refused() -> None:
    assert party_conflict("Clients ended their partnerships with Meta.", [LEFT], PARTIES)
    assert party_conflict("Clients ended their partnerships with Scale AI.", [LEFT], PARTIES) is None


def test_a_thing_given_another_owner_is_refused() -> None:
    assert owner_swap("It is Scale AI's open-source strategy that struggles.", STRATEGY)
    assert owner_swap("It is Meta's open-source strategy that struggles.", STRATEGY) is None


def test_a_link_no_supporting_sentence_states_is_refused() -> None:
    conflated = "Those gaps get filled thanks to Scale AI's government and enterprise client resources."
    assert unstated_link(conflated, [STRATEGY])
    assert unstated_link("Clients left because of data leakage fears.", [LEFT]) is None
    # "Therefore" before a computation shown is the arithmetic, not a claim's link.
    assert unstated_link("Its gross margin was therefore about 60.3% ($23,298 million / $38,655 million).", []) is None


@pytest.mark.parametrize(
    ("sentence", "word"),
    [
        ("Meta funded the purchase entirely in cash.", "cash"),
        ("The FTC approved the acquisition in July.", "approved"),
        ("That makes it Meta's largest outside investment to date.", "largest"),
    ],
)
def test_a_specific_no_passage_states_is_refused(sentence: str, word: str) -> None:
    reason = unstated_details(sentence, [ANNOUNCED, LEFT])
    assert reason and word in reason


def test_specifics_the_passages_state_are_not() -> None:
    assert unstated_details("Clients terminated their cooperation over data leakage.", [LEFT]) is None
