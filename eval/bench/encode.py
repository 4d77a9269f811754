"""The model alone encoding exactly the texts an index embedded, the way `citeqa index` encodes them (the
traced model, batches of like length) and in a process of its own as `citeqa index` runs in: the
ceiling of index-build throughput.

    python -m eval.bench.encode INDEX_DIR

Prints ``{"texts": N, "seconds": S}``; the model is loaded and warmed up before the clock starts, as the
indexer's own figure also leaves loading out.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from indexer.build import passage_text
from indexer.clauses import clauses_of
from indexer.embedder import Embedder
from indexer.index_files import IndexData, read_index


def embedded_texts(data: IndexData) -> list[str]:
    """What the indexer embedded for ``data``: every sentence but headings, their clauses, and every chunk
    with its document's names and title."""
    records = {document.doc_id: document for document in data.documents}
    sentences = [sentence.text for sentence in data.sentences if sentence.kind != "heading"]
    clauses = [clause for text in sentences for clause in clauses_of(text)]
    return sentences + clauses + [passage_text(records[chunk.doc_id], chunk.text) for chunk in data.chunks]


def main() -> None:
    """``python -m eval.bench.encode INDEX_DIR``: print how long the model takes to encode the index's embedded texts,
    once it is loaded and warm."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dir", type=Path)
    args = parser.parse_args()
    texts = embedded_texts(read_index(args.index_dir, with_store=False))
    embedder = Embedder()  # the defaults `citeqa index` uses: same precision, every core
    embedder.warm_up()
    embedder.embed_documents(texts[: embedder.batch_size])
    started = time.perf_counter()
    embedder.embed_documents(texts)
    print(json.dumps({"texts": len(texts), "seconds": round(time.perf_counter() - started, 3)}))


if __name__ == "__main__":
    main()
