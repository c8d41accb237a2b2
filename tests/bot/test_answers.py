"""Answers inside a ticket: trained answer, LLM answer, fallback and hand-off, buttons, staff pause."""

from __future__ import annotations

from tests.fakes.ollama import Reply
from tests.grounded import REFUND_A, REFUND_A_SHORT, REFUND_AGAIN, REFUND_ASK, REFUND_SUBJECT, answer, train_faq
from tests.sim import make_world, text_of

PASSWORD_Q = "How do I reset my password?"
PASSWORD_A = "Open Settings → Account → Reset password, then follow the link we email you."


async def _train(world, question=PASSWORD_Q, answer=PASSWORD_A):
    result = await world.staff.slash(world.panel_channel, "train", question=question, answer=answer)
    assert "Saved as entry" in text_of(result), text_of(result)


def _tags(env, thread) -> set[str]:
    return {t.name for t in env.bot.get_channel(thread.id).applied_tags}


async def test_trained_answer_is_sent_directly(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await _train(world)
    await world.open_ticket(world.alice, "Password", "how do i reset my password")
    [thread] = world.forum.threads
    [answer] = world.bot_messages(thread)[1:]  # [0] is the starter
    assert PASSWORD_A in answer.content and "Saved answer" in answer.content
    assert fake_ollama.chat_requests() == [], "a confident trained match must not call the LLM"
    labels = [c.label for row in answer.components for c in row.children]
    assert labels == ["Solved", "Talk to staff"]
    assert "Answered" in _tags(simcord_env, thread)
    routes = await world.core.store.routes_since(world.guild.id, simcord_env.now().replace(year=2000))
    assert routes == {"answer": 1}


async def test_llm_answer_gets_conversation_and_trained_entries(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world)
    second = "Press **Request Refund** in Settings → Store → Purchase History; it works for 14 days after buying."
    fake_ollama.script(Reply(answer(REFUND_A_SHORT)), Reply(answer(second)))
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    await world.alice.send(thread, REFUND_AGAIN)
    answers = world.bot_messages(thread)[1:]
    assert answers[-1].content.startswith(second)
    prompt = fake_ollama.chat_requests()[-1]["messages"]
    assert prompt[0]["role"] == "system"
    whole = "\n".join(m["content"] for m in prompt)
    assert REFUND_ASK in whole  # earlier conversation
    assert REFUND_A_SHORT in whole  # the bot's own earlier answer
    assert REFUND_AGAIN in whole  # the question
    assert REFUND_A in whole  # trained entry as knowledge
    routes = await world.core.store.routes_since(world.guild.id, simcord_env.now().replace(year=2000))
    assert routes == {"llm": 2}


async def test_ollama_down_falls_back_to_staff_with_one_ping(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world)  # a note to ask the model with (with none, it would not be asked at all)
    fake_ollama.stop()
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    [reply] = world.bot_messages(thread)[1:]
    assert "staff" in reply.content.lower() and "unavailable" in reply.content.lower()
    assert "Waiting for staff" in _tags(simcord_env, thread)
    pings = [m for m in world.log_channel.history() if "needs a human" in m.content]
    assert len(pings) == 1 and world.staff_role.mention in pings[0].content
    await world.alice.send(thread, REFUND_AGAIN)
    pings = [m for m in world.log_channel.history() if "needs a human" in m.content]
    assert len(pings) == 1, "staff are pinged once per hand-off, not per message"
    assert len(world.bot_messages(thread)[1:]) == 2, "every message still gets a reply"


async def test_ollama_down_sends_closest_trained_answer_as_fallback(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await _train(world)
    fake_ollama.stop()
    # close to the trained question, but not close enough for a direct answer
    await world.open_ticket(world.alice, "Login trouble", "How to reset password?")
    [thread] = world.forum.threads
    [reply] = world.bot_messages(thread)[1:]
    assert PASSWORD_A in reply.content
    routes = await world.core.store.routes_since(world.guild.id, simcord_env.now().replace(year=2000))
    assert routes == {"fallback": 1}
    assert "unavailable" in reply.content


async def test_solved_button_resolves_and_teaches(simcord_env):
    world = await make_world(simcord_env)
    await _train(world)
    await world.open_ticket(world.alice, "Password", "how do I reset my password now")
    [thread] = world.forum.threads
    answer = world.bot_messages(thread)[-1]
    result = await world.alice.click(answer, label="Solved")
    assert "Glad" in text_of(result)
    assert "Resolved" in _tags(simcord_env, thread)
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "resolved"
    entry = await world.core.memory.get(world.guild.id, 1)
    assert entry.usage_count == 1
    # the user's own wording (the description, not "subject + description") is proposed as an alternate
    [suggestion] = await world.core.memory.list_suggestions(world.guild.id)
    assert suggestion.kind == "alternate" and suggestion.query == "how do I reset my password now"


async def test_buttons_refused_for_other_members(simcord_env):
    world = await make_world(simcord_env)
    await _train(world)
    await world.open_ticket(world.alice, "Password", "how do i reset my password")
    [thread] = world.forum.threads
    result = await world.bob.click(world.bot_messages(thread)[-1], label="Solved")
    assert result.ephemeral and "Only the person" in text_of(result)
    assert (await world.core.store.get_ticket(thread.id)).status != "resolved"


async def test_talk_to_staff_pings_once_and_pauses_ai(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    result = await world.alice.click(world.bot_messages(thread)[-1], label="Talk to staff")
    assert "staff" in text_of(result).lower()
    assert "Waiting for staff" in _tags(simcord_env, thread)
    pings = [m for m in world.log_channel.history() if "needs a human" in m.content]
    assert len(pings) == 1
    before = len(world.bot_messages(thread))
    calls = len(fake_ollama.chat_requests())
    await world.alice.send(thread, "Hello? Anyone there?")
    assert len(world.bot_messages(thread)) == before, "the assistant stays quiet after a hand-off"
    assert len(fake_ollama.chat_requests()) == calls


async def test_staff_reply_pauses_ai_until_reenabled(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    await world.staff.send(thread, "Hi Alice, I'll handle this personally.")
    before = len(world.bot_messages(thread))
    await world.alice.send(thread, "Thanks! The new owner is bob.")
    assert len(world.bot_messages(thread)) == before
    result = await world.staff.slash(thread, "ticket_ai", enabled=True)
    assert "answer again" in text_of(result)
    await world.alice.send(thread, REFUND_AGAIN)
    assert len(world.bot_messages(thread)) > before + 1
    assert world.bot_messages(thread)[-1].content == REFUND_A, "the assistant answers again"


async def test_user_mentions_never_ping_through_the_bot(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world)
    mentions = f"Sure @everyone, ask <@&{world.staff_role.id}> or <@{world.bob.id}>."
    fake_ollama.script(Reply(answer(f"{mentions} {REFUND_A}")))
    await world.open_ticket(world.alice, "Ping test", f"hello @everyone, {REFUND_ASK}")
    [thread] = world.forum.threads
    reply = world.bot_messages(thread)[-1]
    assert REFUND_A in reply.content, "the model's answer was shown"
    stored = simcord_env.backend.messages[thread.id][reply.id]
    assert stored.ping_user_ids == [] and stored.ping_role_ids == [] and not stored.mention_everyone
    # the starter quotes the user's "@everyone" but pings only the opener
    starter = simcord_env.backend.messages[thread.id][thread.history()[0].id]
    assert "@everyone" in starter.content
    assert starter.ping_user_ids == [world.alice.id] and not starter.mention_everyone and starter.ping_role_ids == []


async def test_a_saved_answer_with_an_unclosed_code_fence_keeps_its_note_outside(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    answer = "Restart the service:\n```bash\nsudo systemctl restart app"  # the fence is never closed
    await _train(world, "How do I restart the service?", answer)
    await world.open_ticket(world.alice, "Restart", "how do I restart the service?")
    [thread] = world.forum.threads

    [sent] = [
        r.json["content"]
        for r in simcord_env.http_requests
        if r.method == "POST" and r.path == f"/channels/{thread.id}/messages" and "Saved answer" in r.json["content"]
    ]
    body, _, note = sent.rpartition("\n")
    assert note == "-# 💾 Saved answer from the support team.", sent
    assert body.startswith(answer) and body.count("```") == 2, f"the note is inside the code block:\n{sent}"
