"""How fast the real bot handles ticket messages: SimCord for Discord, an instant fake model, a real SQLite file.

    python -m bench.pipeline                      # 200 tickets, this tree
    python -m bench.pipeline --against main       # the same bench on `main` too (a `git archive` copy), one table
    python -m bench.pipeline --tickets 50 --json  # a smaller run; the raw figures as JSON

One server, N members with one ticket each (opened through the panel, not measured). Then two phases:

- one at a time: a few tickets post one message each, the bot settles after each (the latency baseline);
- a burst: every ticket posts one message at the same instant, half a question the memory was trained on
  (answered without the model), half one only the model answers (queued behind `LLM_MAX_CONCURRENCY`).

Measured in the burst: messages per second (from the posts to the last reply), the time from a post to its
reply (first Discord request carrying the answer, not a "⏳" notice) by kind, database round trips per message
(statements sent through `db.database.Database`; BEGIN/COMMIT counted apart as transactions) and the share of
the time the connection's lock was held, Discord requests per message and the "in line" notice edits,
event-loop stalls over 50 ms (a thread pings the loop every 5 ms and measures how late the ping runs), and
where the event loop's thread spent its time: the bot (this repository, discord.py, aiohttp, …), SimCord
(the fake Discord, which a real bot does not run), or idle (a thread samples the loop thread's stack every
2 ms; a sample belongs to the innermost frame outside the standard library).

SimCord virtualises `time.monotonic`; every duration here uses the real clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import types
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STALL_S = 0.05
TRAINED_Q = "How do I reset my password?"
TRAINED_A = "Open Settings → Account → Reset password, then follow the link we email you."
MODEL_Q = "My printer prints blank pages since the last update, what can I do?"
NOTICE_MARK = "⏳"


def _real_clock() -> Callable[[], float]:
    from simcord._dpy_internals import real_monotonic

    return real_monotonic


# -- probes ------------------------------------------------------------------------------------


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class DbCounter:
    """Counts the trips to the database through `Database` (a statement, or a batch of them) and the
    transactions (`transaction()` blocks and write batches), and how long the connection's lock is held."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.statements = 0
        self.transactions = 0
        self.held = 0.0
        self._since: float | None = None
        self._undo: list[Callable[[], None]] = []

    def install(self) -> None:
        from db.database import Database, DbLock

        counter = self

        def counted(name: str) -> None:
            original = getattr(Database, name)

            async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
                counter.statements += 1
                sql = args[0] if args and isinstance(args[0], str) else ""
                if sql.lstrip().upper().startswith(_WRITES) and not self.in_transaction:
                    counter.transactions += 1  # autocommit: a commit of its own
                return await original(self, *args, **kwargs)

            setattr(Database, name, wrapper)
            self._undo.append(lambda: setattr(Database, name, original))

        for name in ("run", "run_rowcount", "fetchone", "fetchall", "batch"):
            if hasattr(Database, name):
                counted(name)
        if hasattr(Database, "batch"):  # a write batch is one transaction (and one commit)
            plain_batch = Database.batch

            async def batch(self: Any, steps: Any, *, write: bool = True, **options: Any) -> Any:
                counter.transactions += write and not self.in_transaction
                return await plain_batch(self, steps, write=write, **options)

            Database.batch = batch  # type: ignore[method-assign]
            self._undo.append(lambda: setattr(Database, "batch", plain_batch))
        original_tx = Database.transaction

        @contextlib.asynccontextmanager
        async def transaction(self: Any) -> Any:
            counter.transactions += 1
            counter.statements += 2  # BEGIN and COMMIT are trips of their own
            async with original_tx(self):
                yield

        Database.transaction = transaction  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(Database, "transaction", original_tx))

        enter, leave = DbLock.__aenter__, DbLock.__aexit__

        async def aenter(self: Any) -> None:
            await enter(self)
            if self._depth == 1:
                counter._since = counter.clock()

        async def aexit(self: Any, *exc: object) -> None:
            if self._depth == 1 and counter._since is not None:
                counter.held += counter.clock() - counter._since
                counter._since = None
            await leave(self, *exc)

        DbLock.__aenter__, DbLock.__aexit__ = aenter, aexit  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(DbLock, "__aenter__", enter))
        self._undo.append(lambda: setattr(DbLock, "__aexit__", leave))

    def snapshot(self) -> tuple[int, int, float]:
        return self.statements, self.transactions, self.held


class LoopLag(threading.Thread):
    """Pings the event loop from a thread every 5 ms; a ping that runs late by more than 50 ms is a stall."""

    def __init__(self, loop: asyncio.AbstractEventLoop, clock: Callable[[], float]) -> None:
        super().__init__(daemon=True)
        self.loop, self.clock = loop, clock
        self.lags: list[float] = []
        self.active = False
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            done = threading.Event()
            sent = self.clock()

            def ping(sent: float = sent, done: threading.Event = done) -> None:
                if self.active:
                    self.lags.append(self.clock() - sent)
                done.set()

            self.loop.call_soon_threadsafe(ping)
            done.wait(30)
            self._stop.wait(0.005)

    def stop(self) -> None:
        self._stop.set()

    def stalls(self) -> list[float]:
        return [lag for lag in self.lags if lag > STALL_S]


class CpuSampler(threading.Thread):
    """Samples the event loop thread's stack; each sample goes to the innermost frame outside the stdlib."""

    GROUPS = (
        ("simcord", "/simcord/"),
        ("fake model", "/bench/fake_model.py"),
        ("discord.py", "/discord/"),
        ("aiohttp", "/aiohttp/"),
        ("aiosqlite", "/aiosqlite/"),
    )

    def __init__(self, thread_id: int, root: Path) -> None:
        super().__init__(daemon=True)
        self.thread_id, self.root = thread_id, str(root) + "/"
        self.samples: Counter[str] = Counter()
        self.files: Counter[str] = Counter()
        self.active = False
        self._stop = threading.Event()
        self._stdlib = os.path.dirname(os.__file__) + "/"
        self._bench = str(Path(__file__).resolve().parent) + "/"

    def classify(self, frame: types.FrameType | None) -> tuple[str, str]:
        if frame is None:
            return "idle", "?"
        if frame.f_code.co_name in ("select", "poll") and "selectors" in frame.f_code.co_filename:
            return "idle", "select"
        innermost = frame
        while frame is not None:
            path = frame.f_code.co_filename
            if path.startswith(self._bench):  # the bench's own driver code: look further out
                frame = frame.f_back
                continue
            if "site-packages" in path or not path.startswith(self._stdlib):
                for group, marker in self.GROUPS:
                    if marker in path:
                        return group, path
                if path.startswith(self.root) and "/tests/" not in path:
                    return "bot (this repository)", path.removeprefix(self.root)
                return "other libraries", path
            frame = frame.f_back
        return "stdlib (asyncio…)", innermost.f_code.co_filename

    def bot_file(self, frame: types.FrameType | None) -> str:
        """The innermost file of this repository on the stack (what the bot was doing)."""
        while frame is not None:
            path = frame.f_code.co_filename
            if path.startswith(self.root) and not path.startswith(self._bench) and "/tests/" not in path:
                return path.removeprefix(self.root)
            frame = frame.f_back
        return "(no bot frame: discord.py's gateway, asyncio)"

    def run(self) -> None:
        while not self._stop.is_set():
            if self.active:
                frame = sys._current_frames().get(self.thread_id)
                group, _ = self.classify(frame)
                self.samples[group] += 1
                if group not in ("idle", "simcord", "fake model"):
                    self.files[self.bot_file(frame)] += 1
            self._stop.wait(0.002)

    def stop(self) -> None:
        self._stop.set()


class TimedRequests(list[Any]):
    """SimCord's request log, with the real time of each request alongside."""

    def __init__(self, items: list[Any], clock: Callable[[], float]) -> None:
        super().__init__(items)
        self.clock = clock
        self.times: list[float] = [0.0] * len(items)

    def append(self, item: Any) -> None:
        super().append(item)
        self.times.append(self.clock())


# -- the scenario ------------------------------------------------------------------------------


def _bot_env(db_path: Path, llm_url: str) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": "bench-token-never-used",
        "DB_PATH": str(db_path),
        "LLM_URL": llm_url,
        "LLM_MODEL": "llama3",
        "LLM_EMBED_MODEL": "all-minilm",
        # The fake model's hashed vectors stand in for all-minilm: used as they are (memory/scale.py).
        "EMBED_SCALE": "native",
        "LLM_MAX_CONCURRENCY": "2",
        "LLM_SERVER_REQUESTS_PER_MINUTE": "0",
        "USER_ANSWERS_PER_MINUTE": "0",
        "MAX_OPEN_TICKETS": "5",
        "TICKET_COOLDOWN_SECONDS": "0",
        "LOG_LEVEL": "warning",
    }


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _reply_times(requests: TimedRequests, start: int, posted: dict[int, float]) -> dict[int, float]:
    """Thread id -> seconds from the post to the first request that carries the answer there."""
    replies: dict[int, float] = {}
    for index in range(start, len(requests)):
        entry = requests[index]
        if entry.method not in ("POST", "PATCH") or "/messages" not in entry.path:
            continue
        content = (entry.json or {}).get("content") if isinstance(entry.json, dict) else None
        if not content or content.startswith(NOTICE_MARK):
            continue
        thread_id = int(entry.path.split("/")[2])
        if thread_id in posted and thread_id not in replies:
            replies[thread_id] = requests.times[index] - posted[thread_id]
    return replies


def _replied(requests: TimedRequests, start: int, posted: dict[int, float]) -> bool:
    return len(_reply_times(requests, start, posted)) == len(posted)


def _notice_edits(requests: TimedRequests, start: int) -> int:
    return sum(
        1
        for entry in requests[start:]
        if entry.method == "PATCH"
        and isinstance(entry.json, dict)
        and (entry.json.get("content") or "").startswith(NOTICE_MARK)
    )


class _World:
    """The server of the bench: a ticket forum set up by /setup, a panel, staff (the tests' tests/sim.py
    does the same; benches do not import the tests)."""

    def __init__(self, env: Any) -> None:
        import discord

        self.env = env
        self.guild = env.create_guild("Support Server")
        self.forum = self.guild.create_forum_channel("tickets")
        self.panel_channel = self.guild.create_text_channel("help")
        self.log_channel = self.guild.create_text_channel("ticket-log")
        self.staff_role = self.guild.create_role("Support")
        admin_role = self.guild.create_role(
            "Admin", permissions=discord.Permissions(manage_guild=True, manage_threads=True)
        )
        self.admin = self.guild.add_member(env.create_user("admin"), roles=[admin_role])
        self.staff = self.guild.add_member(env.create_user("sam_staff"), roles=[self.staff_role])

    async def open_ticket(self, member: Any, subject: str, description: str) -> None:
        shown = await member.click(self.panel_channel.last_message, label="Open ticket")
        assert shown.modal is not None, "the panel should show a modal"
        await member.submit_modal(shown, {"subject": subject, "description": description})


async def _make_world(env: Any) -> _World:
    world = _World(env)
    result = await world.admin.slash(
        world.panel_channel, "setup", forum=world.forum, staff_role=world.staff_role, log_channel=world.log_channel
    )
    assert "set up" in _text(result), _text(result)
    assert (await world.staff.slash(world.panel_channel, "ticket_panel")).ephemeral
    return world


def _text(result: Any) -> str:
    parts = [result.response.content] if result.response is not None else []
    return "\n".join(parts + [f.content for f in result.followups])


async def _open(env: Any, world: Any, member: Any, subject: str, clock: Callable[[], float]) -> Any:
    """Open a ticket through the panel. An actor's settle can time out when one of the bot's real timers
    (the model client's timeouts) comes due meanwhile: then wait for the post, or try again."""
    before = len(world.forum.threads)
    for _ in range(3):
        try:
            await world.open_ticket(member, subject, "Hello, I have a question.")
        except TimeoutError:
            await _until(env, lambda: len(world.forum.threads) > before, clock, 10)
        if len(world.forum.threads) > before:
            return world.forum.threads[-1]
    raise RuntimeError(f"could not open {subject!r}")


def _progress(text: str) -> None:
    print(f"[bench.pipeline] {text}", file=sys.stderr, flush=True)


async def _until(env: Any, done: Callable[[], bool], clock: Callable[[], float], cap: float) -> None:
    """Let the bot work until `done()`. Short settles: a long one also waits out real timers (aiohttp's
    keep-alive), which would count as the bot's time."""
    deadline = clock() + cap
    while not done() and clock() < deadline:
        with contextlib.suppress(TimeoutError):  # work still running: look again
            await env.settle(timeout=0.2, idle=0.005)


async def _scenario(tickets: int, sequential: int, workdir: Path) -> dict[str, Any]:
    import gc

    import simcord

    from app.settings import load_settings
    from bench.fake_model import InstantModel
    from bot import create_bot

    clock = _real_clock()
    results: dict[str, Any] = {"tickets": tickets}
    with InstantModel() as fake:
        bot = create_bot(load_settings(_bot_env(workdir / "bench.db", fake.url), dotenv=False))
        try:
            async with simcord.run(bot) as env:
                world = await _make_world(env)
                trained = await world.staff.slash(world.panel_channel, "train", question=TRAINED_Q, answer=TRAINED_A)
                assert "Saved as entry" in _text(trained), _text(trained)
                members = [world.guild.add_member(env.create_user(f"user{i}")) for i in range(tickets)]
                threads = []
                began_opening = clock()
                for i, member in enumerate(members):
                    threads.append(await _open(env, world, member, f"Ticket {i}", clock))
                    if i % 10 == 9:
                        _progress(f"{i + 1} tickets open at {clock() - began_opening:.1f} s")
                assert len(threads) == tickets
                _progress(f"{tickets} tickets open")
                kind = {t.id: ("trained" if i % 2 == 0 else "model") for i, t in enumerate(threads)}
                author = {t.id: m for t, m in zip(threads, members, strict=True)}

                requests = TimedRequests(list(env.backend.http_requests), clock)
                env.backend.http_requests = requests
                db = DbCounter(clock)
                db.install()
                loop = asyncio.get_running_loop()
                lag = LoopLag(loop, clock)
                cpu = CpuSampler(threading.get_ident(), ROOT)
                lag.start()
                cpu.start()
                gc.collect()

                def question(thread_id: int) -> str:
                    return TRAINED_Q if kind[thread_id] == "trained" else MODEL_Q

                # One at a time: the baseline latency, no queue.
                one: dict[str, list[float]] = {"trained": [], "model": []}
                db_before = db.snapshot()
                http_before = len(requests)
                for thread in threads[:sequential]:
                    start = len(requests)
                    posted = {thread.id: clock()}
                    env.backend.create_message(thread.id, author[thread.id].id, question(thread.id))
                    await _until(env, partial(_replied, requests, start, posted), clock, 60)
                    with contextlib.suppress(TimeoutError):  # the buttons, the status: before the next one
                        await env.settle(timeout=0.2, idle=0.005)
                    one[kind[thread.id]] += list(_reply_times(requests, start, posted).values())
                results["one_at_a_time"] = {
                    "messages": sequential,
                    "p50_trained": _percentile(one["trained"], 0.5),
                    "p95_trained": _percentile(one["trained"], 0.95),
                    "p50_model": _percentile(one["model"], 0.5),
                    "p95_model": _percentile(one["model"], 0.95),
                    "db_statements": (db.statements - db_before[0]) / max(1, sequential),
                    "db_transactions": (db.transactions - db_before[1]) / max(1, sequential),
                    "discord_calls": (len(requests) - http_before) / max(1, sequential),
                }

                _progress("one at a time: done")
                # The burst: every ticket at the same instant.
                db_before = db.snapshot()
                start = len(requests)
                lag.lags.clear()
                lag.active = cpu.active = True
                began = clock()
                posted = {}
                for thread in threads:
                    posted[thread.id] = clock()
                    env.backend.create_message(thread.id, author[thread.id].id, question(thread.id))
                # One settle: polling with short ones costs SimCord more than the bot's own work.
                with contextlib.suppress(TimeoutError):
                    await env.settle(timeout=600, idle=0.05)
                # A settle can end early (a real timer of the bot's came due): wait for the rest of the replies.
                await _until(env, partial(_replied, requests, start, posted), clock, 600)
                _progress(f"burst: {len(_reply_times(requests, start, posted))} of {len(posted)} answered")
                elapsed = clock() - began
                held = db.held - db_before[2]
                with contextlib.suppress(TimeoutError):  # the buttons and statuses after the last reply
                    await _until(env, lambda: False, clock, 2)
                lag.active = cpu.active = False
                statements, transactions = db.statements - db_before[0], db.transactions - db_before[1]
                calls = len(requests) - start
                replies = _reply_times(requests, start, posted)
                by_kind: dict[str, list[float]] = {"trained": [], "model": []}
                for thread_id, seconds in replies.items():
                    by_kind[kind[thread_id]].append(seconds)
                last_reply = max(posted[t] + s for t, s in replies.items()) - began if replies else elapsed
                stalls = lag.stalls()
                total = sum(cpu.samples.values()) or 1
                results["burst"] = {
                    "messages": tickets,
                    "answered": len(replies),
                    "seconds": last_reply,
                    "messages_per_s": len(replies) / last_reply if last_reply > 0 else float("nan"),
                    "p50_trained": _percentile(by_kind["trained"], 0.5),
                    "p95_trained": _percentile(by_kind["trained"], 0.95),
                    "p50_model": _percentile(by_kind["model"], 0.5),
                    "p95_model": _percentile(by_kind["model"], 0.95),
                    "db_statements": statements / tickets,
                    "db_transactions": transactions / tickets,
                    "db_lock_held": held / elapsed if elapsed > 0 else float("nan"),
                    "discord_calls": calls / tickets,
                    "notice_edits": _notice_edits(requests, start),
                    "stalls": len(stalls),
                    "worst_stall": max(lag.lags, default=0.0),
                    "cpu": {group: n / total for group, n in cpu.samples.most_common()},
                    "bot_files": {path: n / total for path, n in cpu.files.most_common(8)},
                }
                lag.stop()
                cpu.stop()
                for undo in reversed(db._undo):
                    undo()
                assert not env.errors, env.errors
        finally:
            if hasattr(bot, "core"):
                await bot.core.close()  # SimCord detaches the bot without closing it
    return results


# -- running and printing ----------------------------------------------------------------------


def measure(tickets: int, sequential: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        return asyncio.run(_scenario(tickets, sequential, Path(tmp)))


def measure_ref(ref: str, tickets: int, sequential: int) -> dict[str, Any]:
    """Run this bench against another commit: its files (`git archive`) with this bench script."""
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-ref-") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        script = Path(tmp) / "bench" / "_pipeline_current.py"
        script.write_text(Path(__file__).read_text(encoding="utf-8"), encoding="utf-8")
        fake = Path(tmp) / "bench" / "fake_model.py"  # the bench's model server, whatever that commit has
        fake.write_text((ROOT / "bench" / "fake_model.py").read_text(encoding="utf-8"), encoding="utf-8")
        out = subprocess.run(
            [sys.executable, "-m", "bench._pipeline_current", "--tickets", str(tickets), "--sequential",
             str(sequential), "--json"],
            cwd=tmp, check=True, capture_output=True, text=True,
        )  # fmt: skip
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))


ROWS: list[tuple[str, str, str]] = [
    # (label, phase.key, format)
    ("burst: messages answered", "burst.answered", "{:d}"),
    ("messages / s (burst, to the last reply)", "burst.messages_per_s", "{:.1f}"),
    ("burst: p50 to reply, trained answer", "burst.p50_trained", "ms"),
    ("burst: p95 to reply, trained answer", "burst.p95_trained", "ms"),
    ("burst: p50 to reply, model answer", "burst.p50_model", "ms"),
    ("burst: p95 to reply, model answer", "burst.p95_model", "ms"),
    ("one at a time: p95 trained / model", "one_at_a_time.p95_trained|one_at_a_time.p95_model", "ms"),
    ("DB round trips per message (burst)", "burst.db_statements", "{:.1f}"),
    ("DB commits per message (burst)", "burst.db_transactions", "{:.2f}"),
    ("DB round trips per message (one at a time)", "one_at_a_time.db_statements", "{:.1f}"),
    ("DB lock held (share of the burst)", "burst.db_lock_held", "%"),
    ("Discord requests per message (burst)", "burst.discord_calls", "{:.1f}"),
    ("'in line' notice edits (burst)", "burst.notice_edits", "{:d}"),
    ("event-loop stalls > 50 ms (burst)", "burst.stalls", "{:d}"),
    ("worst event-loop lag (burst)", "burst.worst_stall", "ms"),
    ("loop thread: bot (repo + libraries)", "cpu.bot", "%"),
    ("loop thread: SimCord + fake model", "cpu.sim", "%"),
    ("loop thread: idle", "cpu.idle", "%"),
]
BOT_GROUPS = ("bot (this repository)", "discord.py", "aiohttp", "aiosqlite", "other libraries", "stdlib (asyncio…)")


def _value(result: dict[str, Any], key: str) -> float | None:
    if key.startswith("cpu."):
        cpu = result["burst"]["cpu"]
        if key == "cpu.bot":
            return float(sum(cpu.get(g, 0.0) for g in BOT_GROUPS))
        if key == "cpu.sim":
            return float(cpu.get("simcord", 0.0) + cpu.get("fake model", 0.0))
        return float(cpu.get("idle", 0.0))
    phase, name = key.split(".")
    value = result.get(phase, {}).get(name)
    return None if value is None else value


def _cell(result: dict[str, Any], key: str, fmt: str) -> str:
    parts = []
    for one in key.split("|"):
        value = _value(result, one)
        if value is None or value != value:  # missing or NaN
            parts.append("–")
        elif fmt == "ms":
            parts.append(f"{value * 1000:.1f} ms")
        elif fmt == "%":
            parts.append(f"{value * 100:.0f} %")
        else:
            parts.append(fmt.format(int(value) if fmt == "{:d}" else value))
    return " / ".join(parts)


def table(columns: list[tuple[str, dict[str, Any]]]) -> str:
    header = "| | " + " | ".join(name for name, _ in columns) + " |"
    lines = [header, "|---" * (len(columns) + 1) + "|"]
    for label, key, fmt in ROWS:
        lines.append(f"| {label} | " + " | ".join(_cell(r, key, fmt) for _, r in columns) + " |")
    return "\n".join(lines)


def bot_files(result: dict[str, Any]) -> str:
    files = result["burst"].get("bot_files", {})
    return "\n".join(f"  {share * 100:5.1f} %  {path}" for path, share in files.items())


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    import logging

    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=200, help="tickets in the burst (default 200)")
    parser.add_argument("--sequential", type=int, default=20, help="messages sent one at a time (default 20)")
    parser.add_argument("--against", metavar="REF", help="also measure this git commit/branch, in the same run")
    parser.add_argument("--json", action="store_true", help="print the raw figures as one JSON line")
    args = parser.parse_args(argv)
    columns: list[tuple[str, dict[str, Any]]] = []
    if args.against:
        columns.append((args.against, measure_ref(args.against, args.tickets, args.sequential)))
    with _quiet():
        current = measure(args.tickets, args.sequential)
    if args.json:
        print(json.dumps(current))
        return
    columns.append(("this tree", current))
    print(f"{args.tickets} tickets in the burst, {args.sequential} messages one at a time; real bot in SimCord,")
    print("instant fake model, SQLite file. Latencies are real time, SimCord's share included.\n")
    print(table(columns))
    for name, result in columns:
        print(f"\nWhere the bot's own share of the loop thread went ({name}), by file:")
        print(bot_files(result))


if __name__ == "__main__":
    main()
