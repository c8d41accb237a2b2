"""A fake OpenAI-compatible server (llama.cpp / vLLM style) on 127.0.0.1.

Same threading model and scripting as ``FakeOllama`` (``Reply``/``Fail`` steps)::

    with FakeOpenAI(api_key="sk-test") as fake:
        fake.script(Reply("Hi", chunk_delay=0.1), Fail(503, "Loading model"))
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.ollama import Fail, Reply, ThreadedFakeServer, default_embed_fn

__all__ = ["Fail", "FakeOpenAI", "Reply"]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
    503: "unavailable_error",
}


def error_body(status: int, message: str, code: str | int | None = None) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "code": code or status}}


class FakeOpenAI(ThreadedFakeServer):
    name = "fake-openai"
    generation_paths = frozenset({"/v1/chat/completions"})

    def __init__(
        self,
        *,
        models: tuple[str, ...] | list[str] = ("llama3", "all-minilm"),
        api_key: str | None = None,
        embed_fn: Callable[[list[str]], list[list[float]]] | None = None,
        default_reply: str = "This is the fake model's answer.",
        port: int = 0,
    ) -> None:
        super().__init__(port=port)
        self.models = list(models)
        self.api_key = api_key
        self.embed_fn = embed_fn or default_embed_fn
        self.default_reply = default_reply
        # Requests with a `response_format` (classifications) are answered apart from the conversation script.
        self.structured_default = '{"label": "normal"}'

    def chat_requests(self) -> list[dict[str, Any]]:
        """Conversation requests (without a `response_format`)."""
        return [r for r in self.requests_to("/v1/chat/completions") if not r.get("response_format")]

    def structured_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests_to("/v1/chat/completions") if r.get("response_format")]

    def start(self) -> FakeOpenAI:
        super().start()
        return self

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.record_middleware, self.auth_middleware])
        app.router.add_get("/v1/models", self.list_models)
        app.router.add_post("/v1/chat/completions", self.chat_completions)
        app.router.add_post("/v1/embeddings", self.embeddings)
        app.router.add_get("/health", self.health)
        return app

    @web.middleware
    async def auth_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response(error_body(401, "Invalid API Key", "invalid_api_key"), status=401)
        return await handler(request)

    def _has(self, model: str) -> bool:
        return model in self.models

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def list_models(self, request: web.Request) -> web.Response:
        data = [{"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "fake"} for m in self.models]
        return web.json_response({"object": "list", "data": data})

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response(error_body(400, "Invalid JSON body"), status=400)
        step = Reply(self.structured_default) if body.get("response_format") else self.next_step()
        if isinstance(step, Fail):
            await asyncio.sleep(step.delay)
            return web.json_response(error_body(step.status, step.error), status=step.status)
        model = str(body.get("model", ""))
        if not self._has(model):
            message = f"The model `{model}` does not exist."
            return web.json_response(error_body(404, message, "model_not_found"), status=404)
        reply = step or Reply(self.default_reply)
        await asyncio.sleep(reply.first_byte_delay)
        if not body.get("stream"):
            return web.json_response(self._completion(model, reply))
        return await self._stream(request, model, reply)

    @staticmethod
    def _chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def _completion(self, model: str, reply: Reply) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text},
                    "finish_reason": reply.done_reason,
                }
            ],
            "usage": {"prompt_tokens": 42, "completion_tokens": len(reply.chunks()), "total_tokens": 0},
        }

    async def _stream(self, request: web.Request, model: str, reply: Reply) -> web.StreamResponse:
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)

        async def event(payload: Any) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload)
            await response.write(f"data: {data}\n\n".encode())

        await event(self._chunk(model, {"role": "assistant", "content": ""}, None))
        chunks = reply.chunks()
        for index in range(len(chunks) + 1):
            if index == reply.error_after_chunks:
                await event(error_body(500, reply.error))
                return response
            if index == reply.truncate_after_chunks:
                await asyncio.sleep(0.05)  # let the client read what came before (see FakeOllama)
                if request.transport is not None:
                    request.transport.close()
                return response
            if index == len(chunks):
                break
            if index:
                await asyncio.sleep(reply.chunk_delay)
            await event(self._chunk(model, {"content": chunks[index]}, None))
            if reply.garbage and index == 0:
                await response.write(b"data: <html>502 Bad Gateway</html>\n\n")
        await asyncio.sleep(reply.chunk_delay)
        final = self._chunk(model, {}, reply.done_reason)
        final["usage"] = {"prompt_tokens": 42, "completion_tokens": len(chunks), "total_tokens": 42}
        await event(final)
        await event("[DONE]")
        await response.write_eof()
        return response

    async def embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        model = str(body.get("model", ""))
        if not self._has(model):
            return web.json_response(error_body(404, f"The model `{model}` does not exist."), status=404)
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        vectors = self.embed_fn(texts)
        data = [{"object": "embedding", "index": i, "embedding": vec} for i, vec in enumerate(vectors)]
        return web.json_response({"object": "list", "data": data, "model": model})
