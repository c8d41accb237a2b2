"""OpenAI-compatible servers (llama.cpp, vLLM, LM Studio, Ollama's /v1): SSE chat streams."""

from __future__ import annotations

import json
import logging
from typing import Any

from ai.client import LLMClient
from ai.errors import LLMResponseError
from ai.types import ChatMessage, ChatShape, LineParser, StreamEvent

log = logging.getLogger(__name__)


def error_message(body: str) -> str:
    """``error.message`` of an OpenAI-style error body, or the raw body."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:300]
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or err)
    if isinstance(err, str):
        return err
    return body.strip()[:300]


class SSEParser:
    """Turns ``data:`` lines of a chat-completions stream into StreamEvents."""

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.completion_tokens: int | None = None

    def __call__(self, line: str) -> StreamEvent | None:
        if not line or line.startswith(":"):
            return None  # event separator or comment (keep-alive)
        if line.startswith("data:"):
            payload = line[5:].strip()
        elif line.startswith("{"):
            payload = line  # some servers send a bare JSON error instead of an event
        else:
            return None  # "event:", "id:", "retry:" carry nothing we need
        if payload == "[DONE]":
            return StreamEvent(done=True, done_reason=self.finish_reason, eval_count=self.completion_tokens)
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise LLMResponseError(f"the server sent an event that is not JSON: {payload[:200]!r}") from exc
        if not isinstance(data, dict):
            raise LLMResponseError(f"unexpected event: {payload[:200]!r}")
        if "error" in data:
            raise LLMResponseError(f"the model failed mid-answer: {error_message(payload)}")
        usage = data.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            self.completion_tokens = usage["completion_tokens"]
        text = ""
        for choice in data.get("choices") or []:
            delta = choice.get("delta") or {}
            text += delta.get("content") or ""
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return StreamEvent(text=text)


class OpenAIClient(LLMClient):
    server_name = "the server"

    def _url(self, path: str) -> str:
        # Accept base_url with or without the /v1 suffix.
        base = self.settings.base_url.rstrip("/")
        base = base.removesuffix("/v1")
        return f"{base}/v1{path}"

    def _headers(self) -> dict[str, str]:
        if self.settings.api_key:
            return {"Authorization": f"Bearer {self.settings.api_key}"}
        return {}

    def _chat_request(self, messages: list[ChatMessage]) -> tuple[str, dict[str, Any]]:
        s = self.settings
        body: dict[str, Any] = {
            "model": s.model,
            "messages": messages,
            "stream": True,
            "temperature": s.temperature,
            "max_tokens": s.num_predict,
            # No "think: false" here: the API has no such switch and api.openai.com refuses unknown
            # fields. Servers that separate reasoning send it as `reasoning_content`, which is never
            # read (SSEParser); those that inline it as <think>…</think> are cleaned by ai/think.py.
        }
        return self._url("/chat/completions"), body

    def _shape(self, body: dict[str, Any], shape: ChatShape) -> None:
        # Structured outputs (llama.cpp, vLLM and LM Studio accept a JSON schema here too).
        body["response_format"] = {
            "type": "json_schema", "json_schema": {"name": "answer", "schema": shape.schema, "strict": True},
        }  # fmt: skip
        body["temperature"] = 0
        body["max_tokens"] = shape.max_tokens

    def _line_parser(self) -> LineParser:
        return SSEParser()

    def _error_message(self, body: str) -> str:
        return error_message(body)

    async def _list_models(self) -> list[str]:
        data = await self._get_json("/models")
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise LLMResponseError("/v1/models did not return a model list")
        return [str(item.get("id")) for item in items if isinstance(item, dict)]

    async def _probe(self) -> None:
        # Single-model servers (llama.cpp) ignore the model name, so reachability is enough.
        await self._list_models()

    async def _embed_batch(self, model: str, texts: list[str], timeout: float) -> list[list[float]]:
        data = await self._post_json("/embeddings", {"model": model, "input": texts}, timeout)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise LLMResponseError("/v1/embeddings returned no embedding list")
        items = sorted(items, key=lambda item: item.get("index", 0))
        return [[float(x) for x in item.get("embedding") or []] for item in items]
