"""Discord failures around an answer must cost at most that one message: the model slot is given back,
a refused typing indicator or ticket confirmation does not cost the answer."""

from __future__ import annotations

import gc
import time

import pytest

from tests.fakes.ollama import FakeOllama, Reply
from tests.grounded import REFUND_A, REFUND_A_SHORT, REFUND_AGAIN, REFUND_ASK, REFUND_SUBJECT, answer, train, train_faq
from tests.sim import make_world, text_of


def _posts(env, thread_id: int) -> list[str]:
    return [
        (r.json or {}).get("content") or ""
        for r in env.http_requests
        if r.method == "POST" and r.path == f"/channels/{thread_id}/messages"
    ]


@pytest.fixture
def no_gc():
    """The garbage collector must not be what frees an abandoned answer stream."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# -- item 1: a refused answer gives the model slot back -------------------------------------


@pytest.mark.bot_env(LLM_MAX_CONCURRENCY="1")
async def test_a_refused_answer_message_gives_the_model_slot_back(simcord_env, fake_ollama: FakeOllama, no_gc):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    limiter = world.core.llm._limiter
    fake_ollama.script(Reply(answer(REFUND_A_SHORT), chunk_size=8))
    # The answer's first message is refused; the apology after it goes through.
    simcord_env.inject_error("POST", f"/channels/{thread.id}/messages", status=500)

    await world.alice.send(thread, REFUND_AGAIN)

    assert limiter.active == 0 and limiter.waiting == 0, "the refused answer kept the model slot"
    assert any("something went wrong" in m.content for m in world.bot_messages(thread))

    fake_ollama.script(Reply(answer(REFUND_A)))
    started = time.perf_counter()
    await world.open_ticket(world.bob, "Skin refund", REFUND_ASK)
    elapsed = time.perf_counter() - started
    bob_thread = next(t for t in world.forum.threads if t.name == "Skin refund")
    assert world.bot_messages(bob_thread)[-1].content == REFUND_A
    assert not any("in line" in p for p in _posts(simcord_env, bob_thread.id)), "the next ticket had to queue"
    assert elapsed < 3, f"the next ticket took {elapsed:.1f} s"


# -- item 3: a refused typing indicator does not cost the answer ----------------------------


async def test_a_refused_typing_indicator_does_not_cost_the_answer(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await train_faq(world)
    simcord_env.inject_error("POST", "/channels/*/typing", status=500, times=None)
    fake_ollama.script(Reply(answer(REFUND_A_SHORT)), Reply(answer(REFUND_A)))

    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    await world.alice.send(thread, REFUND_AGAIN)

    answers = [m.content for m in world.bot_messages(thread)[1:]]
    assert answers == [REFUND_A_SHORT, REFUND_A]
    assert not any("went wrong" in p for p in _posts(simcord_env, thread.id))
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "answered" and not ticket.staff_pinged, "a refused typing indicator handed it to staff"
    assert any(r.method == "POST" and r.path.endswith("/typing") for r in simcord_env.http_requests)


# -- item 4: a refused "ticket is open" confirmation leaves no orphan -----------------------


async def _refused_confirmation(simcord_env, fake_ollama: FakeOllama, *, times: int | None):
    world = await make_world(simcord_env)
    await train_faq(world)
    fake_ollama.script(Reply(answer(REFUND_A_SHORT)))
    panel = world.panel_channel.last_message
    shown = await world.alice.click(panel, label="Open ticket")
    # The modal's followups (the confirmation, then any edit of the deferred reply) are refused.
    simcord_env.inject_error("*", "/webhooks/*", status=500, times=times)
    result = await world.alice.submit_modal(shown, {"subject": REFUND_SUBJECT, "description": REFUND_ASK})

    [thread] = world.forum.threads
    assert world.bot_messages(thread)[-1].content == REFUND_A_SHORT, "the ticket was answered"
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket is not None and ticket.status == "answered"
    assert "try again" not in text_of(result), "the user was told to retry a ticket that exists"
    assert list(simcord_env.errors) == []
    staff_pings = [m for m in world.log_channel.history() if "New **general** ticket" in m.content]
    assert len(staff_pings) == 1
    # The user's limits count the ticket that exists: a second one right away meets the cooldown.
    again = await world.alice.click(panel, label="Open ticket")
    assert again.modal is None and "a moment ago" in text_of(again), text_of(again)
    return result, thread


async def test_a_refused_ticket_confirmation_still_answers_and_confirms_another_way(
    simcord_env, fake_ollama: FakeOllama
):
    result, thread = await _refused_confirmation(simcord_env, fake_ollama, times=1)
    assert f"Your ticket is open: <#{thread.id}>" in text_of(result), text_of(result)


async def test_an_expired_ticket_interaction_still_answers_the_ticket(simcord_env, fake_ollama: FakeOllama):
    await _refused_confirmation(simcord_env, fake_ollama, times=None)


# -- item 9: a note added to a cut-off answer lands outside its code block -----------------


async def test_the_apology_after_a_failure_inside_a_code_block_is_not_code(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    shown = (
        "Clean the print head from the printer's Maintenance menu and print a test page. If pages stay blank, "
        "enable the print queue again:\n```bash\nsudo lpstat -t"
    )
    queue = (
        shown + "\nsudo cupsenable printer\nsudo cupsaccept printer\nlpstat -p printer\n```\nThen print a test page."
    )
    await train(world, "How do I check the print queue?", queue)  # the code the model's answer quotes
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    # The first piece ends inside the code block, past the part held back while streaming.
    fake_ollama.script(Reply(answer(queue), chunk_size=len("ANSWER: ") + len(shown) + 45))
    simcord_env.inject_error("PATCH", f"/channels/{thread.id}/messages/*", status=500)  # the first streaming edit

    await world.alice.send(thread, "the print queue seems stuck, what now?")

    reply = world.bot_messages(thread)[-1].content
    assert reply.startswith(shown) and "something went wrong while I was answering" in reply
    code = reply.partition("-# ⚠️")[0]
    assert code.count("```") == 2, f"the apology is inside the code block:\n{reply}"
