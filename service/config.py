"""Settings from the environment (prefix ``CITEQA_``), overridable by command-line options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from indexer.embedder import Precision
from indexer.errors import ConfigurationError
from indexer.runtime import Runtime
from service.answering.fusion import NAME_WEIGHT, TEXT_WEIGHT, Fusion


class Settings(BaseSettings):
    """citeqa's settings: ``CITEQA_*`` environment variables (and a ``.env`` file), with command-line options
    on top (``settings_for``)."""

    model_config = SettingsConfigDict(env_prefix="CITEQA_", env_file=".env", extra="ignore")

    index_dir: Path = Path(".citeqa/index")
    corpus_dir: Path = Path("corpus")
    # A sentence-transformers model: a folder path or a name; empty means the bundled all-MiniLM-L6-v2.
    model: str | None = None
    # Arithmetic of the model. float32 gives the same vectors, and so the same answers, on every CPU;
    # bfloat16 (or `auto`: bfloat16 where the CPU computes it natively) is faster there, but its
    # rounding differs from one CPU to another, and rankings with it.
    precision: Precision = "float32"
    # What runs the model: ONNX Runtime (the model exported once, cached under ~/.cache/citeqa/onnx) or
    # torch. The same float32 vectors either way; ONNX Runtime embeds a question in under half torch's
    # time, batches and passages slower (eval/bench/BENCHMARKS.md). A model that cannot be
    # exported runs on torch, as does bfloat16.
    runtime: Runtime = "onnx"
    # Torch threads of the model; 0: half the cores when serving, every core when indexing.
    model_threads: int = Field(0, ge=0, le=1024)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # Worker processes of `citeqa serve` on the one port, each with its own model; the index they map
    # read-only is held once in memory (service/serving.py).
    workers: int = Field(1, ge=1, le=64)
    top_k: int = Field(5, ge=1, le=20)
    # An OpenAI-compatible server (llama.cpp, vLLM, Ollama, a hosted API) writes the answers when set;
    # its sentences are kept only where the passages support them (service/answering/generated.py).
    llm_url: str | None = None
    llm_model: str = "default"
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(20.0, gt=0, description="seconds for one request to the model")
    llm_deadline: float = Field(30.0, gt=0, description="seconds after which the extractive answer is given")
    llm_judge: bool = Field(
        False,
        description="ask the model, yes or no, whether a drafted sentence that passes every check but shares few "
        "words with its support is entailed by it; anything but yes drops the sentence",
    )
    chunk_size: int = Field(200, ge=16, le=2048, description="chunk length in model tokens")
    chunk_overlap: int = Field(40, ge=0, le=1024)
    # What BM25 adds to the cosine similarity when ranking chunks (service/answering/search_index.py): over chunk
    # texts, and over the words naming each document; both 0 is dense retrieval alone.
    lexical_weight: float = Field(TEXT_WEIGHT, ge=0, le=10)
    name_weight: float = Field(NAME_WEIGHT, ge=0, le=10)
    index_type: str = Field("auto", pattern="^(auto|flat|ivf)$")
    # A Ray cluster that embeds for `citeqa index` (indexer/ray_build.py): `auto` (the running cluster this
    # machine belongs to), `local` (one started for the build) or its address; unset: this process embeds.
    ray_address: str | None = None
    # Embedder actors of one CPU each; 0: one per CPU of the cluster.
    ray_actors: int = Field(0, ge=0)
    # Texts an actor embeds a call: the local build's 256, enough that a call's overhead is small.
    ray_batch_size: int = Field(256, ge=1, le=65536)
    # Chunks past which Ray tasks fill the IVF index in shards: below it the driver fills it in a few minutes,
    # a small share of the embedding; past it the fill, growing as n^1.5, catches up with the embedding
    # (eval/bench/BENCHMARKS.md, "Scaling out: the build").
    ray_shard_vectors: int = Field(2_000_000, ge=1)
    # Pages (scheme://host[:port]) that may call the API from a browser, comma-separated in the
    # environment; the server's own address is always allowed.
    allowed_origins: Annotated[list[str], NoDecode] = []
    # Request bodies beyond this many bytes get a 413 before the app reads them.
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    # Corpus files beyond this many bytes are skipped (and listed) by `citeqa index`.
    max_file_bytes: int = Field(100 * 1024 * 1024, ge=1)
    # When any key is set, the API routes answer only requests that carry one (service/api/access.py).
    api_keys: Annotated[list[SecretStr], NoDecode] = []
    # Public keys of the widget, `key@origin` comma-separated: a key works only from its page's origin.
    site_keys: Annotated[dict[str, str], NoDecode] = {}
    # Enables `POST /admin/reload`; without it the route answers 404.
    admin_key: SecretStr | None = None
    # Requests per client (site key, else address) of pages in a browser and of callers on other machines
    # without a valid API key (service/api/access.py): `N/second|minute|hour`, or `off`.
    rate_limit: str = Field("60/minute", pattern=r"^(off|[1-9][0-9]*/(second|minute|hour))$")
    # Hold callers on the server's own machine to the limit too: for a reverse proxy that does not
    # forward the caller's address, through which every request comes from loopback.
    rate_limit_local: bool = False
    # Requests a client may make at once before the rate applies; default: the rate's N.
    rate_burst: int | None = Field(None, ge=1)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("site_keys", mode="before")
    @classmethod
    def _split_site_keys(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            key, at, origin = item.partition("@")
            if not (key and at and "://" in origin):
                raise ConfigurationError(f"a site key is written key@scheme://host[:port] (got {item!r})")
            pairs[key] = origin.rstrip("/")
        return pairs

    @property
    def cors_origins(self) -> list[str]:
        """The configured origins plus the server's own, whichever name the page used to reach it, and
        the origins of the site keys."""
        own = [f"http://{host}:{self.port}" for host in ("127.0.0.1", "localhost", self.host)]
        return list(dict.fromkeys([*own, *self.allowed_origins, *self.site_keys.values()]))

    @property
    def fusion(self) -> Fusion:
        """The weights of the lexical scores, as retrieval takes them."""
        return Fusion(self.lexical_weight, self.name_weight)

    @property
    def rate(self) -> tuple[float, int] | None:
        """(requests a second, burst) of ``rate_limit``, or None when it is off."""
        if self.rate_limit == "off":
            return None
        count, _, period = self.rate_limit.partition("/")
        seconds = {"second": 1, "minute": 60, "hour": 3600}[period]
        return int(count) / seconds, self.rate_burst or int(count)
