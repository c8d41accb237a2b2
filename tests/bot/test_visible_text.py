"""Text with nothing visible in it (zero-width, control or blank characters) counts as empty on the
Discord side: no invisible post titles, no blank close reasons, no answer to an invisible message."""

from __future__ import annotations

from simcord.builders import ChannelHandle

from tests.fakes.ollama import FakeOllama
from tests.sim import make_world, text_of

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"  # zero-width space, non-joiner, joiner, word joiner, BOM


async def test_an_invisible_subject_is_refused_with_a_reason(simcord_env):
    world = await make_world(simcord_env)

    result = await world.open_ticket(world.alice, INVISIBLE, "something broke")

    assert result.ephemeral and "subject needs at least 3 characters" in text_of(result), text_of(result)
    assert world.forum.threads == [], "an invisible post title was created"


async def test_subject_and_description_are_trimmed_of_invisible_characters(simcord_env):
    world = await make_world(simcord_env)

    await world.open_ticket(world.alice, f"{INVISIBLE} Printer {INVISIBLE}", f"\u200b{INVISIBLE}")

    [thread] = world.forum.threads
    assert thread.name == "Printer"
    assert "_(no description)_" in thread.history()[0].content
    assert (await world.core.store.get_ticket(thread.id)).subject == "Printer"


async def test_a_direct_post_with_an_invisible_title_stores_a_visible_subject(simcord_env):
    world = await make_world(simcord_env)
    raw = simcord_env.backend.create_thread(world.forum.id, INVISIBLE, world.alice.id)
    thread = ChannelHandle(simcord_env, world.guild, raw)

    await world.alice.send(thread, "How do I reset my password?")

    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket is not None and ticket.subject == "Untitled ticket"
    await world.alice.slash(thread, "close")
    embed = world.bot_messages(thread)[-1].embeds[0]
    assert embed.title == "🔒 Ticket closed: Untitled ticket"


async def test_an_invisible_close_reason_gets_the_default(simcord_env):
    world = await make_world(simcord_env)
    await world.open_ticket(world.alice, "Printer", "It smells like toast.")
    [thread] = world.forum.threads

    result = await world.alice.slash(thread, "close", reason=INVISIBLE)

    assert "closed" in text_of(result).lower()
    fields = {f.name: f.value for f in world.bot_messages(thread)[-1].embeds[0].fields}
    assert fields["Reason"] == "closed by user"
    assert (await world.core.store.get_ticket(thread.id)).close_reason == "closed by user"


async def test_an_invisible_message_costs_no_answer(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await world.open_ticket(world.alice, "Printer", "It smells like toast.")
    [thread] = world.forum.threads
    answers, calls = len(world.bot_messages(thread)), len(fake_ollama.chat_requests())

    await world.alice.send(thread, INVISIBLE)

    assert len(fake_ollama.chat_requests()) == calls and len(world.bot_messages(thread)) == answers
