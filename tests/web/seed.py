"""Two servers filled through the real ticket flow (SimCord), and the dashboard over the same database.

Server A ("Support Server"): three tickets.
  1. alice "Password": answered by a saved answer, Solved, rated 5 ★ with a comment in the ticket, closed by
     alice → deflected, confirmed.
  2. mallory (a display name full of markup) opens a ticket whose subject and text are attacks, around a question
     about the trained refund note: the model answers from it (the shipped answer checks are on); mallory
     attaches a file with a hostile name; staff reply 10 minutes later and close it; mallory rates it 2 ★ by DM,
     with a comment that is an attack too.
  3. alice "Map crash" while the model is down → handed to staff, still open.
Server B ("Other Server"): one ticket by its own member carol, with an attachment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from cogs.dashboard import DiscordDirectory
from tests.grounded import REFUND_A, REFUND_Q, train
from tests.grounded import answer as grounded
from tests.sim import World, make_world, text_of
from web.app import WebContext
from web.auth import AttemptLimiter, Auth
from web.server import create_app

PASSWORD_Q = "How do I reset my password?"
PASSWORD_A = "Open Settings → Account → Reset password, then follow the link we email you."
EVIL_NAME = '<img src=x onerror=alert("name")>'
EVIL_SUBJECT = '<script>alert("subject")</script>'
EVIL_TEXT = '"><img src=x onerror=alert("text")> see javascript:alert(1) or [click](javascript:alert(2)) https://example.com/help'
EVIL_FILE = '"><img src=x onerror=alert("file")>.html'
EVIL_FILE_BODY = b"<script>alert('attachment')</script>"
STAFF_REPLY = "Have you tried turning it off and on again?"
PASSWORD_COMMENT = "Sorted in a minute"
EVIL_COMMENT = '<script>alert("comment")</script>'


@dataclass
class Seeded:
    env: Any
    a: World
    b: World
    mallory: Any
    carol: Any
    password_ticket: int
    evil_ticket: int
    crash_ticket: int
    b_ticket: int
    context: WebContext

    @property
    def bot(self) -> Any:
        return self.env.bot


async def seed(env: Any, fake_ollama: Any) -> Seeded:
    a = await make_world(env)
    result = await a.staff.slash(a.panel_channel, "train", question=PASSWORD_Q, answer=PASSWORD_A)
    assert "Saved as entry" in text_of(result), text_of(result)

    await a.open_ticket(a.alice, "Password", "how do i reset my password")
    password = a.forum.threads[-1]
    await a.alice.click(a.bot_messages(password)[-1], label="Solved")
    asked = next(m for m in a.bot_messages(password) if "How did we do" in m.content)
    await a.alice.submit_modal(await a.alice.click(asked, label="5 ★"), {"comment": PASSWORD_COMMENT})
    await a.alice.slash(password, "close", reason="fixed")

    await train(a, REFUND_Q, REFUND_A)
    fake_ollama.default_reply = grounded(REFUND_A)
    mallory = a.guild.add_member(env.create_user(EVIL_NAME))
    await a.open_ticket(mallory, EVIL_SUBJECT, f"how do i get a refund for a skin i bought? {EVIL_TEXT}")
    evil = a.forum.threads[-1]
    log = "here is the log; what about a refund for the second skin i bought?"
    await mallory.send(evil, log, attachments=[(EVIL_FILE, EVIL_FILE_BODY)])
    await env.advance_time(600)  # staff answer ten minutes after the ticket opened
    await a.staff.send(evil, STAFF_REPLY)
    await a.staff.slash(evil, "close")
    dm_prompt = mallory.user.dm_channel.last_message
    await mallory.user.submit_modal(await mallory.user.click(dm_prompt, label="2 ★"), {"comment": EVIL_COMMENT})

    fake_ollama.stop()
    await env.advance_time(120)  # past alice's cooldown between two tickets
    await a.open_ticket(a.alice, "Map crash", "The app crashes when I open the map view.")
    crash = a.forum.threads[-1]

    b = await make_world(env)
    carol = b.guild.add_member(env.create_user("carol"))
    await b.open_ticket(carol, "Other server's secret", "B's private matter")
    b_ticket = b.forum.threads[-1]
    await carol.send(b_ticket, "attached", attachments=[("secret.txt", b"B only")])
    await b.staff.slash(b_ticket, "close")

    bot = env.bot
    context = WebContext(
        settings=bot.core.settings.web, auth=Auth(bot.core.db, clock=env.now),
        limiter=AttemptLimiter(limit=5, clock=env.now), directory=DiscordDirectory(bot, ttl_s=0),
        tickets=bot.core.tickets, analytics=bot.core.analytics, archive=bot.core.archive, memory=bot.core.memory,
        clock=env.now,
    )  # fmt: skip
    return Seeded(env, a, b, mallory, carol, password.id, evil.id, crash.id, b_ticket.id, context)


def client_for(seeded: Seeded) -> TestClient:
    return TestClient(TestServer(create_app(seeded.context), host="127.0.0.1"))


async def sign_in(client: TestClient, seeded: Seeded, user_id: int, guild_id: int, *, console: bool = False) -> None:
    link = await seeded.context.auth.create_link(user_id=user_id, guild_id=guild_id, console=console)
    response = await client.post(link, allow_redirects=False)
    assert response.status == 303, await response.text()
