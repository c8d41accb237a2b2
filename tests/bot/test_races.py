"""Things that happen at the same time in one ticket: closing while an answer streams, two closes,
overlapping questions, double clicks, buttons on older answers, quick messages in a direct post.

Actor verbs settle one at a time (SimCord refuses overlapping ones), so overlapping events go in
through the backend (`backend.create_message`, `backend.emit`) and one settle runs them together.
"""

from __future__ import annotations

import asyncio
import copy
import time

from simcord import interactions as sim_interactions
from simcord.backend import serializers
from simcord.builders import ChannelHandle
from simcord.enums import ComponentType, InteractionType

from tests.fakes.ollama import Reply
from tests.grounded import (
    REFUND_A,
    REFUND_A_SHORT,
    REFUND_AGAIN,
    REFUND_ASK,
    REFUND_Q,
    REFUND_SUBJECT,
    answer,
    train,
    train_faq,
)
from tests.sim import make_world, text_of
from tickets.errors import CloseError

PASSWORD_Q = "How do I reset my password?"
PASSWORD_A = "Open Settings → Account → Reset password, then follow the link we email you."


def _labels(message) -> list[str]:
    return [c.label for row in message.components for c in row.children]


def _tags(env, world, thread) -> set[str]:
    """Tag names on the post as Discord has them (a closed post is archived: not in the bot's cache)."""
    names = {t.id: t.name for t in env.bot.get_channel(world.forum.id).available_tags}
    return {names[t] for t in env.backend.get_channel(thread.id).applied_tags}


async def _open(world, subject="Question", description="How does this work?"):
    await world.open_ticket(world.alice, subject, description)
    return next(t for t in reversed(world.forum.threads) if t.name == subject)


async def _until(condition, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _press(env, member, message, label: str) -> None:
    """Queue a button press without settling (what a fast double click looks like to the bot)."""
    backend = env.backend
    stored = backend.messages[message.channel.id][message.id]
    button = next(c for row in stored.components for c in row["components"] if c.get("label") == label)
    record, payload = sim_interactions.base_payload(
        backend,
        type=InteractionType.MESSAGE_COMPONENT,
        channel_id=message.channel.id,
        guild_id=member.guild.id,
        user_id=member.id,
        data={"custom_id": button["custom_id"], "component_type": ComponentType.BUTTON},
    )
    payload["message"] = dict(serializers.message_payload(backend, stored))
    record.source_message_id = stored.id
    backend.emit("INTERACTION_CREATE", payload)


# -- closing -------------------------------------------------------------------------------


async def test_close_while_an_answer_streams_stops_it_and_stays_closed(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    thread = await _open(world, REFUND_SUBJECT, REFUND_ASK)
    # about 16 s of streaming: a close must not wait for it. Shown after ~2 s (the checks show nothing before
    # the reply has 15 words, enough from the notes), well before LLM_TOTAL_TIMEOUT (4 s in tests) ends it.
    fake_ollama.script(Reply(answer(f"To get your refund: {REFUND_A} " * 6), chunk_size=8, chunk_delay=0.1))
    calls = len(fake_ollama.chat_requests())

    simcord_env.backend.create_message(thread.id, world.alice.id, REFUND_AGAIN)
    await _until(lambda: len(fake_ollama.chat_requests()) > calls)  # the model is answering
    await _until(lambda: any(m.content.startswith("To get your refund") for m in world.bot_messages(thread)))
    started = time.perf_counter()
    result = await world.alice.slash(thread, "close", reason="done")
    assert time.perf_counter() - started < 2, "the close waited for the answer (LLM_TOTAL_TIMEOUT is 4 s in tests)"

    assert "closed" in text_of(result).lower()
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "closed", "the stopped answer reopened the ticket"
    assert "Closed" in _tags(simcord_env, world, thread) and "Answered" not in _tags(simcord_env, world, thread)
    messages = world.bot_messages(thread)
    assert messages[-1].embeds and "Ticket closed" in messages[-1].embeds[0].title, "the close comes last"
    routes = await world.core.store.routes_since(world.guild.id, simcord_env.now().replace(year=2000))
    assert sum(routes.values()) == 1, "the stopped answer is not recorded as given"
    partial = [m for m in messages if m.content.startswith("To get your refund")]
    assert partial and all("▌" not in m.content and "Stopped: the ticket was closed" in m.content for m in partial)


async def test_two_closes_at_once_close_once(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    thread = await _open(world)
    bot, core = simcord_env.bot, world.core
    dthread = bot.get_channel(thread.id)
    ticket = await core.store.get_ticket(thread.id)
    config = await core.tickets.config(world.guild.id)
    member = dthread.guild.get_member(world.staff.id)

    results = await asyncio.gather(
        world.lifecycle.closed(dthread, ticket, config, closer=member, reason="by staff"),
        world.lifecycle.closed(dthread, ticket, config, closer=None, reason="no activity"),
        return_exceptions=True,
    )

    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], CloseError), results
    assert str(errors[0]) == "This ticket is already closed."
    embeds = [m for m in world.bot_messages(thread) if m.embeds]
    assert len(embeds) == 1, "one closing embed"
    transcripts = [m for m in world.log_channel.history() if m.attachments]
    assert len(transcripts) == 1, "one transcript in the log"


# -- history -------------------------------------------------------------------------------


async def test_overlapping_questions_each_see_the_conversation_before_them(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    thread = await _open(world, REFUND_SUBJECT, REFUND_ASK)
    first_answer = REFUND_A_SHORT
    fake_ollama.script(Reply(answer(first_answer), first_byte_delay=0.3), Reply(answer()))
    calls = len(fake_ollama.chat_requests())
    which, how_long = "what about a refund for the second skin i bought?", "And how long do I have to ask for a refund?"

    backend = simcord_env.backend
    backend.create_message(thread.id, world.alice.id, which)
    backend.create_message(thread.id, world.alice.id, how_long)
    await simcord_env.settle(timeout=10)

    first, second = (r["messages"] for r in fake_ollama.chat_requests()[calls:])
    first_text = "\n".join(m["content"] for m in first)
    second_text = "\n".join(m["content"] for m in second)
    assert which in first_text
    assert how_long not in first_text, "a later message is not history of an earlier one"
    assert which in second_text
    assert first_answer in second_text, "the bot's answer to the first question is part of the second prompt"
    assert first_text.count(which) == 1


# -- buttons -------------------------------------------------------------------------------


async def _train(world, question=PASSWORD_Q, answer=PASSWORD_A):
    result = await world.staff.slash(world.panel_channel, "train", question=question, answer=answer)
    assert "Saved as entry" in text_of(result), text_of(result)


async def test_double_click_on_solved_counts_once(simcord_env):
    world = await make_world(simcord_env)
    await _train(world)
    thread = await _open(world, "Password", "how do I reset my password now")
    answer = world.bot_messages(thread)[-1]

    _press(simcord_env, world.alice, answer, "Solved")
    _press(simcord_env, world.alice, answer, "Solved")
    await simcord_env.settle(timeout=10)

    entry = await world.core.memory.get(world.guild.id, 1)
    assert entry.usage_count == 1, "a double click taught the memory twice"
    glad = [m for m in world.bot_messages(thread) if "Glad that helped" in m.content]
    assert len(glad) == 1
    assert _labels(world.bot_messages(thread)[1]) == [], "the buttons are gone after the action"


async def test_solved_on_an_older_answer_credits_that_answer(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await _train(world)
    await train(world, REFUND_Q, REFUND_A)  # a second topic, which the model answers from
    thread = await _open(world, "Password", "how do I reset my password now")
    trained_answer = world.bot_messages(thread)[-1]
    stored = simcord_env.backend.messages[thread.id][trained_answer.id]
    old_buttons = copy.deepcopy(stored.components)
    fake_ollama.script(Reply(answer()))
    await world.alice.send(thread, f"Also, {REFUND_ASK}")
    newest = world.bot_messages(thread)[-1]
    assert _labels(newest) == ["Solved", "Talk to staff"]
    assert _labels(world.bot_messages(thread)[1]) == [], "only the newest answer keeps its buttons"

    stored.components = old_buttons  # a client still showing the buttons from before they were removed
    await world.alice.click(trained_answer, label="Solved")

    entry = await world.core.memory.get(world.guild.id, 1)
    assert entry.usage_count == 1, "the trained answer the user pressed Solved on was not credited"
    routes = await _feedback_by_route(world, thread.id)
    assert routes == [("answer", "solved"), ("llm", None)]


async def _feedback_by_route(world, ticket_id: int) -> list[tuple[str, str | None]]:
    rows = await world.core.db.fetchall(
        "SELECT route, feedback FROM interactions WHERE ticket_id = ? ORDER BY id", (ticket_id,)
    )
    return [(r[0], r[1]) for r in rows]


async def test_staff_pressing_solved_is_not_user_feedback(simcord_env):
    world = await make_world(simcord_env)
    await _train(world)
    thread = await _open(world, "Password", "how do I reset my password now")

    result = await world.staff.click(world.bot_messages(thread)[-1], label="Solved")

    assert "Glad" in text_of(result)
    assert (await world.core.store.get_ticket(thread.id)).status == "resolved"
    entry = await world.core.memory.get(world.guild.id, 1)
    assert entry.usage_count == 0
    assert await _feedback_by_route(world, thread.id) == [("answer", None)]
    assert await world.core.memory.list_suggestions(world.guild.id) == []


async def test_buttons_posted_before_answers_carried_their_id_still_work(simcord_env):
    world = await make_world(simcord_env)
    await _train(world)
    thread = await _open(world, "Password", "how do I reset my password now")
    answer = world.bot_messages(thread)[-1]
    stored = simcord_env.backend.messages[thread.id][answer.id]
    for row in stored.components:
        for button in row["components"]:
            button["custom_id"] = button["custom_id"].rsplit(":", 1)[0]  # ticket:solved:<ticket>

    result = await world.alice.click(answer, label="Solved")

    assert "Glad" in text_of(result)
    assert (await world.core.memory.get(world.guild.id, 1)).usage_count == 1


# -- direct forum posts --------------------------------------------------------------------


async def test_two_quick_messages_in_a_new_direct_post_open_one_ticket(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    raw = simcord_env.backend.create_thread(world.forum.id, "Direct question", world.alice.id)
    thread = ChannelHandle(simcord_env, world.guild, raw)
    await train_faq(world)
    fake_ollama.script(Reply(answer(REFUND_A_SHORT), first_byte_delay=0.2), Reply(answer()))
    more = "what about a refund for the second skin i bought?"

    simcord_env.backend.create_message(thread.id, world.alice.id, REFUND_ASK)
    simcord_env.backend.create_message(thread.id, world.alice.id, more)
    await simcord_env.settle(timeout=10)

    contents = [m.content for m in world.bot_messages(thread)]
    assert not any("went wrong" in c for c in contents), contents
    assert contents == [REFUND_A_SHORT, REFUND_A]
    # the second message was told it is next (not silence); the notice is gone once it is answered
    posts = [
        r.json for r in simcord_env.http_requests if r.method == "POST" and r.path == f"/channels/{thread.id}/messages"
    ]
    assert sum("right after my current reply" in (p or {}).get("content", "") for p in posts) == 1
    assert not any("right after my current reply" in m.content for m in thread.history())
    stored = await world.core.store.messages(thread.id)
    assert [m.role for m in stored] == ["user", "user", "bot", "bot"]
    assert more in stored[1].content


async def test_direct_post_gets_tags_and_a_week_before_auto_archive_in_one_edit(simcord_env):
    world = await make_world(simcord_env)
    raw = simcord_env.backend.create_thread(world.forum.id, "Direct question", world.alice.id)
    thread = ChannelHandle(simcord_env, world.guild, raw)

    await world.alice.send(thread, "How do I reset my password?")

    edits = [r.json for r in simcord_env.http_requests if r.method == "PATCH" and r.path == f"/channels/{thread.id}"]
    assert any(e.get("applied_tags") and e.get("auto_archive_duration") == 10080 for e in edits), edits
