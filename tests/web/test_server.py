"""The dashboard as the bot runs it: started with the bot on WEB_HOST only, stopped with it; /dashboard,
/stats, the transcript link at close and `python bot.py dashboard`."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.grounded import REFUND_ASK, REFUND_SUBJECT, train_faq
from tests.sim import make_world, text_of

ROOT = Path(__file__).resolve().parents[2]
WEB_ON = {"WEB_ENABLED": "true", "WEB_HOST": "127.0.0.1", "WEB_PORT": "0"}


def _dashboard(env):
    return env.bot.get_cog("Dashboard")


async def _open_and_close(world):
    await world.open_ticket(world.alice, "Printer on fire", "It smells like toast.")
    thread = world.forum.threads[-1]
    await world.staff.slash(thread, "close")
    return thread


@pytest.mark.bot_env(**WEB_ON)
async def test_the_dashboard_listens_on_web_host_only_and_stops_with_the_bot(simcord_env):
    await make_world(simcord_env)
    server = _dashboard(simcord_env).server
    [(host, port)] = server.addresses
    assert host == "127.0.0.1" and port > 0
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/") as response:
        assert response.status == 401  # up, and asking for a session
    # Another address of this machine's loopback network: nothing listens there.
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.2", port)
    await simcord_env.bot.remove_cog("Dashboard")  # what bot.close() does with every cog
    assert server.addresses == []
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_the_dashboard_is_off_unless_enabled(simcord_env):
    world = await make_world(simcord_env)
    assert _dashboard(simcord_env).server.addresses == []
    result = await world.staff.slash(world.panel_channel, "dashboard")
    assert result.ephemeral and "not enabled" in text_of(result)
    thread = await _open_and_close(world)
    fields = {f.name for f in world.bot_messages(thread)[-1].embeds[0].fields}
    assert "Transcript" not in fields  # no link to a dashboard that is not there


@pytest.mark.bot_env(**WEB_ON)
async def test_dashboard_command_gives_a_private_link_that_signs_in_on_the_running_server(simcord_env):
    world = await make_world(simcord_env)
    [(_, port)] = _dashboard(simcord_env).server.addresses
    result = await world.staff.slash(world.panel_channel, "dashboard")
    assert result.ephemeral
    link = re.search(r"(http://\S+/login/\S+)", text_of(result)).group(1)
    assert link.startswith("http://127.0.0.1:0/login/")  # WEB_PUBLIC_URL defaults to WEB_HOST:WEB_PORT
    sent = [r.json for r in simcord_env.http_requests if r.method == "POST" and "callback" in r.path][-1]
    assert sent["data"]["flags"] & 4, "Discord must not preview (and so fetch) a sign-in link"
    path = link.removeprefix("http://127.0.0.1:0")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        base = f"http://127.0.0.1:{port}"
        async with http.post(base + path, allow_redirects=False) as response:
            assert response.status == 303
        async with http.get(f"{base}/g/{world.guild.id}/analytics") as response:
            assert response.status == 200 and "Analytics" in await response.text()
    # Members who opened no ticket have nothing to see; an opener gets their own link.
    nothing = await world.bob.slash(world.panel_channel, "dashboard")
    assert "no tickets here yet" in text_of(nothing)
    await world.open_ticket(world.alice, "Printer on fire", "It smells like toast.")
    assert "/login/" in text_of(await world.alice.slash(world.panel_channel, "dashboard"))


@pytest.mark.bot_env(**WEB_ON, WEB_PUBLIC_URL="https://support.example.com")
async def test_closing_links_the_transcript_and_logs_a_self_contained_html_file(simcord_env):
    world = await make_world(simcord_env)
    await world.open_ticket(world.alice, "Printer on fire", "It smells like toast.")
    thread = world.forum.threads[-1]
    await world.alice.send(thread, "photo attached", attachments=[("toast.png", b"\x89PNG fake")])
    await world.staff.slash(thread, "close")
    fields = {f.name: f.value for f in world.bot_messages(thread)[-1].embeds[0].fields}
    url = f"https://support.example.com/g/{world.guild.id}/tickets/{thread.id}"
    assert url in fields["Transcript"]
    _md, html_file = world.log_channel.last_message.attachments
    html = (await html_file.read()).decode()
    assert html.startswith("<!doctype html>") and "<script" not in html and "<link" not in html
    assert "<style>" in html and "It smells like toast." in html and "toast.png" in html and url in html
    [saved] = await world.core.archive.attachments(thread.id)
    assert saved.filename == "toast.png" and saved.kept and saved.size == len(b"\x89PNG fake")


async def test_stats_shows_the_key_numbers_to_staff_only(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)  # the model answers it
    await world.staff.slash(world.forum.threads[-1], "close")
    refused = await world.alice.slash(world.panel_channel, "stats")
    assert refused.ephemeral and "Only staff" in text_of(refused)
    result = await world.staff.slash(world.panel_channel, "stats", days=7)
    [embed] = result.response.embeds  # the deferred reply, edited into the answer
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Opened / closed"] == "1 / 1" and fields["Open now"] == "0"
    # Staff closed it without writing in it: closed without a staff message, and no Solved.
    assert fields["Closed without staff"] == "100 % (0 confirmed, 1 assumed)"
    assert "llm: 1" in fields["Answers by route"] and "More" not in fields  # no dashboard, no link


@pytest.mark.bot_env(**WEB_ON)
async def test_console_link_from_the_command_line(simcord_env, bot_env):
    world = await make_world(simcord_env)
    [(_, port)] = _dashboard(simcord_env).server.addresses
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "DISCORD", "LLM_", "DB_PATH", "WEB_"))}
    env.update(DB_PATH=bot_env["DB_PATH"], WEB_ENABLED="true", WEB_PUBLIC_URL=f"http://127.0.0.1:{port}")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "dashboard", "--guild", str(world.guild.id),
        cwd=Path(bot_env["DB_PATH"]).parent, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    link = out.decode().strip()
    assert link.startswith(f"http://127.0.0.1:{port}/login/") and "once" in err.decode()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(link, allow_redirects=False) as response:
            assert response.status == 303
        async with http.get(f"http://127.0.0.1:{port}/g/{world.guild.id}/memory") as response:
            assert response.status == 200
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "dashboard", "--guild", "42", cwd=Path(bot_env["DB_PATH"]).parent,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1 and "not set up" in err.decode()
