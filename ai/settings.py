"""Typed configuration of the LLM connection.

The values come from app/settings.py, which holds every default; only the client's internal tuning
(how long a failure is remembered, how 503s are retried) has its defaults here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

BACKENDS = ("ollama", "openai")


@dataclass(frozen=True)
class ServerSpec:
    """One model server of a pool: its base URL and how many requests it may run at once."""

    url: str
    max_concurrency: int


@dataclass(frozen=True)
class LLMSettings:
    backend: str
    base_url: str
    model: str
    embed_model: str | None
    # repr=False: the key must never end up in logs or tracebacks.
    api_key: str | None = field(repr=False)
    connect_timeout: float
    # Generous by default: cold loads take tens of seconds, and giving up makes Ollama abort the load.
    first_token_timeout: float
    chunk_timeout: float
    total_timeout: float
    keep_alive: str
    num_ctx: int
    temperature: float
    num_predict: int
    max_concurrency: int
    # Answers one Discord server may ask the model for per minute (0 = no cap); enforced by the
    # answer pipeline, beyond it a message is answered as if the model were busy.
    server_requests_per_minute: int
    down_retry_after: float = 30.0
    busy_retries: int = 3
    # First wait before retrying a 503; doubles on each retry. Tests shrink it.
    busy_backoff: float = 0.5
    # A pool of chat servers (LLM_URL with several URLs); empty = the one server at base_url.
    servers: tuple[ServerSpec, ...] = ()
    # Where embeddings are asked for (EMBED_BACKEND / EMBED_URL); None / empty = the chat servers.
    embed_backend: str | None = None
    embed_urls: tuple[str, ...] = ()
    # "auto": the embedding model's cosines are mapped onto the scale the bars were chosen on (memory/scale.py);
    # "native": taken as they are (EMBED_SCALE).
    embed_scale: str = "auto"

    @property
    def chat_servers(self) -> tuple[ServerSpec, ...]:
        return self.servers or (ServerSpec(self.base_url, self.max_concurrency),)

    @property
    def embed_server_backend(self) -> str:
        return self.embed_backend or self.backend

    @property
    def embed_server_urls(self) -> tuple[str, ...]:
        return self.embed_urls or tuple(server.url for server in self.chat_servers)

    @property
    def embeds_on_chat_servers(self) -> bool:
        """Whether embeddings go to the chat servers themselves (one client per server does both)."""
        return self.embed_server_backend == self.backend and self.embed_server_urls == tuple(
            server.url for server in self.chat_servers
        )

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {self.backend!r}")
        if self.max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        for name in ("connect_timeout", "first_token_timeout", "chunk_timeout", "total_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.busy_retries < 0:
            raise ValueError("busy_retries must not be negative")
        if self.embed_backend is not None and self.embed_backend not in BACKENDS:
            raise ValueError(f"embed_backend must be one of {BACKENDS}, not {self.embed_backend!r}")
        if any(server.max_concurrency < 1 for server in self.servers):
            raise ValueError("every server's max_concurrency must be at least 1")
