"""The opener's 1–5 rating with an optional comment: in the ticket when they mark it solved, by DM when it
closes unrated (DMs closed: recorded, the close goes on), once per ticket, by its opener only; shown in the
log channel's closing summary; buttons that work after a restart. Both ticket modes."""

from __future__ import annotations

import pytest

from tests.grounded import train_faq
from tests.sim import make_world, text_of


def _rating_prompt(world, channel):
    mine = [m for m in channel.history() if m.author.id == world.bot.user.id]
    return next(m for m in reversed(mine) if "How did we do" in m.content)


def _summary_fields(world) -> dict[str, str]:
    logged = reversed(world.log_channel.history())
    summary = next(m for m in logged if m.embeds and "Ticket closed" in m.embeds[0].title)
    return {f.name: f.value for f in summary.embeds[0].fields}


async def _rating(world, ticket_id):
    return await world.core.ratings.get(ticket_id)


@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_solved_asks_in_the_ticket_and_the_stars_and_comment_are_stored(simcord_env, private, fake_ollama):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, "Password reset", "How do I reset my password?")
    [thread] = world.threads

    await world.alice.click(world.bot_messages(thread)[-1], label="Solved")

    prompt = _rating_prompt(world, thread)
    assert [c.label for row in prompt.components for c in row.children] == [f"{n} ★" for n in range(1, 6)]
    shown = await world.alice.click(prompt, label="4 ★")
    assert shown.modal is not None, "the comment form follows the stars"
    rating = await _rating(world, thread.id)
    assert rating.stars == 4 and rating.rated_at == simcord_env.now().isoformat(timespec="seconds")
    assert rating.comment is None, "the stars are kept even if the form is dismissed"

    done = await world.alice.submit_modal(shown, {"comment": "Quick and friendly"})
    assert "4/5" in text_of(done)
    rating = await _rating(world, thread.id)
    assert rating.comment == "Quick and friendly" and rating.commented_at is not None
    thanks = next(m for m in thread.history() if m.id == prompt.id)
    assert "Thank you" in thanks.content and not thanks.components, "the prompt became the thanks"
    assert await world.core.ratings.prompts(thread.id) == [("ticket", True, None)]

    await world.staff.slash(thread, "close")
    fields = _summary_fields(world)
    assert fields["Rating"] == "★★★★☆ 4/5" and fields["Comment"] == "Quick and friendly"
    assert await world.core.ratings.prompts(thread.id) == [("ticket", True, None)], "rated: no DM at close"
    assert world.alice.user.dm_channel.last_message is None


@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_an_unrated_ticket_asks_by_dm_when_it_closes_and_the_summary_follows(simcord_env, private):
    world = await make_world(simcord_env, private=private)
    await world.open_ticket(world.alice, "Refund", "I was charged twice")
    [thread] = world.threads

    await world.staff.slash(thread, "close", reason="refunded")

    dm = world.alice.user.dm_channel
    prompt = dm.last_message
    assert "is closed" in prompt.content and "Refund" in prompt.content
    assert "Rating" not in _summary_fields(world)
    shown = await world.alice.user.click(prompt, label="2 ★")
    await world.alice.user.submit_modal(shown, {"comment": "Took three days"})
    rating = await _rating(world, thread.id)
    assert (rating.stars, rating.comment) == (2, "Took three days")
    fields = _summary_fields(world)
    assert fields["Rating"] == "★★☆☆☆ 2/5" and fields["Comment"] == "Took three days"
    assert fields["Reason"] == "refunded", "the summary keeps what it said"
    assert "Thank you" in dm.last_message.content and not dm.last_message.components
    assert await world.core.ratings.prompts(thread.id) == [("dm", True, None)]


async def test_closed_dms_are_recorded_and_the_close_goes_on(simcord_env):
    world = await make_world(simcord_env)
    await world.open_ticket(world.alice, "Refund", "I was charged twice")
    [thread] = world.threads
    simcord_env.inject_error(
        "POST", f"/channels/{world.alice.user.dm_channel.id}/messages", status=403, code=50007,
        message="Cannot send messages to this user",
    )  # fmt: skip

    result = await world.alice.slash(thread, "close")

    assert "closed" in text_of(result).lower()
    assert (await world.core.store.get_ticket(thread.id)).status == "closed"
    assert "Ticket closed" in world.log_channel.last_message.embeds[0].title
    assert await world.core.ratings.prompts(thread.id) == [("dm", False, 50007)]
    assert not (await _rating(world, thread.id)).rated


async def test_each_ticket_is_rated_once_and_only_by_its_opener(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, "Password reset", "How do I reset my password?")
    [thread] = world.threads
    await world.alice.click(world.bot_messages(thread)[-1], label="Solved")
    prompt = _rating_prompt(world, thread)

    by_bob = await world.bob.click(prompt, label="1 ★")  # a forum post is public: anyone sees the buttons
    assert by_bob.modal is None and "Only the person who opened" in text_of(by_bob)
    by_staff = await world.staff.click(prompt, label="5 ★")
    assert by_staff.modal is None and "Only the person who opened" in text_of(by_staff)
    await world.alice.click(prompt, label="3 ★")  # form dismissed
    again = await world.alice.click(prompt, label="5 ★")
    assert again.modal is None and "already rated" in text_of(again) and "3/5" in text_of(again)
    assert (await _rating(world, thread.id)).stars == 3


async def test_dm_rating_buttons_work_after_a_restart(simcord_env, restart_bot):
    world = await make_world(simcord_env, private=True)
    await world.open_ticket(world.alice, "Refund", "I was charged twice")
    [thread] = world.threads
    await world.staff.slash(thread, "close")
    prompt = world.alice.user.dm_channel.last_message

    await restart_bot()

    shown = await world.alice.user.click(prompt, label="5 ★")
    await world.alice.user.submit_modal(shown, {"comment": ""})
    rating = await world.core.ratings.get(thread.id)
    assert rating.stars == 5 and rating.comment is None
    assert _summary_fields(world)["Rating"] == "★★★★★ 5/5"


async def test_a_server_can_turn_the_rating_prompt_off(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.admin.slash(world.panel_channel, "settings set", key="rating_prompt", value="off")
    await world.open_ticket(world.alice, "Password reset", "How do I reset my password?")
    [thread] = world.threads
    await world.alice.click(world.bot_messages(thread)[-1], label="Solved")
    await world.staff.slash(thread, "close")

    assert not any("How did we do" in m.content for m in thread.history())
    assert world.alice.user.dm_channel.last_message is None
    assert await world.core.ratings.prompts(thread.id) == []
