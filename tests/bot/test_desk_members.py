"""/add and /remove in both ticket modes: a private thread grants and takes away access; a forum post is
public, so there the member follows it (or not) and the membership is recorded."""

from __future__ import annotations

from simcord.backend.access import can_access_channel

from tests.bot.desk import BOTH_MODES, open_ticket
from tests.sim import make_world, text_of


def _member_requests(env, thread, method: str) -> list[int]:
    prefix = f"/channels/{thread.id}/thread-members/"
    return [
        int(r.path.rsplit("/", 1)[1]) for r in env.http_requests if r.method == method and r.path.startswith(prefix)
    ]


@BOTH_MODES
async def test_staff_add_and_remove_a_member(simcord_env, private: bool):
    world = await make_world(simcord_env, private=private)
    thread = await open_ticket(world)
    assert can_access_channel(simcord_env, thread.id, world.bob) is not private

    result = await world.staff.slash(thread, "add", member=world.bob)

    assert result.ephemeral and "Done" in text_of(result)
    assert world.bob.id in _member_requests(simcord_env, thread, "PUT")
    assert await world.core.desk.members.of(thread.id) == [world.bob.id]
    said = world.bot_messages(thread)[-1].content
    assert "**bob**" in said and "<@" not in said
    assert ("can now see and write" if private else "now follows") in said
    assert can_access_channel(simcord_env, thread.id, world.bob)
    await world.bob.send(thread, "I have the same problem")
    stored = await world.core.store.messages(thread.id)
    assert stored[-2].author_id == world.bob.id and stored[-2].role == "user"

    again = await world.staff.slash(thread, "add", member=world.bob)
    assert "added to this ticket already" in text_of(again)
    opener = await world.staff.slash(thread, "add", member=world.alice)
    assert "opened this ticket" in text_of(opener)

    result = await world.staff.slash(thread, "remove", member=world.bob)

    assert "Done" in text_of(result)
    assert world.bob.id in _member_requests(simcord_env, thread, "DELETE")
    assert await world.core.desk.members.of(thread.id) == []
    said = world.bot_messages(thread)[-1].content
    if private:
        assert "was removed" in said
        assert not can_access_channel(simcord_env, thread.id, world.bob)
    else:
        assert "can still read it" in said and can_access_channel(simcord_env, thread.id, world.bob)
    opener = await world.staff.slash(thread, "remove", member=world.alice)
    assert "close it instead" in text_of(opener)
    assert await world.core.store.get_ticket(thread.id) is not None


@BOTH_MODES
async def test_only_staff_add_and_remove(simcord_env, private: bool):
    world = await make_world(simcord_env, private=private)
    thread = await open_ticket(world)

    for command in ("add", "remove"):
        refused = await world.alice.slash(thread, command, member=world.bob)
        assert refused.ephemeral and "Only staff" in text_of(refused)
    assert await world.core.desk.members.of(thread.id) == []
    assert world.bob.id not in _member_requests(simcord_env, thread, "PUT")
    if private:
        assert not can_access_channel(simcord_env, thread.id, world.bob)


async def test_removing_staff_from_a_private_ticket_says_they_still_see_it(simcord_env):
    world = await make_world(simcord_env, private=True)
    thread = await open_ticket(world)
    await world.staff.slash(thread, "claim")

    await world.admin.slash(thread, "remove", member=world.staff)

    assert "As staff they can still see it" in world.bot_messages(thread)[-1].content
    assert can_access_channel(simcord_env, thread.id, world.staff), "Manage Threads on the channel"
