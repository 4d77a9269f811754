"""``citeqa eval --fail-under METRIC=VALUE``: the bars a run must clear, read and checked."""

from __future__ import annotations

from indexer.errors import ConfigurationError

Gate = tuple[str, float]


def read_gate(text: str) -> Gate:
    """(metric, threshold) of one ``--fail-under``, checked before the run: a typo is told at once."""
    from eval.report import METRIC_NAMES, definition

    metric, _, value = text.partition("=")
    metric = metric.strip()
    try:
        threshold = float(value)
    except ValueError:
        raise ConfigurationError(f"--fail-under takes METRIC=VALUE, e.g. accuracy=0.6 (got {text!r})") from None
    if not definition(metric):
        raise ConfigurationError(f"--fail-under: no metric {metric!r} (metrics: {', '.join(METRIC_NAMES)})")
    return metric, threshold


def failed_gates(gates: list[Gate], metrics: dict[str, float | int | None]) -> list[str]:
    """Each bar a run's ``metrics`` fall below (above, for a metric where lower is better), in words; a
    metric the run did not measure (``hit@7`` of a run at k=5) is a ``ConfigurationError``."""
    from eval.report import LOWER_IS_BETTER, format_value

    failed = []
    for metric, threshold in gates:
        if metric not in metrics:
            raise ConfigurationError(f"--fail-under: no metric {metric!r} (metrics: {', '.join(metrics)})")
        value = metrics[metric]
        worse = value is None or (value > threshold if metric in LOWER_IS_BETTER else value < threshold)
        if worse:
            failed.append(f"{metric} = {format_value(metric, value)} (limit {threshold})")
    return failed
