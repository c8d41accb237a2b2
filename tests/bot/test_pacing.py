"""Spam in a ticket: a user writing faster than USER_ANSWERS_PER_MINUTE gets one answer to the extra
messages, and a server past LLM_SERVER_REQUESTS_PER_MINUTE is answered as if the model were busy,
while other users and other servers are still served."""

from __future__ import annotations

import pytest

from tests.fakes.ollama import FakeOllama, Reply
from tests.grounded import REFUND_A, REFUND_A_SHORT, REFUND_AGAIN, REFUND_ASK, REFUND_SUBJECT, answer, train_faq
from tests.sim import make_world

LIMIT = 5  # the default USER_ANSWERS_PER_MINUTE


def _posts(env, thread_id: int) -> list[str]:
    return [
        (r.json or {}).get("content") or ""
        for r in env.http_requests
        if r.method == "POST" and r.path == f"/channels/{thread_id}/messages"
    ]


def _prompts(fake: FakeOllama) -> list[str]:
    return ["\n".join(m["content"] for m in r["messages"]) for r in fake.chat_requests()]


async def _open(world, member, subject: str, description: str):
    await world.open_ticket(member, subject, description)
    return next(t for t in world.forum.threads if t.name == subject)


async def test_thirty_messages_in_two_seconds_cost_a_bounded_number_of_model_calls(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    thread = await _open(world, world.alice, REFUND_SUBJECT, REFUND_ASK)
    spam = [f"spam line {i:02d}: how do i get a refund for a skin i bought?" for i in range(30)]

    for text in spam:  # 30 messages in 2 s
        await world.alice.send(thread, text)
        await simcord_env.advance_time(2 / 30)

    # The opening answer and LIMIT - 1 messages were answered; the rest wait for one answer.
    assert len(fake_ollama.chat_requests()) == LIMIT
    assert sum("answer your messages together" in p for p in _posts(simcord_env, thread.id)) == 1

    # Meanwhile another user in another ticket is served at once, by the model.
    bob_thread = await _open(world, world.bob, "Another skin", REFUND_ASK)
    assert world.bot_messages(bob_thread)[-1].content == REFUND_A
    assert not any("together" in p or "in line" in p for p in _posts(simcord_env, bob_thread.id))
    assert len(fake_ollama.chat_requests()) == LIMIT + 1

    await simcord_env.advance_time(60)

    assert len(fake_ollama.chat_requests()) == LIMIT + 2, "the waiting messages got one answer"
    prompts = _prompts(fake_ollama)
    for text in spam:
        assert any(text in p for p in prompts), f"{text!r} never reached the model"
    last = prompts[-1]
    assert all(text in last for text in spam[LIMIT - 1 :]), "the waiting messages were answered together"
    answers = [m.content for m in world.bot_messages(thread)[1:]]
    assert answers == [REFUND_A] * (LIMIT + 1)  # no notice left behind


@pytest.mark.bot_env(LLM_SERVER_REQUESTS_PER_MINUTE="2", TICKET_COOLDOWN_SECONDS="0")
async def test_a_server_past_its_model_requests_per_minute_is_handed_to_staff_and_others_are_served(
    simcord_env, fake_ollama
):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await _open(world, world.alice, "First", REFUND_ASK)
    await _open(world, world.bob, "Second", REFUND_AGAIN)
    assert len(fake_ollama.chat_requests()) == 2

    third = await _open(world, world.alice, "Third", "what about a refund for the second skin i bought?")

    assert len(fake_ollama.chat_requests()) == 2, "a third request this minute went to the model"
    [reply] = world.bot_messages(third)[1:]
    assert "too busy" not in reply.content and "busy with many questions right now" in reply.content
    assert "staff has been notified" in reply.content
    assert (await world.core.store.get_ticket(third.id)).status == "waiting_staff"
    assert any(f"<#{third.id}>" in m.content and "too many questions" in m.content for m in world.log_channel.history())

    # Another server has its own allowance.
    other = await make_world(simcord_env)
    await train_faq(other)
    other_thread = await _open(other, other.alice, "Elsewhere", REFUND_ASK)
    assert world.bot_messages(other_thread)[-1].content == REFUND_A
    assert len(fake_ollama.chat_requests()) == 3

    # A minute later the first server is served by the model again.
    await simcord_env.advance_time(61)
    await world.alice.send(third, REFUND_AGAIN)
    assert len(fake_ollama.chat_requests()) == 4
    assert world.bot_messages(third)[-1].content == REFUND_A


@pytest.mark.bot_env(USER_ANSWERS_PER_MINUTE="0")
async def test_messages_that_queue_behind_an_answer_get_one_answer_together(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    thread = await _open(world, world.alice, REFUND_SUBJECT, REFUND_ASK)
    fake_ollama.script(Reply(answer(REFUND_A_SHORT), first_byte_delay=0.5))
    calls = len(fake_ollama.chat_requests())
    texts = [f"detail {i}: how do i get a refund for the skin X{i} i bought?" for i in range(6)]

    for text in texts:  # all at once: the first is being answered while the others arrive
        simcord_env.backend.create_message(thread.id, world.alice.id, text)
    await simcord_env.settle(timeout=10)

    requests = fake_ollama.chat_requests()[calls:]
    assert len(requests) == 2, [r["messages"][-1]["content"] for r in requests]
    prompts = _prompts(fake_ollama)[calls:]
    assert all(any(text in p for p in prompts) for text in texts)
    assert sum("right after my current reply" in p for p in _posts(simcord_env, thread.id)) == 1
    answers = [m.content for m in world.bot_messages(thread)[2:]]
    assert answers == [REFUND_A_SHORT, REFUND_A]
