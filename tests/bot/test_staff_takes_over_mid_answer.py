"""Staff take a ticket while the assistant is still answering a message in it: the answer must not reach the
user after that, nor count as given.

A user's message is recorded, then answered by a model that takes seconds. If staff /claim the ticket, write in
it, switch the assistant off or /close it meanwhile, the answer is dropped (nothing posted yet) or stopped (what
was streamed keeps a note saying why, as a close does), no Answered tag or buttons appear, the ticket stays
claimed / paused / closed, and nothing of the answer is recorded (no route, no bot message, no status).
The last test writes the claim as another bot process on the same database would (no word reaches this
process): then the database check in the answer's own write is what stops it.
"""

from __future__ import annotations

from cogs.tickets import _sink as sink_module
from tests.fakes.ollama import FakeOllama, Reply
from tests.grounded import REFUND_A_SHORT, REFUND_AGAIN, REFUND_ASK, REFUND_SUBJECT, answer, train_faq
from tests.sim import make_world, text_of
from tests.waiting import wait_until

# The ticket opens with a question the model answers (Solved / Talk to staff under it); the follow-up is
# answered by a slow model with a long reply grounded in the refund note (the shipped checks show it).
QUESTION = REFUND_AGAIN
SHOWN = (
    f"{REFUND_A_SHORT} Console purchases are refunded by the console's own store, and only unused store items "
    "can be refunded within 14 days."
)
SLOW = answer(SHOWN)


async def _opened(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    return world, thread


async def _answer_over(env, world, thread) -> None:
    """Wait until the answer in progress has ended (the model streams in real time, which `settle` does not
    wait for), then let what followed it settle."""
    await wait_until(lambda: not world.lifecycle.locks.ticket(thread.id).locked(), "the answer in progress ended")
    await env.settle(timeout=10)


def _tags(env, world, thread) -> set[str]:
    names = {t.id: t.name for t in env.bot.get_channel(world.forum.id).available_tags}
    return {names[t] for t in env.backend.get_channel(thread.id).applied_tags}


def _model_texts(world, thread) -> list[str]:
    return [m.content for m in world.bot_messages(thread) if m.content.startswith(SHOWN[:30])]


def _buttons(world, thread) -> list[str]:
    return [c.label for m in world.bot_messages(thread) for row in m.components for c in row.children]


async def _ticket_with_question_in_progress(simcord_env, fake_ollama: FakeOllama, reply: Reply):
    """A ticket waiting for staff (its opening was handed off, the assistant still on: as when the model was
    down); then the user asks `QUESTION` and the model is answering it. An answer would make it Answered."""
    world, thread = await _opened(simcord_env, fake_ollama)
    await _answer_over(simcord_env, world, thread)
    core = world.core
    ticket = await core.tickets.get(thread.id)
    config = await core.tickets.config(world.guild.id)
    await world.lifecycle.handed_to_staff(
        simcord_env.bot.get_channel(thread.id), ticket, config, "the model was down", pause_ai=False
    )
    await simcord_env.settle(timeout=10)
    assert (await core.tickets.get(thread.id)).status == "waiting_staff"
    assert "Answered" not in _tags(simcord_env, world, thread)
    store = core.store
    before = await store.routes_since(world.guild.id, simcord_env.now().replace(year=2000))
    fake_ollama.script(reply)
    calls = len(fake_ollama.chat_requests())
    simcord_env.backend.create_message(thread.id, world.alice.id, QUESTION)
    await wait_until(lambda: len(fake_ollama.chat_requests()) > calls, "the model is answering")  # and it is recorded
    return world, thread, sum(before.values())


async def _nothing_of_the_answer_recorded(world, simcord_env, thread, routes_before: int) -> None:
    store = world.core.store
    routes = await store.routes_since(world.guild.id, simcord_env.now().replace(year=2000))
    assert sum(routes.values()) == routes_before, "the dropped answer is not recorded as given"
    stored = await store.messages(thread.id)
    assert not [m for m in stored if m.role == "bot" and m.content.startswith(SHOWN[:30])]
    assert [m.content for m in stored if m.role == "user"][-1] == QUESTION, "the user's message is recorded"


async def test_a_claim_while_the_model_thinks_drops_the_answer(simcord_env, fake_ollama: FakeOllama):
    world, thread, routes = await _ticket_with_question_in_progress(
        simcord_env, fake_ollama, Reply(SLOW, first_byte_delay=1.0)
    )
    result = await world.staff.slash(thread, "claim")
    assert "Done" in text_of(result)
    await _answer_over(simcord_env, world, thread)

    assert _model_texts(world, thread) == [], "no answer after staff claimed the ticket"
    assert "claimed this ticket" in world.bot_messages(thread)[-1].content, "the claim is the last word"
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.claimed_by == world.staff.id and ticket.ai_paused and ticket.status == "waiting_staff"
    assert "Claimed" in _tags(simcord_env, world, thread) and "Answered" not in _tags(simcord_env, world, thread)
    assert len(_buttons(world, thread)) == 2, "only the opening's answer has Solved / Talk to staff"
    await _nothing_of_the_answer_recorded(world, simcord_env, thread, routes)


async def test_a_claim_while_the_answer_streams_stops_it(simcord_env, fake_ollama: FakeOllama):
    world, thread, routes = await _ticket_with_question_in_progress(
        simcord_env, fake_ollama, Reply(SLOW, chunk_size=8, chunk_delay=0.1)
    )
    await wait_until(lambda: bool(_model_texts(world, thread)), "part of the answer is shown")
    await world.staff.slash(thread, "claim")
    await _answer_over(simcord_env, world, thread)

    [partial] = _model_texts(world, thread)
    assert "▌" not in partial and "Stopped: a member of staff took over this ticket" in partial
    assert not partial.startswith(SHOWN), "the answer was not finished"
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.claimed_by == world.staff.id and ticket.ai_paused and ticket.status == "waiting_staff"
    assert "Answered" not in _tags(simcord_env, world, thread)
    assert len(_buttons(world, thread)) == 2
    await _nothing_of_the_answer_recorded(world, simcord_env, thread, routes)


async def test_a_staff_message_while_the_model_thinks_drops_the_answer(simcord_env, fake_ollama: FakeOllama):
    world, thread, routes = await _ticket_with_question_in_progress(
        simcord_env, fake_ollama, Reply(SLOW, first_byte_delay=1.0)
    )
    await world.staff.send(thread, "I'm on it, let me check your account.")
    await _answer_over(simcord_env, world, thread)

    assert _model_texts(world, thread) == []
    ticket = await world.core.store.get_ticket(thread.id)
    # Staff answering a ticket that waits for them makes it Answered (tickets/service.py next_status): their doing.
    assert ticket.ai_paused and ticket.status == "answered"
    assert len(_buttons(world, thread)) == 2, "no Solved / Talk to staff under a staff answer"
    await _nothing_of_the_answer_recorded(world, simcord_env, thread, routes)


async def test_switching_the_assistant_off_while_it_thinks_drops_the_answer(simcord_env, fake_ollama: FakeOllama):
    world, thread, routes = await _ticket_with_question_in_progress(
        simcord_env, fake_ollama, Reply(SLOW, first_byte_delay=1.0)
    )
    await world.staff.slash(thread, "ticket_ai", enabled=False)
    await _answer_over(simcord_env, world, thread)

    assert _model_texts(world, thread) == []
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.ai_paused and ticket.status == "waiting_staff"
    await _nothing_of_the_answer_recorded(world, simcord_env, thread, routes)


async def test_a_close_while_the_model_thinks_drops_the_answer(simcord_env, fake_ollama: FakeOllama):
    """A guard: a close already stopped the answer in progress (cogs/tickets/_locks.py)."""
    world, thread, routes = await _ticket_with_question_in_progress(
        simcord_env, fake_ollama, Reply(SLOW, first_byte_delay=1.0)
    )
    await world.alice.slash(thread, "close", reason="fixed it myself")
    await _answer_over(simcord_env, world, thread)

    assert _model_texts(world, thread) == []
    messages = world.bot_messages(thread)
    assert messages[-1].embeds and "Ticket closed" in messages[-1].embeds[0].title, "the close comes last"
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "closed"
    assert "Closed" in _tags(simcord_env, world, thread) and "Answered" not in _tags(simcord_env, world, thread)
    await _nothing_of_the_answer_recorded(world, simcord_env, thread, routes)


async def test_a_claim_by_another_process_stops_the_answer_while_it_streams(
    simcord_env, fake_ollama: FakeOllama, monkeypatch
):  # fmt: skip
    """The claim is written to the database as another bot process sharing it would: this process hears nothing,
    but the answer being shown looks at the ticket every few seconds (cogs/tickets/_sink.py) and stops."""
    monkeypatch.setattr(sink_module, "WATCH_EVERY", 0.3)
    long_reply = answer(" ".join([SHOWN] * 3))
    world, thread, routes = await _ticket_with_question_in_progress(
        simcord_env, fake_ollama, Reply(long_reply, chunk_size=16, chunk_delay=0.1)
    )
    await wait_until(lambda: bool(_model_texts(world, thread)), "part of the answer is shown")
    core = world.core
    ticket = await core.tickets.get(thread.id)
    await core.desk.claims.claim(ticket, staff_id=world.staff.id, staff_name="sam_staff", now=simcord_env.now())
    await _answer_over(simcord_env, world, thread)

    [shown] = _model_texts(world, thread)
    assert "▌" not in shown and shown.endswith("Stopped: a member of staff took over this ticket."), shown[-80:]
    assert len(shown) < len(long_reply), "stopped before the end"
    ticket = await core.store.get_ticket(thread.id)
    assert ticket.claimed_by == world.staff.id and ticket.ai_paused and ticket.status == "waiting_staff"
    assert "Answered" not in _tags(simcord_env, world, thread)
    assert len(_buttons(world, thread)) == 2
    await _nothing_of_the_answer_recorded(world, simcord_env, thread, routes)


async def test_a_claim_by_another_process_stops_the_answer_at_its_record(
    simcord_env, fake_ollama: FakeOllama, monkeypatch
):  # fmt: skip
    """The claim is written to the database as another bot process sharing it would: this process hears nothing;
    with the stream shorter than the sink's watch interval (here: never looked at), the answer streams to the end
    and the answer's record sees the claim in the same write and records nothing."""
    monkeypatch.setattr(sink_module, "WATCH_EVERY", 10_000.0)
    world, thread, routes = await _ticket_with_question_in_progress(
        simcord_env, fake_ollama, Reply(SLOW, chunk_size=16, chunk_delay=0.15)
    )
    await wait_until(lambda: bool(_model_texts(world, thread)), "part of the answer is shown")
    core = world.core
    ticket = await core.tickets.get(thread.id)
    assert ticket.status == "waiting_staff", "the claim lands while the answer streams, before its record"
    await core.desk.claims.claim(ticket, staff_id=world.staff.id, staff_name="sam_staff", now=simcord_env.now())
    await _answer_over(simcord_env, world, thread)

    [shown] = _model_texts(world, thread)
    assert shown.startswith(SHOWN), "the answer streamed to its end (no word of the claim reached it)"
    assert shown.endswith("Stopped: a member of staff took over this ticket."), shown[-80:]
    ticket = await core.store.get_ticket(thread.id)
    assert ticket.claimed_by == world.staff.id and ticket.ai_paused and ticket.status == "waiting_staff"
    assert "Answered" not in _tags(simcord_env, world, thread)
    assert len(_buttons(world, thread)) == 2, "no buttons on an answer that was not recorded"
    await _nothing_of_the_answer_recorded(world, simcord_env, thread, routes)
    wait = await core.care.wait(thread.id)
    assert wait is None or wait.on.value != "opener", "no 'the opener's turn' from an answer that did not count"


async def test_a_claim_between_the_record_and_the_answer_keeps_the_model_unasked(
    simcord_env, fake_ollama: FakeOllama, monkeypatch
):  # fmt: skip
    """The answer's context is read with the message's record; a claim that lands after that record, before the
    answer starts (here: while the message is assessed for urgency), makes the answer read the ticket again."""
    world, thread = await _opened(simcord_env, fake_ollama)
    await _answer_over(simcord_env, world, thread)
    lifecycle, core = world.lifecycle, world.core
    dthread = simcord_env.bot.get_channel(thread.id)
    assessed = lifecycle.staff.message_assessed

    async def claimed_meanwhile(thread_, ticket, content):
        await assessed(thread_, ticket, content)
        if content == QUESTION:
            config = await core.tickets.config(world.guild.id)
            await lifecycle.staff.claim(dthread, ticket, config, await dthread.guild.fetch_member(world.staff.id))

    monkeypatch.setattr(lifecycle.staff, "message_assessed", claimed_meanwhile)
    fake_ollama.script(Reply(SLOW))
    calls, shown = len(fake_ollama.chat_requests()), len(world.bot_messages(thread))

    await world.alice.send(thread, QUESTION)
    await _answer_over(simcord_env, world, thread)

    assert len(fake_ollama.chat_requests()) == calls, "the model is not asked in a ticket staff claimed"
    assert len(world.bot_messages(thread)) == shown, "no answer, no notice: nothing from the assistant"
    ticket = await core.store.get_ticket(thread.id)
    assert ticket.claimed_by == world.staff.id and ticket.ai_paused
