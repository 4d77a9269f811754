"""The model's forward pass traced into a frozen TorchScript graph: the Python of the model's hundred-odd
modules costs more than a short question's arithmetic (see eval/bench/BENCHMARKS.md#tracing-the-model).

``torch.jit.trace`` is deprecated in favour of ``torch.compile``, which compiles anew at every start; the
Makefile and the Docker image pin torch, and the traced graph is checked against the library's own ``encode``
before it is used (``indexer/runtime.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from indexer.forward import EXAMPLE_TEXTS, quiet, tensors

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from indexer.forward import Features, Forward


def trace(model: SentenceTransformer) -> Forward:
    """``model``'s forward pass as a frozen graph; raises what tracing raises."""
    import torch

    with quiet(), torch.inference_mode():
        example = tensors(model.preprocess(EXAMPLE_TEXTS))
        traced = torch.jit.freeze(torch.jit.trace(model.eval(), (example,), strict=False))

    def forward(features: Features) -> np.ndarray:
        """The sentence embeddings of one batch of features, run by the frozen graph, as float32."""
        with torch.inference_mode():
            return traced(features)["sentence_embedding"].float().numpy()

    return forward
