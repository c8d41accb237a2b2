"""An instant Ollama-shaped model server on 127.0.0.1 for benches that drive the whole bot.

It runs in its own thread with its own event loop whose clock is the real one (SimCord patches
`time.monotonic` for the bot's loop), answers every chat at once with a short streamed reply and every
embedding with a hashed-trigram vector (similar texts, similar vectors). The tests have a scriptable one
(tests/fakes/ollama.py); benches do not import the tests.
"""

from __future__ import annotations

import asyncio
import json
import math
import selectors
import threading
import zlib
from typing import Any

from aiohttp import web

ANSWER = "This is the fake model's answer."
MODELS = ("llama3:latest", "all-minilm:latest")


def hashed_embedding(text: str, dim: int = 64) -> list[float]:
    vec = [0.0] * dim
    padded = f"  {text.lower()}  "
    for i in range(len(padded) - 2):
        h = zlib.crc32(padded[i : i + 3].encode())
        vec[h % dim] += 1.0 if (h >> 16) & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vec)) or 1.0
    return [x / norm for x in vec]


class _RealClockLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__(selectors.DefaultSelector())

    def time(self) -> float:
        from simcord._dpy_internals import real_monotonic

        return float(real_monotonic())


def _model(name: str) -> dict[str, Any]:
    return {"name": name, "model": name, "size": 1, "digest": f"{zlib.crc32(name.encode()):08x}", "details": {}}


async def _tags(request: web.Request) -> web.Response:
    return web.json_response({"models": [_model(m) for m in MODELS]})


async def _ps(request: web.Request) -> web.Response:
    return web.json_response({"models": [_model(MODELS[0])]})


async def _version(request: web.Request) -> web.Response:
    return web.json_response({"version": "0.9.0"})


async def _root(request: web.Request) -> web.Response:
    return web.Response(text="Ollama is running")


async def _chat(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    model = body.get("model", "llama3")
    if body.get("stream", True) is False:
        return web.json_response(
            {"model": model, "message": {"role": "assistant", "content": ANSWER}, "done": True, "done_reason": "stop"}
        )
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    for start in range(0, len(ANSWER), 8):
        line = {"model": model, "message": {"role": "assistant", "content": ANSWER[start : start + 8]}, "done": False}
        await response.write(json.dumps(line).encode() + b"\n")
    done = {"model": model, "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}
    await response.write(json.dumps({**done, "eval_count": 5}).encode() + b"\n")
    await response.write_eof()
    return response


async def _embed(request: web.Request) -> web.Response:
    body = await request.json()
    texts = body.get("input", [])
    texts = [texts] if isinstance(texts, str) else texts
    return web.json_response({"model": body.get("model"), "embeddings": [hashed_embedding(t) for t in texts]})


class InstantModel:
    """`with InstantModel() as model:` … `model.url`."""

    def __init__(self) -> None:
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> InstantModel:
        ready = threading.Event()

        def serve() -> None:
            loop = _RealClockLoop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application()
            app.router.add_get("/", _root)
            app.router.add_get("/api/version", _version)
            app.router.add_get("/api/tags", _tags)
            app.router.add_get("/api/ps", _ps)
            app.router.add_post("/api/chat", _chat)
            app.router.add_post("/api/embed", _embed)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, daemon=True, name="instant-model")
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
