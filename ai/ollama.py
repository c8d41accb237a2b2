"""Ollama's native API: ``/api/chat`` (NDJSON stream), ``/api/embed``, ``/api/tags``."""

from __future__ import annotations

import json
import logging
from typing import Any

from ai.client import LLMClient, has_model
from ai.errors import LLMError, LLMResponseError, ModelNotFound
from ai.types import ChatMessage, ChatShape, LineParser, StreamEvent

log = logging.getLogger(__name__)


def pull_hint(model: str) -> str:
    return f"ollama pull {model}"


def error_message(body: str) -> str:
    """The ``error`` text of an Ollama error body, or the raw body."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:300]
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"]
    return body.strip()[:300]


def parse_ndjson_line(line: str) -> StreamEvent | None:
    if not line:
        return None
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise LLMResponseError(f"the server sent a line that is not JSON: {line[:200]!r}") from exc
    if not isinstance(data, dict):
        raise LLMResponseError(f"unexpected stream line: {line[:200]!r}")
    if "error" in data:
        raise LLMResponseError(f"the model failed mid-answer: {data['error']}")
    message = data.get("message") or {}
    # /api/generate streams "response" instead of "message".
    text = message.get("content", "") if isinstance(message, dict) else ""
    text = text or data.get("response", "") or ""
    done = bool(data.get("done", False))
    return StreamEvent(
        text=text,
        done=done,
        done_reason=data.get("done_reason") if done else None,
        eval_count=data.get("eval_count") if done else None,
    )


class OllamaClient(LLMClient):
    server_name = "Ollama"
    listed_models_only = True  # a model Ollama does not list has to be pulled first
    start_hint = "start it with: ollama serve"

    def pull_hint(self, model: str) -> str | None:
        return pull_hint(model)

    def _chat_request(self, messages: list[ChatMessage]) -> tuple[str, dict[str, Any]]:
        s = self.settings
        body: dict[str, Any] = {
            "model": s.model,
            "messages": messages,
            "stream": True,
            "keep_alive": s.keep_alive,
            # Reasoning models (qwen3, deepseek-r1) would think first: slower, and older servers put the
            # thinking in the answer. Only `think: true` is refused by models that cannot think.
            "think": False,
            # Always sent: Ollama's default num_ctx (2048) silently drops the oldest messages.
            "options": {"num_ctx": s.num_ctx, "temperature": s.temperature, "num_predict": s.num_predict},
        }
        return self._url("/api/chat"), body

    def _shape(self, body: dict[str, Any], shape: ChatShape) -> None:
        # `format` with a JSON schema: Ollama constrains the output with a grammar (structured outputs).
        body["format"] = shape.schema
        body["options"] = {**body["options"], "temperature": 0, "num_predict": shape.max_tokens}

    def _line_parser(self) -> LineParser:
        return parse_ndjson_line

    def _error_message(self, body: str) -> str:
        return error_message(body)

    async def _list_models(self) -> list[str]:
        data = await self._get_json("/api/tags")
        models = data.get("models") if isinstance(data, dict) else None
        if not isinstance(models, list):
            raise LLMResponseError("/api/tags did not return a model list")
        return [str(m.get("name") or m.get("model")) for m in models if isinstance(m, dict)]

    async def _probe(self) -> None:
        # /api/tags proves the server is up *and* tells whether the model is there.
        names = await self._list_models()
        if not has_model(self.settings.model, names):
            raise ModelNotFound(self.settings.model, pull_hint(self.settings.model))

    async def _embed_batch(self, model: str, texts: list[str], timeout: float) -> list[list[float]]:
        body = {"model": model, "input": texts, "keep_alive": self.settings.keep_alive}
        data = await self._post_json("/api/embed", body, timeout)
        got = data.get("embeddings") if isinstance(data, dict) else None
        if not isinstance(got, list):
            raise LLMResponseError("/api/embed returned no embeddings")
        return [[float(x) for x in vec] for vec in got]

    async def _version(self) -> str | None:
        data = await self._get_json("/api/version")
        version = data.get("version") if isinstance(data, dict) else None
        return str(version) if version is not None else None

    async def _loaded_models(self) -> list[str]:
        # /api/ps is informative only (is the model warm?); older servers lack it.
        try:
            data = await self._get_json("/api/ps")
        except LLMError:
            return []
        models = data.get("models") if isinstance(data, dict) else None
        return [str(m.get("name")) for m in models or [] if isinstance(m, dict)]
