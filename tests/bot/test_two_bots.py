"""Two bot processes on one PostgreSQL database (issue 12), each owning one of two shards: two SimCord worlds in
two threads (each its own event loop, clock and Discord; SimCord allows one live Env per loop), one database.
Each ticket is warned and closed once, by the process that owns its server, and never touched by the other."""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import Any

import simcord

from app.settings import load_settings
from bot import create_bot
from tests.clock import advance
from tests.fixtures_pg import fresh_pg_database
from tests.sim import make_world

H = 3600


async def _one_process(shard: int, env_vars: dict[str, str], out: dict[int, Any], loaded: threading.Event) -> None:
    if shard == 1:
        # Two threads loading the same extensions at once race in the import system (one imports a module the
        # other has only half run: "cannot import name"): the second process starts once the first has loaded.
        await asyncio.get_running_loop().run_in_executor(None, loaded.wait, 60)
    bot = create_bot(load_settings({**env_vars, "SHARD_IDS": str(shard)}))
    try:
        # Slash commands are synced once per application: the process that starts second finds them synced (the
        # hash in bot_meta, shared); its SimCord world registers them itself.
        async with simcord.run(bot, strict_sync=False) as env:
            loaded.set()
            # Every server this world makes is on this process's shard.
            env.create_guild = functools.partial(env.create_guild, shard_id=shard)  # type: ignore[method-assign]
            world = await make_world(env)
            await world.open_ticket(world.alice, f"Printer {shard}", "It prints blank pages.")
            [thread] = world.forum.threads
            await world.staff.send(thread, "Try another cartridge, and tell us if it helps.")  # the opener's turn
            await advance(env, 3 * H)
            texts = [m.content for m in world.bot_messages(thread)]
            ticket = await world.core.store.get_ticket(thread.id)
            out[shard] = (world.guild.id, thread.id, texts, ticket.status, ticket.close_reason)
    finally:
        core = getattr(bot, "core", None)
        if core is not None:
            await core.close()


def test_two_processes_each_close_their_own_servers_tickets_exactly_once(pg_session_db, closed_port_url, tmp_path):
    url = fresh_pg_database()
    env_vars = {
        "DISCORD_TOKEN": "test-token-never-used", "DB_PATH": str(tmp_path / "unused.db"), "DATABASE_URL": url,
        "LLM_URL": closed_port_url, "EMBED_MODEL": "none", "LLM_CONNECT_TIMEOUT": "1", "SHARD_COUNT": "2",
        "IDLE_WARN_HOURS": "1", "IDLE_CLOSE_AFTER_WARN_HOURS": "0.5", "AUTOCLOSE_CHECK_SECONDS": "600",
        # Hours of virtual clock: a memory sync every 5 s would be thousands of rounds (as in tests/conftest.py).
        "MEMORY_SYNC_SECONDS": "3600",
    }  # fmt: skip
    out: dict[int, Any] = {}
    errors: list[BaseException] = []
    loaded = threading.Event()

    def run(shard: int) -> None:
        try:
            asyncio.run(_one_process(shard, env_vars, out, loaded))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            loaded.set()

    threads = [threading.Thread(target=run, args=(shard,)) for shard in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert sorted(out) == [0, 1]
    assert out[0][0] != out[1][0] and out[0][1] != out[1][1]  # two servers, two tickets
    for shard in (0, 1):
        _, _, texts, status, reason = out[shard]
        assert sum("quiet for a while" in t for t in texts) == 1, texts
        assert status == "closed" and reason, (status, reason)
        closings = [t for t in texts if "closed" in t.lower() and "quiet" not in t]
        assert len(closings) <= 1, texts
