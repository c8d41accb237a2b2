"""`python bot.py web` (app/web_process.py): the dashboard on its own, next to a running bot, on 127.0.0.1.

The bot runs in SimCord. The web process is built by the standalone entry point (`WebProcess`) with its own
database connection to the bot's file and its own discord.py `Client`, which logs in and asks Discord over
REST only (it is never attached to SimCord's gateway): its HTTP transport is SimCord's `FakeHTTPClient` over
the same virtual Discord, the transport SimCord gives the bot itself, so discord.py's real REST code
(`login`, `fetch_guilds`, `fetch_guild`, `fetch_member`) and Discord's member and role payloads decide who
is staff."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import discord
import pytest
from simcord._dpy_internals import install_http
from simcord.http.client import FakeHTTPClient

from app.settings import load_settings
from app.web_process import WebProcess
from tests.sim import World, make_world, text_of

APART = {
    "WEB_ENABLED": "true",
    "WEB_IN_BOT": "false",
    "WEB_HOST": "127.0.0.1",
    "WEB_PORT": "0",
    "MEMORY_SYNC_SECONDS": "5",
}
HOURS_Q = "What are your opening hours?"
HOURS_A = "We are open Monday to Friday, 9:00 to 17:00 CET."


@asynccontextmanager
async def web_process(env, bot_env: dict[str, str]) -> AsyncIterator[str]:
    """The standalone dashboard over the bot's database; yields its base URL."""
    client = discord.Client(intents=discord.Intents.none())  # what WebProcess builds, with SimCord's transport
    install_http(client, FakeHTTPClient(env.backend, asyncio.get_running_loop()))
    process = WebProcess(load_settings(bot_env, dotenv=False), client)
    await process.start()
    try:
        [(host, port)] = process.addresses
        yield f"http://{host}:{port}"
    finally:
        await process.stop()


async def _link(world: World, member) -> str:
    """A sign-in path from /dashboard, which the bot answers (it creates the link in the shared database)."""
    result = await member.slash(world.panel_channel, "dashboard")
    assert result.ephemeral
    return re.search(r"https?://\S+?(/login/\S+)", text_of(result)).group(1)


@asynccontextmanager
async def _signed_in(base: str, path: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(path, allow_redirects=False) as response:
            assert response.status == 303
        yield http


async def _status(http: aiohttp.ClientSession, path: str) -> tuple[int, str]:
    async with http.get(path) as response:
        return response.status, await response.text()


@pytest.mark.bot_env(**APART)
async def test_the_dashboard_runs_apart_and_asks_discord_over_rest_who_is_staff(simcord_env, bot_env):
    world = await make_world(simcord_env)
    assert simcord_env.bot.get_cog("Dashboard").server.addresses == [], "WEB_IN_BOT=false: the bot serves nothing"
    await world.open_ticket(world.alice, "Printer on fire", "It smells like toast.")
    g = world.guild.id
    async with web_process(simcord_env, bot_env) as base:
        async with aiohttp.ClientSession() as anonymous:
            assert (await anonymous.get(f"{base}/")).status == 401  # up, and asking for a session
        # Staff by the staff role, and by Manage Server (the admin has no staff role): both from REST payloads.
        for member in (world.staff, world.admin):
            async with _signed_in(base, await _link(world, member)) as http:
                status, html = await _status(http, f"/g/{g}/tickets")
                assert status == 200 and "Printer on fire" in html
                assert (await _status(http, f"/g/{g}/memory"))[0] == 200
        # The opener: their own tickets, not the staff pages.
        async with _signed_in(base, await _link(world, world.alice)) as http:
            status, html = await _status(http, f"/g/{g}/tickets")
            assert status == 200 and "Printer on fire" in html
            assert (await _status(http, f"/g/{g}/memory"))[0] == 404
            assert (await _status(http, f"/g/{g}/analytics"))[0] == 404
            assert (await _status(http, "/g/12345/tickets"))[0] == 404  # a server the bot is not in
    requests = [(r.method, r.path) for r in simcord_env.http_requests]
    assert ("GET", f"/guilds/{g}/members/{world.staff.id}") in requests, "staff status was asked of Discord"
    assert requests.count(("GET", f"/guilds/{g}")) == 1, "the server's roles are shared by its viewers' checks"


@pytest.mark.bot_env(**APART)
async def test_an_answer_approved_on_the_dashboard_process_is_answered_by_the_bot(simcord_env, bot_env):
    world = await make_world(simcord_env)
    g = world.guild.id
    await world.open_ticket(world.alice, "Hours", HOURS_Q)
    [thread] = world.forum.threads
    assert HOURS_A not in world.bot_messages(thread)[-1].content
    assert world.core.memory.loaded(g)
    suggestion = await world.core.memory.suggest_qa(g, HOURS_Q, HOURS_A)
    async with web_process(simcord_env, bot_env) as base, _signed_in(base, await _link(world, world.staff)) as http:
        _, html = await _status(http, f"/g/{g}/memory")
        csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
        async with http.post(f"/g/{g}/memory/suggestions/{suggestion}/approve", data={"csrf": csrf}) as response:
            assert response.status == 200 and "Suggestion approved" in await response.text()
    await simcord_env.advance_time(5)  # one round of the bot's memory sync
    await world.alice.send(thread, HOURS_Q)
    answer = world.bot_messages(thread)[-1].content
    assert HOURS_A in answer and "Saved answer" in answer, answer
