"""Which runtime runs the model's forward pass: ONNX Runtime for a text alone or a few together, the traced
torch graph for more, and the library's own ``encode`` where neither can be used or agrees with it.

Under the ``onnx`` runtime (the default) the model's export (``indexer/onnx_export.py``) runs on ONNX Runtime,
which computes the same float32 vectors as torch (cosine >= 0.9999, checked at load like the trace). It embeds
a question alone faster than torch, but large batches slower (see
eval/bench/BENCHMARKS.md#model-runtime-and-precision-speed-and-answers), so it takes up to ``ONNX_BATCH`` texts
and the traced torch graph larger batches: a lone question, the common case, is fast, and the index build is
not slowed. A model that cannot be exported, or whose export disagrees with the library, runs on torch, said
in one log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from indexer.onnx_export import cached_export
from indexer.onnx_session import session_forward
from indexer.traced import trace

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from indexer.forward import Forward

Runtime = Literal["onnx", "torch"]
# Texts embedded together at most for ONNX Runtime to take them; more go to the traced torch graph, faster for
# larger batches (see eval/bench/BENCHMARKS.md#onnx-runtimes-share-of-batches).
ONNX_BATCH = 4
logger = logging.getLogger(__name__)


def onnx_forward(
    model: SentenceTransformer, device: str, precision: str, threads: int | None, agrees: Callable[[Forward], bool]
) -> Forward | None:
    """``model``'s export (made once, then kept) run by ONNX Runtime with ``threads`` threads, or None, said
    in one log line, when it cannot be exported or run, or ``agrees`` finds its vectors unlike the library's."""
    if device != "cpu" or any(model.prompts.values()) or precision != "float32":
        logger.info("the model runs on torch: ONNX runs float32 models without prompts on the CPU")
        return None
    try:
        forward = session_forward(cached_export(model), threads)
        agreed = agrees(forward)
    except Exception as error:  # any failure leaves torch, which works
        logger.warning("the model could not be exported to ONNX (%s); running it on torch", error)
        return None
    if not agreed:
        logger.warning("the ONNX model disagrees with the library's; running it on torch")
        return None
    return forward


def traced_forward(model: SentenceTransformer, device: str, agrees: Callable[[Forward], bool]) -> Forward | None:
    """``model``'s forward pass as a traced graph, or None when it cannot be traced or ``agrees`` finds its
    vectors unlike the library's (a model with prompts, or whose modules branch on their input)."""
    if device != "cpu" or any(model.prompts.values()):
        logger.info("the model runs through the library's encode (prompts, or a device other than the CPU)")
        return None
    try:
        forward = trace(model)
        if not agrees(forward):
            logger.warning("the traced model disagrees with the library's; using the library's encode")
            return None
    except Exception as error:  # any failure leaves the library's encode, which works
        logger.warning("the model could not be traced (%s); using the library's encode", error)
        return None
    return forward


def forward_for(count: int, onnx: Forward | None, traced: Forward | None) -> Forward | None:
    """The pass for ``count`` texts embedded together: ONNX Runtime up to ``ONNX_BATCH`` texts, else the traced
    graph; None: the library's own ``encode``."""
    if onnx is not None and count <= ONNX_BATCH:
        return onnx
    return traced
