"""The database part of bench/scale.py: ticket messages handled per second by 1 process on SQLite, 1 process on
PostgreSQL, and 2 and 4 processes sharing one PostgreSQL database, each process serving servers of its own.

Each process is a real OS process (`python -m bench.scale_db --worker …`) that opens the bot's own core
(`app.runtime.open_core`: the same stores, services, answer pipeline and model pool as `python bot.py`) and drives
it as the ticket cog does for a user's message (tickets/…: the configuration, the ticket, the message recorded, the
answer's context, the answer pipeline, the route and the reply recorded, the status), without Discord. Why not
SimCord, as bench/pipeline.py: SimCord's fake Discord costs more CPU per message than the bot itself (issue 12's
measurement), and on a 2-core machine two to four SimCord worlds would measure SimCord competing with itself for the
cores instead of the database. Discord's own cost per message (a few REST calls) does not depend on the database.

Each process has its own instant fake model (bench/fake_model.py, in a thread of that process: its CPU is counted
with the process) and its own server with `--tickets` tickets opened beforehand (not measured) and one trained
answer. At a signal every process starts at once: each ticket posts `--rounds` messages one after another (the
next when the previous one is answered), all tickets at the same time; half the messages are the trained question
(answered from memory), half only the model answers. The rate is all processes' messages over the time from the
first start to the last finish; the CPU column is each process's CPU time (user + system) over its wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TRAINED_Q = "How do I reset my password?"
TRAINED_A = "Open Settings, Account, Reset password, then follow the link we email you."
MODEL_Q = "My printer prints blank pages since the last update, what can I do?"


class NullSink:
    """The answer goes nowhere (no Discord): `send` returns a handle, as a thread's message would be."""

    def __init__(self) -> None:
        self.messages: list[int] = []

    async def send(self, text: str) -> int:
        self.messages.append(len(self.messages) + 1)
        return self.messages[-1]

    async def edit(self, handle: Any, text: str) -> None:
        return None


async def _worker(url_or_path: str, index: int, tickets: int, rounds: int) -> dict[str, Any]:
    from app.runtime import open_core
    from app.settings import load_settings
    from bench.fake_model import InstantModel
    from tickets.answering import AnswerRequest, Route, conversation_before
    from tickets.models import Category, GuildConfig, MessageRole
    from tickets.service import NewTicket

    guild = 10_000 + index  # this process's server (its "shard")
    if os.environ.get("BENCH_UNSAFE_PROCESS_WRITE_LOCK"):
        # Diagnosis only (`--unsafe-process-write-lock`): each process takes a write lock of its own instead of the
        # database-wide one, so write transactions of different processes no longer wait for each other. Breaks
        # the cross-process guarantees db/postgres.py gives; it shows what that one lock costs.
        import db.postgres

        db.postgres.WRITE_LOCK_KEY += index + 1
    with InstantModel() as model:
        env = {
            "DISCORD_TOKEN": "bench-token-never-used",
            "DB_PATH": "" if url_or_path.startswith("postgres") else url_or_path,
            "DATABASE_URL": url_or_path if url_or_path.startswith("postgres") else "",
            "LLM_URL": model.url, "LLM_MODEL": "llama3", "LLM_EMBED_MODEL": "all-minilm",
            "LLM_MAX_CONCURRENCY": "16", "LLM_SERVER_REQUESTS_PER_MINUTE": "0", "USER_ANSWERS_PER_MINUTE": "0",
            "MAX_OPEN_TICKETS": "100", "TICKET_COOLDOWN_SECONDS": "0", "ANSWER_CHECKS": "false",
            "GENERATE_PHRASINGS": "false",
            # The instant fake model's hashed vectors stand in for all-minilm: used as they are (memory/scale.py).
            "EMBED_SCALE": "native",
        }  # fmt: skip
        core = await open_core(load_settings(env, dotenv=False))
        try:
            now = datetime.now(UTC)
            general = Category(guild_id=guild, name="general", label="General")
            await core.tickets.save_config(GuildConfig(guild, 1, 2, None), now)
            await core.categories.store.insert(general, now)
            await core.memory.add(guild, TRAINED_Q, TRAINED_A)
            ids = [guild * 1_000_000 + t for t in range(tickets)]
            for ticket_id in ids:
                await core.tickets.ticket_opened(
                    NewTicket(ticket_id=ticket_id, guild_id=guild, opener_id=ticket_id, opener_name="member",
                              category="general", subject="Help", description=MODEL_Q),
                    now=now,
                )  # fmt: skip
            n = core.settings.history_messages

            async def message(ticket_id: int, number: int) -> None:
                text = TRAINED_Q if (ticket_id + number) % 2 else MODEL_Q
                message_id = ticket_id * 100 + number + 1
                now = datetime.now(UTC)
                config = await core.tickets.config(guild)
                ticket = await core.tickets.get(ticket_id)
                assert config is not None and ticket is not None
                # As the ticket cog does: the record and the answer's context in one trip.
                ticket, context = await core.tickets.message_recorded(
                    ticket, message_id=message_id, author_id=ticket.opener_id, author_name="member",
                    role=MessageRole.USER, content=text, now=now, context_last=2 * n + 1,
                )  # fmt: skip
                if context is None:
                    context = await core.tickets.answer_context(ticket_id, last=2 * n + 1)
                current, messages = context.ticket, context.messages
                assert current is not None
                request = AnswerRequest(
                    guild_id=guild, question=text, history=conversation_before(messages, message_id, n),
                    user_name="member", category=current.category, server_name="bench",
                )  # fmt: skip
                sink = NullSink()
                outcome = await core.pipeline.answer(request, sink)
                recorded = await core.tickets.answer_recorded(
                    current, outcome, question=text, buttons_message_id=message_id + 50,
                    first_message_id=message_id + 50, bot_id=1, bot_name="bot", now=now,
                )  # fmt: skip
                after = recorded.ticket if recorded is not None else None
                if after is None:
                    return
                if outcome.route is Route.STAFF:
                    await core.tickets.handed_to_staff(after, now, pause_ai=False)
                else:
                    await core.tickets.answered(after, now)
                routes[outcome.route.value] = routes.get(outcome.route.value, 0) + 1

            async def ticket_run(ticket_id: int) -> None:
                for number in range(rounds):
                    await message(ticket_id, number)

            routes: dict[str, int] = {}
            print("READY", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # the parent's "go"
            started, cpu0 = time.time(), time.process_time()
            await asyncio.gather(*(ticket_run(t) for t in ids))
            finished, cpu1 = time.time(), time.process_time()
        finally:
            await core.close()
    return {
        "messages": tickets * rounds, "started": started, "finished": finished, "cpu": cpu1 - cpu0, "routes": routes,
    }  # fmt: skip


@dataclass
class DbRun:
    label: str
    processes: int
    messages: int
    seconds: float
    cpu_share: list[float]  # each process's CPU seconds over its wall seconds
    routes: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


def run_processes(
    label: str, target: str, processes: int, tickets: int, rounds: int, extra_env: dict[str, str] | None = None
) -> DbRun:
    """Start `processes` workers on `target` (a SQLite path or a PostgreSQL URL), start them at once, collect."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(extra_env or {})}
    command = [sys.executable, "-m", "bench.scale_db", "--worker", target]
    procs = []
    for i in range(processes):
        arguments = [*command, "--index", str(i), "--tickets", str(tickets), "--rounds", str(rounds)]
        procs.append(
            subprocess.Popen(arguments, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        )
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() != "READY":
                raise SystemExit(f"a worker did not start ({label}): {line!r}")
        for proc in procs:  # everyone is set up: go
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, _ = proc.communicate(timeout=900)
            if proc.returncode != 0:
                raise SystemExit(f"a worker failed ({label}), exit code {proc.returncode}")
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    seconds = max(r["finished"] for r in results) - min(r["started"] for r in results)
    routes: dict[str, int] = {}
    for r in results:
        for k, v in r["routes"].items():
            routes[k] = routes.get(k, 0) + v
    return DbRun(
        label, processes, sum(r["messages"] for r in results), seconds,
        [r["cpu"] / (r["finished"] - r["started"]) for r in results], routes,
    )  # fmt: skip


async def _pg_database(admin_url: str, name: str, *, drop: bool) -> str:
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not drop:
            await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def _migrate(target: str | Path) -> None:
    from app.schema import open_app_database

    db = await open_app_database(target)
    await db.close()


def measure(
    database_url: str | None, counts: list[int], tickets: int, rounds: int, *, unsafe_lock: bool = False
) -> tuple[list[DbRun], str]:
    """The 1-process SQLite baseline, then each process count on a fresh PostgreSQL database (none: skipped)."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        path = Path(tmp) / "bench.db"
        asyncio.run(_migrate(path))
        runs.append(run_processes("SQLite", str(path), 1, tickets, rounds))
    if database_url is None:
        return runs, "PostgreSQL rows skipped: no --database-url (an empty server's admin URL; a database is made)"
    name = f"bench_scale_{os.getpid()}"
    variants: list[tuple[str, int, dict[str, str]]] = [("PostgreSQL", processes, {}) for processes in counts]
    if unsafe_lock:
        unsafe = {"BENCH_UNSAFE_PROCESS_WRITE_LOCK": "1"}
        variants += [("PostgreSQL, lock per process*", processes, unsafe) for processes in counts if processes > 1]
    for label, processes, env in variants:  # each on a fresh database
        url = asyncio.run(_pg_database(database_url, name, drop=False))
        try:
            asyncio.run(_migrate(url))
            runs.append(run_processes(label, url, processes, tickets, rounds, env))
        finally:
            asyncio.run(_pg_database(database_url, name, drop=True))
    return runs, ""


def table(runs: list[DbRun], tickets: int, rounds: int) -> str:
    base = runs[0].per_second
    lines = [
        f"Database: ticket messages per second, instant fake model, {tickets} tickets per process posting "
        f"{rounds} messages each (half trained, half model)",
        "",
        "| database | processes | messages | seconds | messages/s | vs 1 process on SQLite | CPU per process |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        cpu = " / ".join(f"{share * 100:.0f} %" for share in run.cpu_share)
        lines.append(
            f"| {run.label} | {run.processes} | {run.messages} | {run.seconds:.2f} | {run.per_second:.0f} "
            f"| {run.per_second / base:.2f}× | {cpu} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", required=True)
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    result = asyncio.run(_worker(args.worker, args.index, args.tickets, args.rounds))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
