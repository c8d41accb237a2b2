"""A minimal Ollama embedding endpoint on 127.0.0.1 for the bench, so semantic vectors reach the memory
over HTTP through the bot's own `ai/` client, as in production.

Only what the client needs for embeddings: `GET /api/tags` (its health probe) and `POST /api/embed`.
It runs on the caller's event loop; the embedding function may block it (nothing else runs meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

EmbedFn = Callable[[list[str]], list[list[float]]]


class EmbedServer:
    def __init__(self, embed_fn: EmbedFn, model: str) -> None:
        self.embed_fn = embed_fn
        self.model = model
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> EmbedServer:
        app = web.Application()
        app.router.add_get("/api/tags", self._tags)
        app.router.add_post("/api/embed", self._embed)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _tags(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [{"name": f"{self.model}:latest", "model": f"{self.model}:latest"}]})

    async def _embed(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else [str(t) for t in texts]
        return web.json_response({"model": body.get("model", self.model), "embeddings": self.embed_fn(texts)})
