"""The answer checks in the real bot (ANSWER_CHECKS on, the default): what reaches the ticket when the
model is unsure, echoes its prompt, invents a link or thinks aloud; chit-chat; messages with several
questions or a question deep in a long text. The fake Ollama plays the model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ai.delivery import REMOVED_PART
from tests.fakes.ollama import FakeOllama, Reply
from tests.grounded import PASSWORD_A, REFUND_A, UNSURE, train_faq
from tests.sim import make_world
from tickets.analytics import Period

pytestmark = pytest.mark.bot_env(ANSWER_CHECKS="true")

HANDOFF = "A member of staff has been notified"


async def _faq(world) -> None:
    """Two topics: a message about one is a close match with a rival, as in a real FAQ (with one entry
    only, any message leads by its whole score and is answered directly)."""
    await train_faq(world)


def _tags(env, thread) -> set[str]:
    return {t.name for t in env.bot.get_channel(thread.id).applied_tags}


def _pings(world) -> list:
    return [m for m in world.log_channel.history() if "needs a human" in m.content]


async def _routes(world, env) -> dict[str, int]:
    return await world.core.store.routes_since(world.guild.id, env.now().replace(year=2000))


def _everything_shown(env, thread_id: int) -> list[str]:
    """Every text the bot posted or edited into the thread, in order (what users could have seen)."""
    shown = []
    for r in env.http_requests:
        ours = r.path.startswith(f"/channels/{thread_id}/messages") and r.method in ("POST", "PATCH")
        if ours and isinstance(r.json, dict) and r.json.get("content"):
            shown.append(r.json["content"])
    return shown


# -- unsure -> staff -------------------------------------------------------------------------------


async def test_an_unsure_model_hands_the_ticket_to_staff_with_one_ping_and_no_answered_tag(
    simcord_env, fake_ollama: FakeOllama
):
    world = await make_world(simcord_env)
    await _faq(world)
    fake_ollama.script(Reply("UNSURE"), Reply("UNSURE"))

    await world.open_ticket(world.alice, "Skin purchase", "how do i get a refund for a skin i bought?")
    [thread] = world.forum.threads
    [reply] = world.bot_messages(thread)[1:]
    assert HANDOFF in reply.content and "UNSURE" not in reply.content
    assert [c for row in reply.components for c in row.children] == [], "no Solved / Talk to staff on a non-answer"
    tags = _tags(simcord_env, thread)
    assert "Waiting for staff" in tags and "Answered" not in tags
    assert len(_pings(world)) == 1 and world.staff_role.mention in _pings(world)[0].content
    assert await _routes(world, simcord_env) == {"staff": 1}, "recorded as a hand-off: a coverage gap"
    [gap] = await world.core.analytics.coverage_gaps(world.guild.id, _all_time())
    assert gap.routes == {"staff": 1} and "refund" in gap.question

    await world.alice.send(thread, "hello?? how do i get a refund for that skin, what do I do")
    assert len(world.bot_messages(thread)[1:]) == 2, "every message still gets a reply"
    assert len(_pings(world)) == 1, "one ping per hand-off, not per message"
    assert await _routes(world, simcord_env) == {"staff": 2}
    assert "Answered" not in _tags(simcord_env, thread)
    assert len(fake_ollama.chat_requests()) == 2


async def test_an_unsure_model_in_a_private_ticket_shows_waiting_for_staff_on_the_card(
    simcord_env, fake_ollama: FakeOllama
):
    world = await make_world(simcord_env, private=True)
    await _faq(world)
    fake_ollama.script(Reply("I'm not sure about that, sorry."))
    await world.open_ticket(world.alice, "Skin purchase", "how do i get a refund for a skin i bought?")
    [thread] = world.private_channel.threads
    starter = next(m for m in thread.history() if m.author.id == simcord_env.bot.user.id and m.embeds)
    status = {f.name: f.value for f in starter.embeds[0].fields}["Status"]
    assert status.endswith("Waiting for staff"), status
    assert HANDOFF in world.bot_messages(thread)[-1].content
    assert len(_pings(world)) == 1


async def test_no_note_about_the_message_goes_to_staff_without_asking_the_model(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await _faq(world)
    await world.open_ticket(world.alice, "Weather", "what is the weather like on mars today")
    [thread] = world.forum.threads
    assert HANDOFF in world.bot_messages(thread)[-1].content
    assert fake_ollama.chat_requests() == []
    assert "Waiting for staff" in _tags(simcord_env, thread) and len(_pings(world)) == 1


# -- guards while streaming ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail",
    [
        "\n\nReference notes (the best match first):\nNote 1 (best match)\nQuestion: How do I get a refund?",
        " If that fails, e-mail refunds@totally-real-support.com or visit https://help.example-refunds.com/form.",
    ],
    ids=["echo of the notes", "invented link"],
)
async def test_a_guard_that_trips_mid_stream_replaces_what_was_shown(simcord_env, fake_ollama, tail):
    world = await make_world(simcord_env)
    await _faq(world)
    # The note's answer first (shown while streaming), then the echo or the invented link.
    fake_ollama.script(Reply(f"ANSWER: {REFUND_A}{tail}", chunk_size=12, chunk_delay=0.02))
    await world.open_ticket(world.alice, "Skin purchase", "how do i get a refund for a skin i bought?")
    [thread] = world.forum.threads

    shown = _everything_shown(simcord_env, thread.id)
    assert any("Purchase History" in text for text in shown), "part of the answer was shown while it streamed"
    final = [m.content for m in world.bot_messages(thread)[1:]]
    assert HANDOFF in final[0] and all(part in (final[0], REMOVED_PART) for part in final)
    assert not any("Purchase History" in text for text in final), "what was shown is replaced"
    assert not any("Reference notes" in t or "totally-real" in t or "example-refunds" in t for t in shown)
    tags = _tags(simcord_env, thread)
    assert "Waiting for staff" in tags and "Answered" not in tags
    assert len(_pings(world)) == 1
    assert await _routes(world, simcord_env) == {"staff": 1}


async def test_an_address_the_user_asks_about_is_never_vouched_for_by_the_bot(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await _faq(world)
    # A scam check: the model repeats the user's link inside an otherwise grounded answer.
    fake_ollama.script(
        Reply(f"ANSWER: {REFUND_A} You can also use starfa11-refunds.com, it is fine.", chunk_size=12, chunk_delay=0.02)
    )
    await world.open_ticket(
        world.alice, "Refund site", "a guy in dms says i get my refund faster at starfa11-refunds.com, legit?"
    )
    [thread] = world.forum.threads

    assert not any("starfa11-refunds.com" in t for t in _everything_shown(simcord_env, thread.id)[1:])
    assert HANDOFF in world.bot_messages(thread)[-1].content
    tags = _tags(simcord_env, thread)
    assert "Waiting for staff" in tags and "Answered" not in tags
    assert len(_pings(world)) == 1
    assert await _routes(world, simcord_env) == {"staff": 1}


async def test_thinking_is_never_shown(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await _faq(world)
    fake_ollama.script(
        # Sent think:false, so a model that supports it skips the thinking...
        Reply(f"ANSWER: {REFUND_A}", thinking="The user wants money back. Note 1 fits."),
        # ...and one that ignores it thinks inline anyway: stripped.
        Reply(f"<think>They ask again. Note 1 still fits.</think>\nANSWER: {REFUND_A}"),
    )
    await world.open_ticket(world.alice, "Skin purchase", "how do i get a refund for a skin i bought?")
    await world.open_ticket(world.bob, "Skin purchase", "how do i get a refund for a skin i bought?")
    assert len(fake_ollama.chat_requests()) == 2
    assert all(r["think"] is False for r in fake_ollama.chat_requests())
    for thread in world.forum.threads:
        assert [a.content for a in world.bot_messages(thread)[1:]] == [REFUND_A]
        assert not any("think" in t or "Note 1" in t for t in _everything_shown(simcord_env, thread.id))
        assert "Answered" in _tags(simcord_env, thread)
    assert await _routes(world, simcord_env) == {"llm": 2}


# -- chit-chat ---------------------------------------------------------------------------------------


async def test_chit_chat_gets_a_canned_reply_without_the_model(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await _faq(world)
    await world.open_ticket(world.alice, "Refund", "How do I get a refund?")
    [thread] = world.forum.threads
    before = await _routes(world, simcord_env)
    asked = len(fake_ollama.chat_requests())  # the opening question's (constrained urgency checks aside)
    await world.alice.send(thread, "thanks!!")
    reply = world.bot_messages(thread)[-1]
    assert "welcome" in reply.content.lower()
    assert len(fake_ollama.chat_requests()) == asked, "chit-chat reached the model"
    assert [c for row in reply.components for c in row.children] == []
    assert await _routes(world, simcord_env) == before, "chit-chat is not an answer"


# -- several questions, long messages ------------------------------------------------------------------


async def test_two_questions_get_two_saved_answers(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await _faq(world)
    await world.open_ticket(world.alice, "Two things", "Account help")
    [thread] = world.forum.threads
    before = len(world.bot_messages(thread))
    await world.alice.send(thread, "How do I get a refund? Also, how do I reset my password?")
    answers = world.bot_messages(thread)[before:]
    text = "\n".join(a.content for a in answers)
    assert REFUND_A in text and PASSWORD_A in text
    assert text.index(REFUND_A) < text.index(PASSWORD_A), "in the order they were asked"
    assert "> How do I get a refund?" in text, "each saved answer says which question it answers"
    assert fake_ollama.chat_requests() == []


@pytest.mark.parametrize("model_up", [True, False])
async def test_the_same_question_twice_is_answered_once_without_a_handoff(
    simcord_env, fake_ollama: FakeOllama, model_up
):
    world = await make_world(simcord_env)
    await _faq(world)
    fake_ollama.default_reply = UNSURE  # asked about "the rest", the model would hand the ticket to staff
    await world.open_ticket(world.alice, "Refunds", "Account help")
    [thread] = world.forum.threads
    if not model_up:
        fake_ollama.models = ["all-minilm:latest"]  # no chat model; the embeddings still work
    before = len(world.bot_messages(thread))
    await world.alice.send(thread, "How do I get a refund for item 0? How do I get a refund for item 1?")
    text = "\n".join(a.content for a in world.bot_messages(thread)[before:])
    assert text.count(REFUND_A) == 1, "one saved answer covers both questions"
    assert HANDOFF not in text and "couldn't find" not in text
    assert _pings(world) == [] and "Waiting for staff" not in _tags(simcord_env, thread)
    assert fake_ollama.chat_requests() == []
    # A question the saved answer does not cover still goes on (here: to staff, the model being unsure).
    await world.alice.send(thread, "How do I get a refund for item 2? And how do I play on a smart fridge at sea?")
    assert HANDOFF in world.bot_messages(thread)[-1].content and len(_pings(world)) == 1


async def test_a_question_past_the_first_thousand_characters_is_found(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await _faq(world)
    await world.open_ticket(world.alice, "Long story", "Let me tell you what happened.")
    [thread] = world.forum.threads
    story = "Yesterday evening my cousin and I played the harbour map until midnight with friends. "
    message = ((story * 20)[:1345] + ". How do I get a refund? " + story * 20)[:1990]
    assert message.index("How do I get a refund?") == 1347
    await world.alice.send(thread, message)
    assert REFUND_A in world.bot_messages(thread)[-1].content
    assert fake_ollama.chat_requests() == []


def _all_time() -> Period:
    return Period(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
