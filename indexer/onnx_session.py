"""An exported model run by ONNX Runtime on the CPU."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnxruntime

    from indexer.forward import Features, Forward


def onnx_session(path: Path, threads: int | None) -> onnxruntime.InferenceSession:
    """An ONNX Runtime session on the CPU with ``threads`` threads for an operation (None: one per core)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its optimiser's notices are not the user's concern
    # Threads that wait for work sleep rather than spin: on two cores shared with the server and other work,
    # spinning threads took the cores the others needed (see eval/bench/BENCHMARKS.md#onnx-runtimes-idle-threads).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def session_forward(path: Path, threads: int | None) -> Forward:
    """The forward pass of the model exported to ``path``, on a session of its own."""
    session = onnx_session(path, threads)
    names = [node.name for node in session.get_inputs()]

    def forward(features: Features) -> np.ndarray:
        """The sentence embeddings of one batch of features, run by the session."""
        return session.run(None, {name: features[name].numpy() for name in names})[0]

    return forward
