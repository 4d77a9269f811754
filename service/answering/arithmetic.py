"""Numbers a model computed from the passages' figures, recomputed before they are kept.

On a filing a model rarely copies its answer: it divides, subtracts, averages. A number the passages
do not hold is kept only when the sentence also states the figures it came from (those must be in the
passages) and one of the usual operations on them gives it, to the precision the sentence states.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import permutations

from service.answering.statements import value

# More stated figures than this are not tried in every pair (a sentence citing a whole table).
MAX_OPERANDS = 6


def explained(result: str, operands: list[str]) -> bool:
    """Whether ``result`` (as written, e.g. "42.1") is a ratio, difference, sum, percentage, percentage
    change or average of ``operands``, rounded as written."""
    stated = value(result, "")
    if stated is None:
        return False
    values = [v for v in (value(o, "") for o in operands[:MAX_OPERANDS]) if v is not None and v != stated]
    exponent = stated.as_tuple().exponent
    tolerance = Decimal(5) * Decimal(10) ** (exponent - 1) if isinstance(exponent, int) else Decimal(0)
    return any(abs(abs(candidate) - stated) <= tolerance for candidate in _candidates(values))


def _candidates(values: list[Decimal]) -> Iterator[Decimal]:
    if len(values) >= 2:
        yield sum(values, Decimal(0))
        yield sum(values, Decimal(0)) / len(values)
    for a, b in permutations(values, 2):
        yield a - b
        yield a + b
        if b:
            yield a / b
            yield a / b * 100
            yield (a - b) / b * 100

