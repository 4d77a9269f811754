"""Settings from the environment (prefix ``CITEQA_``), overridable by command-line options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    # Pages (scheme://host[:port]) that may call the API from a browser, comma-separated in the
    # environment; the server's own address is always allowed.
    allowed_origins: Annotated[list[str], NoDecode] = []

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @property
    def cors_origins(self) -> list[str]:
        """The configured origins plus the server's own, whichever name the page used to reach it."""
        own = [f"http://{host}:{self.port}" for host in ("127.0.0.1", "localhost", self.host)]
        return list(dict.fromkeys([*own, *self.allowed_origins]))
