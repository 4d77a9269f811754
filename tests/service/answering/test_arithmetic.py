"""A number a drafted sentence computed from the passages' figures is kept only when one of the usual
operations on the figures it states gives it, to the precision it is written with."""

from __future__ import annotations

import pytest

from service.answering.arithmetic import MAX_OPERANDS, explained


@pytest.mark.parametrize(
    ("result", "operands"),
    [
        ("25", ["100", "4"]),  # a ratio
        ("25", ["1", "4"]),  # a percentage
        ("12.5", ["90", "80"]),  # a percentage change, and nothing else of these two
        ("20", ["80", "100"]),  # a fall of 20%, written without its sign
        ("60", ["10", "20", "30"]),  # a sum of several
        ("20", ["10", "30"]),  # an average
        ("1,500", ["1,000", "500"]),  # figures written with thousands separators
    ],
)
def test_a_number_the_stated_figures_give_is_explained(result: str, operands: list[str]) -> None:
    assert explained(result, operands)


def test_a_number_no_operation_on_the_figures_gives_is_not_explained() -> None:
    assert not explained("42", ["10", "3"])
    assert not explained("4.5", ["9"]), "one figure alone explains nothing"
    assert not explained("many", ["1", "2"]), "not a number"


def test_a_result_is_held_to_the_precision_it_is_written_with() -> None:
    # 1 / 3 is 33.33...%; 8.1 / 4 is 2.025.
    assert explained("33", ["1", "3"]) and explained("33.3", ["1", "3"])
    assert not explained("33.4", ["1", "3"])
    assert explained("2.0", ["8.1", "4"]) and not explained("2.00", ["8.1", "4"])


def test_only_the_first_figures_of_a_sentence_citing_a_whole_table_are_tried() -> None:
    table = [str(n) for n in range(1, MAX_OPERANDS + 1)]
    assert explained("1100", ["1000", "100"])
    assert not explained("1100", [*table, "1000", "100"])
