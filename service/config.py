"""Settings from the environment (prefix ``CITEQA_``), overridable by command-line options."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITEQA_", env_file=".env", extra="ignore")

    index_dir: Path = Path(".citeqa/index")
    corpus_dir: Path = Path("corpus")
    # A sentence-transformers model: a folder path or a name; empty means the bundled all-MiniLM-L6-v2.
    model: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    top_k: int = Field(5, ge=1, le=20)
    chunk_size: int = Field(200, ge=16, le=2048, description="chunk length in model tokens")
    chunk_overlap: int = Field(40, ge=0, le=1024)
    index_type: str = Field("auto", pattern="^(auto|flat|hnsw)$")
