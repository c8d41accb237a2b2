"""The values the model-server client takes and returns, importable without the HTTP client."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ai.settings import LLMSettings

# {"role": "system" | "user" | "assistant", "content": "..."}
ChatMessage = dict[str, str]
# Called with the caller's place in line (1 = next) whenever it changes while waiting for the model.
OnQueued = Callable[[int], Awaitable[None]]


@dataclass
class ChatResult:
    text: str
    done_reason: str | None
    eval_count: int | None
    duration_s: float


@dataclass(frozen=True)
class ChatShape:
    """Constrains an answer for a classification: it must follow `schema` (a JSON schema; Ollama's `format`,
    OpenAI's `response_format`), within `max_tokens`, at temperature 0 (the same input, the same label)."""

    schema: dict[str, Any]
    max_tokens: int = 24


@dataclass
class StreamEvent:
    """One parsed line of a streamed answer."""

    text: str = ""
    done: bool = False
    done_reason: str | None = None
    eval_count: int | None = None


# Parses one line of a streamed response; None for lines that carry nothing (keep-alives, comments).
LineParser = Callable[[str], StreamEvent | None]


@dataclass
class ServerStatus:
    """What /status and `python bot.py check` show about the model server."""

    reachable: bool
    version: str | None
    model: str
    model_available: bool
    embed_model: str | None
    embed_model_available: bool | None
    models: list[str]
    error: str | None
    # How to install every missing model ("ollama pull a && ollama pull b"); None when nothing is
    # missing or the backend has no such command (an OpenAI-compatible server serves what it loaded).
    pull_hint: str | None
    loaded_models: list[str] = field(default_factory=list)
    # How to install the embedding model, if it is missing and the backend can say.
    embed_pull_hint: str | None = None
    # What to do when the server is not reachable.
    start_hint: str = "start your model server"


class HealthView(Protocol):
    """What callers read of a model's health (``ai.health.Health``, or a pool's over its servers)."""

    @property
    def available(self) -> bool: ...

    @property
    def last_error(self) -> str | None: ...


class ChatModel(Protocol):
    """What the answer pipeline and the summaries need of "the model": one server's ``LLMClient`` or the
    bot's ``ai.pool.ModelPool`` over several."""

    @property
    def settings(self) -> LLMSettings: ...

    @property
    def health(self) -> HealthView: ...

    def chat_stream(
        self, messages: list[ChatMessage], *, on_queued: OnQueued | None = None
    ) -> AsyncGenerator[str, None]: ...

    async def chat(
        self, messages: list[ChatMessage], *, on_queued: OnQueued | None = None, shape: ChatShape | None = None
    ) -> ChatResult: ...
