"""A forward pass of the model over one batch of the library's features, whichever runtime runs it, and what
tracing, export and their checks share: the texts they are made from and checked on, and quiet meanwhile."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

    Features = dict[str, torch.Tensor]
    # One batch of the library's features to its sentence embeddings.
    Forward = Callable[[Features], np.ndarray]

# Embedding this text identifies a model's weights: two indexes built with different weights differ here.
PROBE_TEXT = "citeqa model probe: quarterly revenue grew 12% [1]."
# Texts a traced or exported model must embed as the library does before it is used, for both kinds of text: a
# batch of lengths and size unlike the two it was traced with, and one text alone, unpadded.
CHECK_TEXTS = [PROBE_TEXT, "Net revenue by segment, fiscal 2023 against 2022 (in millions) " * 6, "margin"]
# The batch a graph is traced or exported with.
EXAMPLE_TEXTS = CHECK_TEXTS[:2]


def tensors(features: dict[str, object]) -> Features:
    """The tensors among the library's features (it adds bookkeeping such as ``modality``)."""
    import torch

    return {name: value for name, value in features.items() if isinstance(value, torch.Tensor)}


@contextmanager
def quiet() -> Iterator[None]:
    """Silence the tracer's warnings and the library's deprecation notices (the tracer reads every
    attribute of the model): whether the traced model is right is decided by comparing vectors."""
    libraries = [logging.getLogger(name) for name in ("sentence_transformers", "transformers")]
    levels = [library.level for library in libraries]
    for library in libraries:
        library.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for library, level in zip(libraries, levels):
            library.setLevel(level)
