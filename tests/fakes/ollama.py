"""A protocol-faithful fake Ollama server on 127.0.0.1, scriptable per test.

It runs in its own thread with its own event loop, so it keeps real time even when
the test's loop is virtualised (SimCord patches ``time.monotonic`` and the test
loop's timers). Its loop reads a saved reference to the real monotonic clock.

    with FakeOllama() as fake:
        fake.script(Reply("Hello there", first_byte_delay=0.5), Fail(503, "server busy"))
        ...  # point LLMSettings(base_url=fake.url) at it
        assert fake.chat_requests()[0]["options"]["num_ctx"] == 4096
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import selectors
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)


def _find_real_monotonic() -> Callable[[], float]:
    clock = time.monotonic
    if getattr(clock, "__name__", "") == "_clock_monotonic":  # imported while SimCord runs
        from simcord._dpy_internals import real_monotonic

        return real_monotonic
    return clock


_REAL_MONOTONIC = _find_real_monotonic()


class RealClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose timers follow the real clock, whatever patches time.monotonic."""

    def __init__(self) -> None:
        super().__init__(selectors.DefaultSelector())

    def time(self) -> float:
        return _REAL_MONOTONIC()


@dataclass
class Reply:
    """A scripted answer: streamed in ``chunk_size``-character pieces."""

    text: str
    chunk_size: int = 8
    first_byte_delay: float = 0
    chunk_delay: float = 0
    error_after_chunks: int | None = None  # then a {"error": ...} line, status stays 200
    truncate_after_chunks: int | None = None  # then close the connection without done
    garbage: bool = False  # a non-JSON line after the first chunk
    done_reason: str = "stop"
    error: str = "an error was encountered while running the model: unexpected EOF"
    # A reasoning model's thinking: streamed first as "<think>…</think>" inside the answer text,
    # as older servers do, unless the request says `"think": false` (then the model skips it).
    thinking: str = ""
    # Held back (no headers) until the test sets this event: lets a test decide when a request ends.
    hold: threading.Event | None = None

    def chunks(self, think: bool | None = None) -> list[str]:
        text = self.text
        if self.thinking and think is not False:
            text = f"<think>{self.thinking}</think>\n{text}"
        size = max(1, self.chunk_size)
        return [text[i : i + size] for i in range(0, len(text), size)]


@dataclass
class Fail:
    """A scripted HTTP error, e.g. ``Fail(404, 'model "llama3" not found, try pulling it first')``."""

    status: int
    error: str
    delay: float = 0


def hashed_embedding(text: str, dim: int = 64) -> list[float]:
    """Deterministic, normalised character-trigram hashing: similar texts, similar vectors."""
    vec = [0.0] * dim
    padded = f"  {text.lower()}  "
    for i in range(len(padded) - 2):
        h = zlib.crc32(padded[i : i + 3].encode("utf-8", "surrogatepass"))  # Ollama takes any JSON string
        vec[h % dim] += 1.0 if (h >> 16) & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vec)) or 1.0
    return [x / norm for x in vec]


def default_embed_fn(texts: list[str]) -> list[list[float]]:
    return [hashed_embedding(t) for t in texts]


Step = Reply | Fail


class ThreadedFakeServer:
    """Runs an aiohttp app on 127.0.0.1 in a private thread; start()/stop() are synchronous."""

    name = "fake-server"
    # Only generation requests count towards in_flight / max_in_flight.
    generation_paths: frozenset[str] = frozenset()

    def __init__(self, *, port: int = 0) -> None:
        self.port = port
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._steps: deque[Step] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def make_app(self) -> web.Application:
        raise NotImplementedError

    # -- scripting ---------------------------------------------------------------

    def script(self, *steps: Step) -> None:
        """Queue behaviours for the next chat/generate calls, first in first out."""
        with self._lock:
            self._steps.extend(steps)

    def next_step(self) -> Step | None:
        with self._lock:
            return self._steps.popleft() if self._steps else None

    def pending_steps(self) -> int:
        with self._lock:
            return len(self._steps)

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> ThreadedFakeServer:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} already running")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._loop = RealClockLoop()
        self._thread = threading.Thread(target=self._serve, args=(ready, failure), name=self.name, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{self.name} did not start")
        if failure:
            self._thread.join(5)
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            self._thread = None
            self._loop = None

    def __enter__(self) -> ThreadedFakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _startup(self) -> None:
        # handler_cancellation: like Ollama, stop work when the client goes away.
        self._runner = web.AppRunner(self.make_app(), handler_cancellation=True, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- helpers for handlers ------------------------------------------------------

    @web.middleware
    async def record_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
        self.requests.append(
            {"method": request.method, "path": request.path, "json": body, "headers": dict(request.headers)}
        )
        if request.path not in self.generation_paths:
            return await handler(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await handler(request)
        finally:
            self.in_flight -= 1

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        return [r["json"] for r in self.requests if r["path"] == path]


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class FakeOllama(ThreadedFakeServer):
    name = "fake-ollama"
    generation_paths = frozenset({"/api/chat", "/api/generate"})

    def __init__(
        self,
        *,
        models: tuple[str, ...] | list[str] = ("llama3:latest", "all-minilm:latest"),
        version: str = "0.6.2",
        embed_fn: Callable[[list[str]], list[list[float]]] | None = None,
        default_reply: str = "This is the fake model's answer.",
        port: int = 0,
    ) -> None:
        super().__init__(port=port)
        self.models = list(models)
        self.version = version
        self.embed_fn = embed_fn or default_embed_fn
        self.default_reply = default_reply
        self.loaded: set[str] = set()
        # /api/embed behaviour (not scripted per call): a slow model, or an HTTP error.
        self.embed_delay: float = 0.0
        self.embed_failure: Fail | None = None
        # Requests with a `format` (a JSON schema: classifications such as the urgency check) have their own
        # script, so they never take the answers scripted for conversations; unscripted, they get the default.
        self.structured_default = '{"label": "normal"}'
        self._structured: deque[Step] = deque()

    def chat_requests(self) -> list[dict[str, Any]]:
        """JSON bodies of the /api/chat calls that answer conversations (no `format`), in arrival order."""
        return [r for r in self.requests_to("/api/chat") if not (isinstance(r, dict) and r.get("format"))]

    def structured_requests(self) -> list[dict[str, Any]]:
        """JSON bodies of the /api/chat calls constrained by a `format` (classifications)."""
        return [r for r in self.requests_to("/api/chat") if isinstance(r, dict) and r.get("format")]

    def script_structured(self, *steps: Step | str) -> None:
        """Queue answers (text, a Reply or a Fail) for the next requests that carry a `format`."""
        with self._lock:
            self._structured.extend(Reply(s) if isinstance(s, str) else s for s in steps)

    def next_structured(self) -> Step:
        with self._lock:
            return self._structured.popleft() if self._structured else Reply(self.structured_default)

    def start(self) -> FakeOllama:
        super().start()
        return self

    def __enter__(self) -> FakeOllama:
        return self.start()

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.record_middleware])
        app.router.add_get("/", self.root)
        app.router.add_get("/api/version", self.api_version)
        app.router.add_get("/api/tags", self.api_tags)
        app.router.add_get("/api/ps", self.api_ps)
        app.router.add_post("/api/chat", self.api_chat)
        app.router.add_post("/api/generate", self.api_generate)
        app.router.add_post("/api/embed", self.api_embed)
        app.router.add_post("/api/embeddings", self.api_embeddings)
        return app

    # -- model bookkeeping ----------------------------------------------------------

    def find_model(self, name: str) -> str | None:
        wanted = name if ":" in name else f"{name}:latest"
        return next((m for m in self.models if m in (wanted, name)), None)

    def _model_entry(self, name: str) -> dict[str, Any]:
        family = name.split(":")[0]
        return {
            "name": name,
            "model": name,
            "modified_at": _now(),
            "size": 4_661_224_676,
            "digest": f"{zlib.crc32(name.encode()):08x}" * 8,
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": family,
                "families": [family],
                "parameter_size": "8B",
                "quantization_level": "Q4_0",
            },
        }

    @staticmethod
    def error(status: int, message: str) -> web.Response:
        return web.json_response({"error": message}, status=status)

    # -- endpoints -----------------------------------------------------------------------

    async def root(self, request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def api_version(self, request: web.Request) -> web.Response:
        return web.json_response({"version": self.version})

    async def api_tags(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [self._model_entry(m) for m in self.models]})

    async def api_ps(self, request: web.Request) -> web.Response:
        entries = []
        for name in sorted(self.loaded):
            entry = self._model_entry(name)
            entry.update({"expires_at": _now(), "size_vram": entry["size"]})
            entries.append(entry)
        return web.json_response({"models": entries})

    async def api_chat(self, request: web.Request) -> web.StreamResponse:
        return await self._generate(request, chat=True)

    async def api_generate(self, request: web.Request) -> web.StreamResponse:
        return await self._generate(request, chat=False)

    async def _generate(self, request: web.Request, *, chat: bool) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return self.error(400, "invalid character 'x' looking for beginning of value")
        if not isinstance(body, dict) or not body.get("model"):
            return self.error(400, "model is required")
        step = self.next_structured() if body.get("format") else self.next_step()
        if isinstance(step, Fail):
            await asyncio.sleep(step.delay)
            return self.error(step.status, step.error)
        model = self.find_model(body["model"])
        if model is None:
            return self.error(404, f'model "{body["model"]}" not found, try pulling it first')
        reply = step or Reply(self.default_reply)
        if reply.hold is not None:  # a threading.Event set from the test's loop; bounded so a stop never hangs
            await asyncio.to_thread(reply.hold.wait, 30)
        # A cold load: Ollama sends no headers until the model is in memory.
        await asyncio.sleep(reply.first_byte_delay)
        self.loaded.add(model)
        if body.get("stream", True) is False:
            text = "".join(reply.chunks(body.get("think")))
            return web.json_response(self._final(body["model"], chat, reply, text))
        return await self._stream(request, body["model"], chat, reply, body.get("think"))

    def _piece(self, model: str, chat: bool, text: str) -> dict[str, Any]:
        line: dict[str, Any] = {"model": model, "created_at": _now()}
        if chat:
            line["message"] = {"role": "assistant", "content": text}
        else:
            line["response"] = text
        line["done"] = False
        return line

    def _final(self, model: str, chat: bool, reply: Reply, text: str) -> dict[str, Any]:
        line = self._piece(model, chat, text)
        line.update(
            {
                "done": True,
                "done_reason": reply.done_reason,
                "total_duration": 1_234_567_890,
                "load_duration": int(reply.first_byte_delay * 1e9),
                "prompt_eval_count": 42,
                "prompt_eval_duration": 123_456_789,
                "eval_count": len(reply.chunks()),
                "eval_duration": 987_654_321,
            }
        )
        if not chat:
            line["context"] = [1, 2, 3]
        return line

    async def _stream(
        self, request: web.Request, model: str, chat: bool, reply: Reply, think: bool | None = None
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)

        async def send(obj: Any) -> None:
            await response.write((obj if isinstance(obj, str) else json.dumps(obj)).encode() + b"\n")

        chunks = reply.chunks(think)
        for index, chunk in enumerate(chunks):
            if index == reply.error_after_chunks:
                await send({"error": reply.error})
                return response
            if index == reply.truncate_after_chunks:
                return await self._drop_connection(request, response)
            if index:
                await asyncio.sleep(reply.chunk_delay)
            await send(self._piece(model, chat, chunk))
            if reply.garbage and index == 0:
                await send("<html>502 Bad Gateway</html>")
        count = len(chunks)
        if reply.error_after_chunks is not None and reply.error_after_chunks >= count:
            await send({"error": reply.error})
            return response
        if reply.truncate_after_chunks is not None and reply.truncate_after_chunks >= count:
            return await self._drop_connection(request, response)
        await asyncio.sleep(reply.chunk_delay)
        await send(self._final(model, chat, reply, ""))
        await response.write_eof()
        return response

    @staticmethod
    async def _drop_connection(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        # Like a crashed runner: no terminating chunk, the socket just closes. The pause
        # lets the client read what was sent first (aiohttp drops buffered data on error).
        await asyncio.sleep(0.05)
        if request.transport is not None:
            request.transport.close()
        return response

    async def api_embed(self, request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(self.embed_delay)
        if self.embed_failure is not None:
            await asyncio.sleep(self.embed_failure.delay)
            return self.error(self.embed_failure.status, self.embed_failure.error)
        model = self.find_model(str(body.get("model", "")))
        if model is None:
            return self.error(404, f'model "{body.get("model")}" not found, try pulling it first')
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        self.loaded.add(model)
        return web.json_response(
            {
                "model": body["model"],
                "embeddings": self.embed_fn(texts),
                "total_duration": 14_143_917,
                "load_duration": 1_019_500,
                "prompt_eval_count": sum(len(t.split()) for t in texts),
            }
        )

    async def api_embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.find_model(str(body.get("model", ""))) is None:
            return self.error(404, f'model "{body.get("model")}" not found, try pulling it first')
        return web.json_response({"embedding": self.embed_fn([str(body.get("prompt", ""))])[0]})


def compressed_embed_fn(strength: float, dim: int = 64) -> Callable[[list[str]], list[list[float]]]:
    """`default_embed_fn` with every vector pulled towards one fixed direction u (v' = normalise(v + strength * u)):
    the same ranking, but every cosine squeezed towards 1, as models like multilingual-e5 give it (0.87 between
    "how do i get a refund" and "how do i reset my password")."""
    pull = [strength / math.sqrt(dim)] * dim

    def embed(texts: list[str]) -> list[list[float]]:
        rows = []
        for text in texts:
            moved = [x + p for x, p in zip(hashed_embedding(text, dim), pull, strict=True)]
            norm = math.sqrt(sum(x * x for x in moved)) or 1.0
            rows.append([x / norm for x in moved])
        return rows

    return embed
