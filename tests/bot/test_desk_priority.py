"""/priority, /rename and urgency detection in both ticket modes: forum posts show priority as a tag (in the
title when the forum has no room for the tags), private tickets on their card and in the title; renames stay
within Discord's limit (virtual clock); urgent or angry tickets are raised by the model, or by the rules when
it is down, and never over staff's choice."""

from __future__ import annotations

import pytest

from tests.bot.desk import BOTH_MODES, card, open_ticket, readable, renames, tags, title
from tests.fakes.ollama import FakeOllama
from tests.grounded import REFUND_A, REFUND_ASK, train_faq
from tests.sim import make_world, text_of


@BOTH_MODES
async def test_priority_shows_as_a_tag_or_on_the_card_and_in_the_title(simcord_env, private: bool, fake_ollama):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    thread = await open_ticket(world, text=REFUND_ASK)  # the assistant answers it

    result = await world.staff.slash(thread, "priority", level="high")

    assert result.ephemeral and "Priority set to **High**" in text_of(result)
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.priority == "high" and ticket.priority_source == "staff"
    if private:
        assert card(simcord_env, thread)["Priority"] == "🟠 High"
        assert title(simcord_env, thread) == "[High] Printer"
    else:
        assert {"High priority", "Answered", "General"} == tags(simcord_env, world, thread)
        assert title(simcord_env, thread) == "Printer", "the tag shows it: no rename"

    await world.staff.slash(thread, "priority", level="normal")

    if private:
        assert "Priority" not in card(simcord_env, thread)
        assert title(simcord_env, thread) == "Printer"
    else:
        assert not {"High priority", "Urgent", "Low priority"} & tags(simcord_env, world, thread)
    assert renames(simcord_env, thread) == (["[High] Printer", "Printer"] if private else [])
    changes = await world.core.desk.priorities.history(thread.id)
    assert [(c.previous, c.priority, c.source, c.by_id) for c in changes] == [
        ("normal", "high", "staff", world.staff.id), ("high", "normal", "staff", world.staff.id),
    ]  # fmt: skip
    refused = await world.alice.slash(thread, "priority", level="urgent")
    assert "Only staff" in text_of(refused)
    assert (await world.core.store.get_ticket(thread.id)).priority == "normal"


async def test_a_forum_without_room_for_the_tags_shows_priority_in_the_title(simcord_env):
    world = await make_world(simcord_env, setup=False)
    forum = simcord_env.bot.get_channel(world.forum.id)
    for n in range(12):
        await forum.create_tag(name=f"Game {n}")
    result = await world.admin.slash(world.panel_channel, "setup", forum=world.forum, staff_role=world.staff_role)
    assert "No room in the forum for the tags" in text_of(result) and "Urgent" in text_of(result)
    await world.staff.slash(world.panel_channel, "ticket_panel")
    thread = await open_ticket(world)

    await world.staff.slash(thread, "priority", level="urgent")

    assert title(simcord_env, thread) == "[Urgent] Printer"
    assert len(simcord_env.bot.get_channel(world.forum.id).available_tags) == 20


@BOTH_MODES
async def test_renames_wait_for_discords_limit_and_the_newest_title_wins(simcord_env, private: bool):
    world = await make_world(simcord_env, private=private)
    thread = await open_ticket(world)

    for new in ("Printer on fire", "Printer fixed?"):
        result = await world.staff.slash(thread, "rename", title=new)
        assert "Done" in text_of(result) and title(simcord_env, thread) == new
    waiting = await world.staff.slash(thread, "rename", title="Third title")
    await world.staff.slash(thread, "rename", title="Fourth title")

    said = world.bot_messages(thread)[-2].content
    assert "“Third title”" in said and "about 2 renames per 10 minutes" in said and "10 minutes" in said
    assert "Done" in text_of(waiting)
    assert title(simcord_env, thread) == "Printer fixed?"
    assert (await world.core.store.get_ticket(thread.id)).subject == "Fourth title", "recorded at once"
    if private:
        starter = next(m for m in thread.history() if m.embeds)
        assert starter.embeds[0].title == "Fourth title", "the card shows it at once"
    await simcord_env.advance_time(300)
    assert title(simcord_env, thread) == "Printer fixed?"

    await simcord_env.advance_time(301)

    assert title(simcord_env, thread) == "Fourth title"
    assert renames(simcord_env, thread) == ["Printer on fire", "Printer fixed?", "Fourth title"]
    refused = await world.alice.slash(thread, "rename", title="Mine now")
    assert "Only staff" in text_of(refused)
    blank = await world.staff.slash(thread, "rename", title="\u200b\u200b\u200b")
    assert "at least 3 characters" in text_of(blank)


@BOTH_MODES
async def test_an_urgent_ticket_is_flagged_by_the_model_after_its_answer(
    simcord_env, fake_ollama: FakeOllama, private: bool
):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    fake_ollama.script_structured('{"label": "urgent"}')

    thread = await open_ticket(
        world, subject="Shop is down", text=f"Customers can't pay since this morning. {REFUND_ASK}"
    )

    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.priority == "urgent" and ticket.priority_source == "auto" and ticket.flag == "urgent"
    paths = [
        (r["path"], bool((r["json"] or {}).get("format"))) for r in fake_ollama.requests if r["path"] == "/api/chat"
    ]
    assert paths == [("/api/chat", False), ("/api/chat", True)], "the answer first, then the classification"
    [classification] = fake_ollama.structured_requests()
    assert "Customers can't pay" in classification["messages"][-1]["content"]
    assert world.bot_messages(thread)[-1].content == REFUND_A
    notice = world.log_channel.last_message
    assert "looks **urgent** (the model)" in notice.content and world.staff_role.mention in notice.content
    if private:
        assert card(simcord_env, thread)["Priority"] == "🔴 Urgent"
        assert title(simcord_env, thread) == "[Urgent] Shop is down"
    else:
        assert "Urgent" in tags(simcord_env, world, thread)
    [change] = await world.core.desk.priorities.history(thread.id)
    assert change.source == "auto" and change.by_id is None and change.reason == "model: the model"


@BOTH_MODES
@pytest.mark.bot_env(LLM_URL="http://127.0.0.1:9")
async def test_the_rules_flag_an_angry_ticket_while_the_model_is_down_and_staff_have_the_last_word(
    simcord_env, private: bool
):
    world = await make_world(simcord_env, private=private)

    thread = await open_ticket(world, subject="Refund", text="This is unacceptable, I was charged twice")

    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.flag == "angry" and ticket.priority == "high" and ticket.priority_source == "auto"
    assert "looks **angry** (keywords “unacceptable”)" in world.log_channel.last_message.content
    assert "angry" not in readable(thread, world.alice).lower(), "the flag is for staff, not the opener"

    await world.staff.slash(thread, "priority", level="low")
    await world.alice.send(thread, "I need this fixed ASAP, it is urgent!!!")

    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.flag == "urgent", "the later message is assessed by the rules"
    assert ticket.priority == "low" and ticket.priority_source == "staff", "staff's choice is never undone"
    assert [c.source for c in await world.core.desk.priorities.history(thread.id)] == ["auto", "staff"]


async def test_urgency_detection_off_flags_nothing(simcord_env, fake_ollama: FakeOllama):
    world = await make_world(simcord_env)
    await world.admin.slash(world.panel_channel, "settings set", key="urgency_detection", value="off")

    thread = await open_ticket(world, subject="URGENT", text="asap please, production is down!!!")
    await world.alice.send(thread, "THIS IS UNACCEPTABLE!!!")

    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.flag is None and ticket.priority == "normal"
    assert fake_ollama.structured_requests() == []
