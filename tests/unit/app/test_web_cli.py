"""`python bot.py web` as a real process: it starts next to a running bot (the bot's instance lock on the
database does not stop it), serves on 127.0.0.1 and stops on SIGTERM; a configuration that would serve the
dashboard twice, or not at all, is refused. discord.py's REST login is replaced by a stand-in in the child
process, so nothing reaches the network (tests/web/test_web_process.py runs the REST part against SimCord)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

from app.cli import EXIT_CONFIG
from app.instance import InstanceLock
from app.schema import open_app_database

ROOT = Path(__file__).resolve().parents[3]

WEB_WITHOUT_DISCORD = """
import sys
import discord

async def login(self, token):
    assert token == "token-never-used"

async def no_guilds(self, *, limit=200, before=None, after=None, with_counts=True):
    return
    yield

discord.Client.login = login
discord.Client.fetch_guilds = no_guilds
sys.path.insert(0, sys.argv[1])
import bot
sys.exit(bot.main(["web"]))
"""


def _env(tmp_path: Path, **web: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "DISCORD", "LLM_", "DB_PATH", "WEB_"))}
    env.update(DB_PATH=str(tmp_path / "bot.db"), DISCORD_TOKEN="token-never-used", LOG_LEVEL="info", WEB_PORT="0")
    env.update(OLLAMA_URL="http://127.0.0.1:9")  # never asked: nothing is embedded here
    env.update(web)
    return env


async def _start(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    # cwd=tmp_path: a developer's own .env is not picked up.
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", WEB_WITHOUT_DISCORD, str(ROOT), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _port(proc: asyncio.subprocess.Process) -> int:
    seen = []
    while line := (await asyncio.wait_for(proc.stderr.readline(), 60)).decode():
        seen.append(line)
        found = re.search(r"Dashboard listening on \[\('127\.0\.0\.1', (\d+)\)\]", line)
        if found:
            return int(found.group(1))
    raise AssertionError("the dashboard did not start:\n" + "".join(seen))


async def test_the_dashboard_process_runs_beside_a_bot_on_the_same_database(tmp_path):
    db = await open_app_database(tmp_path / "bot.db")  # the bot's connection, in WAL mode
    lock = InstanceLock.acquire(tmp_path / "bot.db")  # what a running bot holds
    try:
        proc = await _start(tmp_path, _env(tmp_path, WEB_ENABLED="true", WEB_IN_BOT="false"))
        try:
            port = await _port(proc)
            async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/") as response:
                assert response.status == 401 and "Sign in" in await response.text()
            # Both processes write the one file: the bot while the web process is up.
            await db.run("INSERT INTO bot_meta (key, value) VALUES ('still', 'writable')")
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 60)
        assert proc.returncode == 0, (await proc.stderr.read()).decode()
    finally:
        lock.release()
        await db.close()


async def test_the_dashboard_process_refuses_a_configuration_that_serves_it_twice_or_not_at_all(tmp_path):
    for web, message in (
        ({"WEB_ENABLED": "true"}, "WEB_IN_BOT is true"),  # the bot serves it already
        ({"WEB_ENABLED": "false", "WEB_IN_BOT": "false"}, "WEB_ENABLED is not true"),
    ):
        proc = await _start(tmp_path, _env(tmp_path, **web))
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == EXIT_CONFIG and message in err.decode(), err.decode()
