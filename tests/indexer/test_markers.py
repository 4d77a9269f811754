from __future__ import annotations

import pytest

from indexer.markers import canonical_markers, markers_in, strip_markers


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("[4][10]", ["[4]", "[10]"]),
        ("[1, 2]", ["[1]", "[2]"]),
        ("[3-5]", ["[3]", "[4]", "[5]"]),
        ("[3–5]", ["[3]", "[4]", "[5]"]),
        ("【1】", ["[1]"]),
        ("［2］［7］", ["[2]", "[7]"]),
        ("[1] [1, 6]", ["[1]", "[6]"]),
    ],
)
def test_groups_expand_to_canonical_markers(group: str, expected: list[str]) -> None:
    assert canonical_markers(group) == expected


def test_markers_in_text_ignore_years_and_links() -> None:
    text = "Revenue in [2024] rose [1][6]; see [docs](x) and [2, 3]."
    assert markers_in(text) == ["[1]", "[6]", "[2]", "[3]"]


def test_strip_markers_leaves_the_words() -> None:
    assert strip_markers("uncertain [1][6] and 【3】 here") == "uncertain and here"
