"""``citeqa index``: build or update the index of a corpus folder, here or with a Ray cluster's help."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import TYPE_CHECKING

from service.cli.index_summary import print_summary
from service.config import Settings

if TYPE_CHECKING:
    from indexer.build import Indexer
    from indexer.embedder import Embedder


def index_command(settings: Settings, args: argparse.Namespace) -> int:
    """0, or 1 when the corpus holds no readable report (the index is then left as it was)."""
    started = time.perf_counter()  # the time shown is all the user waited, loading the model included
    indexer = make_indexer(settings, progress=not args.quiet)
    report = indexer.run(settings.corpus_dir, settings.index_dir)
    seconds = time.perf_counter() - started
    from indexer.ray_build import RayCompute

    texts_by_node = indexer.compute.texts_by_node if isinstance(indexer.compute, RayCompute) else Counter[str]()
    print_summary(report, seconds, settings.corpus_dir, texts_by_node)
    return 1 if report.kept or report.nothing else 0


def make_indexer(settings: Settings, progress: bool, embedder: Embedder | None = None) -> Indexer:
    """The indexer ``settings`` describe, as ``citeqa index`` runs it: on a Ray cluster when
    ``ray_address`` is set, its actors loading the model with the same settings as this process."""
    from indexer.build import Indexer
    from indexer.embedder import Embedder

    compute = None
    if settings.ray_address:
        from indexer.ray_build import RayCompute

        compute = RayCompute(
            settings.ray_address,
            settings.model,
            settings.precision,
            settings.runtime,
            actors=settings.ray_actors,
            batch_size=settings.ray_batch_size,
            shard_vectors=settings.ray_shard_vectors,
            progress=progress,
        )
    return Indexer(
        embedder
        or Embedder(
            settings.model,
            precision=settings.precision,
            threads=settings.model_threads or None,
            runtime=settings.runtime,
        ),
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        index_type=settings.index_type,  # type: ignore[arg-type]
        progress=progress,
        max_file_bytes=settings.max_file_bytes,
        compute=compute,
    )
