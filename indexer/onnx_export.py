"""The model's whole module chain (transformer, pooling, normalisation: its own modules.json) exported once
with ``torch.onnx.export`` and kept under ``$XDG_CACHE_HOME/citeqa/onnx/<hash of the weights>/``."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.forward import EXAMPLE_TEXTS, quiet, tensors

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

ONNX_OPSET = 17


def onnx_cache() -> Path:
    """Where exported models are kept: ``$XDG_CACHE_HOME/citeqa/onnx`` (default ``~/.cache``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "citeqa" / "onnx"


def onnx_path(model: SentenceTransformer) -> Path:
    """The export of ``model``, keyed by a hash of its module chain (as its modules.json and module
    configs describe it) and of every weight: other weights or another pooling get an export of their own."""
    digest = hashlib.sha256(repr(model).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy())
    return onnx_cache() / digest.hexdigest()[:32] / "model.onnx"


def cached_export(model: SentenceTransformer) -> Path:
    """The export of ``model``, made the first time it is asked for."""
    path = onnx_path(model)
    if not path.exists():
        export_onnx(model, path)
    return path


def export_onnx(model: SentenceTransformer, path: Path) -> None:
    """``model``'s whole module chain (transformer, pooling, normalisation) as one ONNX graph from token
    ids to sentence embeddings, written to a temporary file and renamed into place: a reader never sees
    half an export, and two processes exporting at once both leave a whole one."""
    import torch

    class Chain(torch.nn.Module):
        """The model over positional tensors, as the exporter passes them."""

        def __init__(self, names: list[str]) -> None:
            super().__init__()
            self.model, self.names = model, names

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            """The sentence embeddings of the tensors the exporter passes, in the order of ``names``."""
            return self.model(dict(zip(self.names, inputs)))["sentence_embedding"]

    example = tensors(model.preprocess(EXAMPLE_TEXTS))
    names = list(example)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(handle)
    try:
        with quiet():
            torch.onnx.export(
                Chain(names).eval(),
                tuple(example.values()),
                temporary,
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={name: {0: "texts", 1: "tokens"} for name in names} | {"sentence_embedding": {0: "texts"}},
                opset_version=ONNX_OPSET,
                dynamo=False,  # the graph from tracing; the newer exporter needs onnxscript
            )
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
