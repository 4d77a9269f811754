"""Which model files an index was built with, known without loading the model.

An unchanged corpus is "up to date" in a fraction of a second only if the model need not be loaded to
tell that its vectors still fit: the files of the model folder are fingerprinted (their content hashed,
and each file's size and modification time kept, so the hash is computed again only when a file
changed). The same weights in another folder have the same fingerprint; other weights another one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def model_fingerprint(source: str, known: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """``{"files": {name: [size, mtime_ns]}, "sha256": ...}`` of the model folder ``source``; None for a
    model that is no local folder. ``known``: a fingerprint taken before, whose hash is reused when no
    file's size or time has changed."""
    folder = Path(source)
    if not folder.is_dir():
        return None
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    files = {p.relative_to(folder).as_posix(): [p.stat().st_size, p.stat().st_mtime_ns] for p in paths}
    if known is not None and known.get("files") == files:
        return known
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(folder).as_posix().encode())
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    return {"files": files, "sha256": digest.hexdigest()}


def same_files(built: dict[str, Any] | None, current: dict[str, Any] | None) -> bool:
    """Whether two fingerprints are of the same model files (wherever they lie)."""
    return bool(built and current and built.get("sha256") == current.get("sha256"))
