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
