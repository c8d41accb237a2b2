"""Serve real all-MiniLM-L6-v2 embeddings over Ollama's (and OpenAI's) embedding API on 127.0.0.1.

    python -m bench.serve_embeddings                # port 11435, model name "all-minilm"
    python -m bench.serve_embeddings --port 11435 --model all-minilm

For benchmarks with a real model (bench/REAL_LLM_SETUP.md), never for CI: it needs the heavy packages in
bench/requirements.txt. Point the bot at it with the embedding settings, or start the chat shim with
EMBED_PROXY=http://127.0.0.1:11435 so one URL serves both (the shim then lists this model in /api/tags).

Endpoints: GET / , /api/version, /api/tags, /api/ps, POST /api/show, POST /api/embed ({"input": str | [str]}
-> {"embeddings": [[...]]}), POST /api/embeddings (legacy {"prompt"} -> {"embedding"}), GET /v1/models,
POST /v1/embeddings. Vectors are unit length (as Ollama's all-minilm returns them).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bench.embedders import CachedMiniLM

log = logging.getLogger(__name__)

DEFAULT_PORT = 11435
DIMENSIONS = 384
# Save the disk cache after this many new texts (and at shutdown), so a crash loses little.
SAVE_EVERY = 500


class EmbeddingServer:
    def __init__(self, model: str) -> None:
        self.model = model
        self.encoder = CachedMiniLM()
        # One worker: the encoder and its cache are not thread-safe, and two cores are all there is.
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.unsaved = 0

    async def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = await asyncio.get_running_loop().run_in_executor(self.pool, self.encoder, texts)
        self.unsaved += len(texts)
        if self.unsaved >= SAVE_EVERY:
            self.unsaved = 0
            await asyncio.get_running_loop().run_in_executor(self.pool, self.encoder.save)
        return vectors

    def known(self, name: object) -> bool:
        return isinstance(name, str) and name.split(":")[0] == self.model.split(":")[0]

    def app(self) -> web.Application:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/", _running)
        app.router.add_get("/api/version", _version)
        app.router.add_get("/api/tags", self.tags)
        app.router.add_get("/api/ps", self.tags)
        app.router.add_post("/api/show", self.show)
        app.router.add_post("/api/embed", self.api_embed)
        app.router.add_post("/api/embeddings", self.api_embeddings)
        app.router.add_get("/v1/models", self.v1_models)
        app.router.add_post("/v1/embeddings", self.v1_embeddings)
        app.on_shutdown.append(self._save)
        return app

    async def _save(self, _: web.Application) -> None:
        self.encoder.save()

    def _entry(self) -> dict[str, Any]:
        name = self.model if ":" in self.model else f"{self.model}:latest"
        return {
            "name": name,
            "model": name,
            "modified_at": datetime.now(UTC).isoformat(),
            "size": 45_960_996,
            "details": {"format": "gguf", "family": "bert", "parameter_size": "23M", "quantization_level": "F16"},
        }

    async def tags(self, _: web.Request) -> web.Response:
        return web.json_response({"models": [self._entry()]})

    async def show(self, request: web.Request) -> web.Response:
        body = await _json(request)
        if not self.known(body.get("model") or body.get("name")):
            return _error(404, f"model '{body.get('model')}' not found")
        return web.json_response({"details": self._entry()["details"], "model_info": {"bert.embedding_length": 384}})

    async def api_embed(self, request: web.Request) -> web.Response:
        body = await _json(request)
        if not self.known(body.get("model")):
            return _error(404, f'model "{body.get("model")}" not found, try pulling it first')
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs]
        start = time.perf_counter_ns()
        vectors = await self.embed(texts)
        return web.json_response(
            {
                "model": body["model"],
                "embeddings": vectors,
                "total_duration": time.perf_counter_ns() - start,
                "load_duration": 0,
                "prompt_eval_count": sum(len(t.split()) for t in texts),
            }
        )

    async def api_embeddings(self, request: web.Request) -> web.Response:
        body = await _json(request)
        if not self.known(body.get("model")):
            return _error(404, f'model "{body.get("model")}" not found, try pulling it first')
        return web.json_response({"embedding": (await self.embed([str(body.get("prompt", ""))]))[0]})

    async def v1_models(self, _: web.Request) -> web.Response:
        model = {"id": self.model, "object": "model", "owned_by": "bench"}
        return web.json_response({"object": "list", "data": [model]})

    async def v1_embeddings(self, request: web.Request) -> web.Response:
        body = await _json(request)
        if not self.known(body.get("model")):
            return web.json_response({"error": {"message": f"model {body.get('model')} not found"}}, status=404)
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs]
        vectors = await self.embed(texts)
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        return web.json_response({"object": "list", "model": body["model"], "data": data})


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--model", default="all-minilm", help="name the server answers to (any :tag accepted)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = EmbeddingServer(args.model)
    server.encoder(["warm-up"])  # load the model before the port opens, so the first request is fast
    web.run_app(server.app(), host=args.host, port=args.port, print=lambda *_: log.info("listening on %s", args.port))


async def _running(_: web.Request) -> web.Response:
    return web.Response(text="Ollama is running")


async def _version(_: web.Request) -> web.Response:
    return web.json_response({"version": "0.0.0-minilm"})


if __name__ == "__main__":
    main()
