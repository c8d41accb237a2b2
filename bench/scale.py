"""How throughput grows with more model servers: answers per second through the bot's own model pool
(``ai.pool.ModelPool``, as ``LLM_URL=http://a,http://b,...`` builds it) with 1, 2 and 4 fake model servers.

Each fake server is a minimal Ollama ``/api/chat`` on 127.0.0.1 that takes a fixed time per reply and
answers one request at a time (a GPU busy with one generation), and the pool is told so
(``LLM_MAX_CONCURRENCY=1`` per server). A burst of requests, far more than the servers can take at once,
goes through the pool's one fair queue; the table shows answers per second and the ratio to the 1-server
run measured in the same process (the ideal is the number of servers), median of ``--repeats`` runs.

    python -m bench.scale                      # 200 ms per reply, 1/2/4 servers, 3 repeats
    python -m bench.scale --latency 0.5 --servers 1,2,4,8 --requests 64

The database part (bench/scale_db.py, printed first): ticket messages handled per second with the instant fake
model by 1 process on SQLite, 1 process on PostgreSQL and 2 and 4 processes sharing one PostgreSQL database, real
OS processes each driving the bot's core for servers of its own (why not SimCord: see bench/scale_db.py).

    python -m bench.scale --database-url postgresql://postgres@127.0.0.1:5432/postgres   # both parts
    python -m bench.scale --only db --processes 1,2,4 --tickets 50 --rounds 4            # no URL: SQLite row only

`--database-url` is a server where the bench may create (and drop) a database of its own; without it the
PostgreSQL rows are skipped with a message saying so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace

import aiohttp
from aiohttp import web

from ai.factory import create_model_pool
from ai.settings import ServerSpec
from app.settings import default_llm_settings
from bench import scale_db

MODEL = "bench-model"


class FixedLatencyServer:
    """An Ollama-shaped chat server that spends `latency` seconds on each reply, one reply at a time."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.url = ""
        self.answered = 0
        self.max_in_flight = 0
        self._in_flight = 0
        self._gpu = asyncio.Lock()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FixedLatencyServer:
        app = web.Application()
        app.router.add_get("/api/tags", self._tags)
        app.router.add_post("/api/chat", self._chat)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _tags(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [{"name": f"{MODEL}:latest", "model": f"{MODEL}:latest"}]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            async with self._gpu:  # one generation at a time, like one GPU
                await asyncio.sleep(self.latency)
                response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
                await response.prepare(request)
                for piece in ("The answer ", "is here."):
                    line = {"model": MODEL, "message": {"role": "assistant", "content": piece}, "done": False}
                    await response.write(json.dumps(line).encode() + b"\n")
                done = {"model": MODEL, "message": {"role": "assistant", "content": ""}, "done": True}
                await response.write(json.dumps({**done, "done_reason": "stop", "eval_count": 2}).encode() + b"\n")
                await response.write_eof()
                self.answered += 1
                return response
        finally:
            self._in_flight -= 1


@dataclass
class Run:
    servers: int
    answers: int
    seconds: float
    shares: list[int]
    max_in_flight: int

    @property
    def per_second(self) -> float:
        return self.answers / self.seconds


async def run_once(servers: int, requests: int, latency: float) -> Run:
    async with AsyncExitStack() as stack:
        fakes = [await stack.enter_async_context(FixedLatencyServer(latency)) for _ in range(servers)]
        session = await stack.enter_async_context(aiohttp.ClientSession())
        settings = replace(
            default_llm_settings(base_url=fakes[0].url, model=MODEL, embed_model=None, max_concurrency=1),
            servers=tuple(ServerSpec(fake.url, 1) for fake in fakes),
        )
        pool = create_model_pool(settings, session)
        try:
            started = time.perf_counter()
            results = await asyncio.gather(
                *(pool.chat([{"role": "user", "content": f"question {i}"}]) for i in range(requests))
            )
            seconds = time.perf_counter() - started
        finally:
            await pool.aclose()
        if any(r.text != "The answer is here." for r in results):
            raise SystemExit("a reply was lost or garbled: the measurement is invalid")
        return Run(servers, len(results), seconds, [f.answered for f in fakes], max(f.max_in_flight for f in fakes))


async def measure(counts: list[int], requests: int, latency: float, repeats: int) -> list[Run]:
    runs = []
    for servers in counts:
        tries = [await run_once(servers, requests, latency) for _ in range(repeats)]
        runs.append(sorted(tries, key=lambda r: r.per_second)[len(tries) // 2])  # the median run
    return runs


def table(runs: list[Run], latency: float) -> str:
    base = runs[0].per_second
    lines = [
        f"Model pool: answers per second, fake servers of {latency * 1000:.0f} ms per reply, one reply at a time each",
        "",
        "| servers | answers | seconds | answers/s | vs 1 server | ideal | answers per server |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run.servers} | {run.answers} | {run.seconds:.2f} | {run.per_second:.2f} "
            f"| {run.per_second / base:.2f}× | {run.servers / runs[0].servers:.0f}× "
            f"| {'/'.join(map(str, run.shares))} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("db", "model"), help="one part of the bench (default: both)")
    parser.add_argument("--database-url", help="a PostgreSQL server (admin URL) where a bench database may be made")
    parser.add_argument("--processes", default="1,2,4", help="process counts on PostgreSQL")
    parser.add_argument(
        "--unsafe-process-write-lock",
        action="store_true",
        help="also run each multi-process count with a write lock per process instead of the database-wide one "
        "(diagnosis only: shows what that lock costs)",
    )
    parser.add_argument("--tickets", type=int, default=50, help="tickets per process (database part)")
    parser.add_argument("--rounds", type=int, default=4, help="messages per ticket (database part)")
    parser.add_argument("--servers", default="1,2,4", help="server counts to compare, the first is the baseline")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per reply")
    parser.add_argument("--requests", type=int, default=48, help="requests in each burst")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.only != "model":
        counts = [int(n) for n in args.processes.split(",")]
        db_runs, skipped = scale_db.measure(
            args.database_url, counts, args.tickets, args.rounds, unsafe_lock=args.unsafe_process_write_lock
        )
        print(scale_db.table(db_runs, args.tickets, args.rounds))
        print(f"\n{os.cpu_count()} CPU cores on this machine; {skipped or 'all rows measured in this run'}\n")
    if args.only == "db":
        return
    counts = [int(n) for n in args.servers.split(",")]
    runs = asyncio.run(measure(counts, args.requests, args.latency, args.repeats))
    if any(run.max_in_flight > 1 for run in runs):
        raise SystemExit("a server got two requests at once: the pool did not keep its limit")
    print(table(runs, args.latency))
    print(f"\n{args.requests} requests at once per run; the median of {args.repeats} runs each")


if __name__ == "__main__":
    main()
