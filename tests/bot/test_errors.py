"""When Discord or the bot's own bookkeeping fails: the user hears about it briefly, nothing is left
half-done (an orphan post, a "Ticket closed" in an open ticket), and one refused notice does not
cost a whole answer."""

from __future__ import annotations

import discord

from cogs.tickets._sink import ThreadSink
from tests.fakes.ollama import Reply
from tests.grounded import REFUND_A, REFUND_A_SHORT, REFUND_AGAIN, REFUND_ASK, REFUND_SUBJECT, answer, train_faq
from tests.sim import make_world, text_of

PASSWORD_Q = "How do I reset my password?"
PASSWORD_A = "Open Settings → Account → Reset password, then follow the link we email you."


def _labels(message) -> list[str]:
    return [c.label for row in message.components for c in row.children]


async def _open(world, subject="Printer on fire", description="It smells like toast."):
    await world.open_ticket(world.alice, subject, description)
    return next(t for t in reversed(world.forum.threads) if t.name == subject)


async def _train(world):
    result = await world.staff.slash(world.panel_channel, "train", question=PASSWORD_Q, answer=PASSWORD_A)
    assert "Saved as entry" in text_of(result), text_of(result)


def _failed(env) -> list[type]:
    """Errors that reached discord.py's handlers (reading them acknowledges them for SimCord)."""
    return [type(e) for e in env.errors]


# -- errors reach the user -----------------------------------------------------------------


async def test_a_failing_ticket_modal_tells_the_user(simcord_env):
    world = await make_world(simcord_env)
    shown = await world.alice.click(world.panel_channel.last_message, label="Open ticket")
    # Refused before any post exists. (A refused confirmation after the post exists must not say
    # "try again": see test_bot_discord_faults.py.)
    simcord_env.inject_error("POST", "/interactions/*/callback", status=400, code=50035, message="Invalid Form Body")

    result = await world.alice.submit_modal(shown, {"subject": "Help", "description": "something broke"})

    assert result.ephemeral and "Something went wrong on my side" in text_of(result), text_of(result)
    assert _failed(simcord_env) == [discord.HTTPException]
    assert world.forum.threads == []


async def test_a_failing_panel_button_tells_the_user(simcord_env):
    world = await make_world(simcord_env)
    simcord_env.inject_error("POST", "/interactions/*/callback", status=400, code=50035, message="Invalid Form Body")

    result = await world.alice.click(world.panel_channel.last_message, label="Open ticket")

    assert result.modal is None and result.ephemeral
    assert "Something went wrong on my side" in text_of(result), text_of(result)
    assert _failed(simcord_env) == [discord.HTTPException]


async def test_a_failing_answer_button_tells_the_user_and_keeps_the_buttons(simcord_env, monkeypatch):
    world = await make_world(simcord_env)
    await _train(world)
    thread = await _open(world, "Password", "how do I reset my password now")
    answer = world.bot_messages(thread)[-1]

    async def broken(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(world.core.memory, "record_feedback", broken)
    result = await world.alice.click(answer, label="Solved")

    assert "Something went wrong on my side" in text_of(result), text_of(result)
    assert _labels(world.bot_messages(thread)[1]) == ["Solved", "Talk to staff"], "so it can be tried again"

    monkeypatch.undo()
    result = await world.alice.click(answer, label="Solved")
    assert "Glad" in text_of(result)
    assert _labels(world.bot_messages(thread)[1]) == []


async def test_a_failing_reply_after_a_button_tells_the_user(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    thread = await _open(world, REFUND_SUBJECT, REFUND_ASK)  # answered by the model, with its buttons
    simcord_env.inject_error("POST", "/webhooks/*", status=400, code=50035, message="Invalid Form Body")

    result = await world.alice.click(world.bot_messages(thread)[-1], label="Talk to staff")

    assert "Something went wrong on my side" in text_of(result), text_of(result)
    assert (await world.core.store.get_ticket(thread.id)).status == "waiting_staff"


# -- nothing half-done ---------------------------------------------------------------------


async def test_answer_bookkeeping_failure_does_not_escape(simcord_env, monkeypatch):
    world = await make_world(simcord_env)

    async def broken(**kwargs):
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(world.core.store, "record_route", broken)
    result = await world.open_ticket(world.alice, "Help", "something broke")

    assert "ticket is open" in text_of(result)
    [thread] = world.forum.threads
    assert len(world.bot_messages(thread)) == 2, "the answer was still posted"
    assert _failed(simcord_env) == []


async def test_a_ticket_that_cannot_be_recorded_leaves_no_post(simcord_env, monkeypatch):
    world = await make_world(simcord_env)

    async def broken(**kwargs):
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(world.core.tickets, "ticket_opened", broken)
    result = await world.open_ticket(world.alice, "Help", "something broke")

    assert result.ephemeral and "went wrong while opening your ticket" in text_of(result), text_of(result)
    assert world.forum.threads == [], "the post was deleted"
    assert any(r.method == "DELETE" and r.path.startswith("/channels/") for r in simcord_env.http_requests)
    assert _failed(simcord_env) == []


async def test_close_that_discord_refuses_takes_back_its_closing_message(simcord_env):
    world = await make_world(simcord_env)
    thread = await _open(world)
    simcord_env.inject_error("PATCH", f"/channels/{thread.id}", status=400, code=50035, message="Invalid Form Body")

    result = await world.staff.slash(thread, "close")

    assert "refused" in text_of(result)
    assert not any(m.embeds for m in world.bot_messages(thread)), "a 'Ticket closed' embed stayed in an open ticket"
    assert (await world.core.store.get_ticket(thread.id)).status != "closed"


async def test_a_refused_suggestion_does_not_keep_the_transcript_from_the_log(simcord_env, monkeypatch, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    thread = await _open(world, REFUND_SUBJECT, REFUND_ASK)
    await world.staff.send(thread, "Unplug it and call the fire brigade.")
    await world.alice.click(world.bot_messages(thread)[1], label="Solved")

    async def refuse(*args, **kwargs):
        raise ValueError("The answer is empty.")

    monkeypatch.setattr(world.core.memory, "suggest_qa", refuse)
    result = await world.alice.slash(thread, "close")

    assert "closed" in text_of(result).lower()
    assert world.log_channel.last_message.attachments, "the transcript reached the log"
    assert (await world.core.store.get_ticket(thread.id)).status == "closed"


async def test_a_subject_of_only_spaces_is_refused_with_a_reason(simcord_env):
    world = await make_world(simcord_env)

    result = await world.open_ticket(world.alice, "      ", "something broke")

    assert result.ephemeral and "subject needs at least 3 characters" in text_of(result), text_of(result)
    assert world.forum.threads == []


# -- the queue notice ----------------------------------------------------------------------


async def test_a_refused_queue_notice_does_not_cost_the_answer(simcord_env):
    world = await make_world(simcord_env)
    thread = await _open(world)
    sink = ThreadSink(simcord_env.bot.get_channel(thread.id))
    posts = f"/channels/{thread.id}/messages"

    simcord_env.inject_error("POST", posts, status=400, code=50035, message="Invalid Form Body")
    await sink.queued(2)  # refused: no notice, no exception
    await sink.queued(1)
    simcord_env.inject_error("PATCH", f"{posts}/*", status=400, code=50035, message="Invalid Form Body")
    await sink.queued(1)  # the edit is refused: the notice stays
    message = await sink.send("The answer.")

    assert message.content == "The answer."
    assert [m.content for m in world.bot_messages(thread)][-1] == "The answer."
    assert not any("in line" in m.content for m in world.bot_messages(thread))


async def test_discord_failing_mid_stream_keeps_the_text_and_hands_to_staff(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    fake_ollama.script(Reply(answer(f"{REFUND_A} {REFUND_A_SHORT}"), chunk_size=6, chunk_delay=0.05))
    simcord_env.inject_error("PATCH", f"/channels/{thread.id}/messages/*", status=500)  # the first streaming edit
    await world.alice.send(thread, REFUND_AGAIN)
    reply = world.bot_messages(thread)[-1]
    assert reply.content.startswith("Unused")  # what was shown before the failed edit stays
    assert "▌" not in reply.content and "something went wrong while I was answering" in reply.content
    assert (await world.core.store.get_ticket(thread.id)).status == "waiting_staff"


async def test_a_slash_command_that_fails_unexpectedly_tells_the_user(simcord_env, monkeypatch, caplog):
    # The error handler itself once failed on every unexpected error (it named an exception class
    # that discord.py does not have), so a broken command left the user with no answer at all.
    world = await make_world(simcord_env)

    async def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(world.core.memory, "count", broken)
    result = await world.staff.slash(world.panel_channel, "memory list")

    assert result.ephemeral and "Something went wrong on my side" in text_of(result), text_of(result)
    failure = next(r for r in caplog.records if r.getMessage() == "Command /memory list failed")
    assert failure.exc_info is not None and "database went away" in str(failure.exc_info[1])
