"""/blacklist: a blacklisted member opens no ticket by any path (panel button and select, a direct forum post,
the message menu, /reopen, staff's /ticket_open on their behalf), with a clear refusal; who may manage it."""

from __future__ import annotations

from simcord import ChannelHandle

from tests.bot.desk import BOTH_MODES, open_ticket
from tests.sim import make_world, text_of
from tickets.blacklist import REFUSAL

MENU = "Open ticket from this message"


@BOTH_MODES
async def test_a_blacklisted_member_opens_no_ticket_by_any_path(simcord_env, private: bool):
    world = await make_world(simcord_env, private=private)
    earlier = await open_ticket(world, world.alice, "Earlier", "from before the blacklist")
    await world.alice.slash(earlier, "close")
    threads = len(world.threads)

    added = await world.staff.slash(world.panel_channel, "blacklist add", member=world.alice, reason="spam links")

    assert added.ephemeral and "now on the blacklist" in text_of(added)
    panel = world.panel_channel.last_message
    button = await world.alice.click(panel, label="Open ticket")
    select = await world.alice.select(panel, ["billing"], custom_id="ticket:panel:category")
    chat = world.guild.create_text_channel("chat")
    message = await world.bob.send(chat, "The app crashes")
    menu = await world.alice.context_menu(chat, MENU, message)
    for refused in (button, select, menu):
        assert refused.modal is None and refused.ephemeral and text_of(refused) == REFUSAL
    assert "spam links" not in REFUSAL
    for_her = await world.staff.slash(world.panel_channel, "ticket_open", member=world.alice, subject="About you")
    assert "is on the blacklist" in text_of(for_her) and "/blacklist remove" in text_of(for_her)
    reopen = await world.alice.slash(world.panel_channel, "reopen", ticket=str(earlier.id))
    assert text_of(reopen) == REFUSAL
    assert len(world.threads) == threads, "no ticket was created"
    assert (await world.core.store.get_ticket(earlier.id)).status == "closed"

    listed = await world.staff.slash(world.panel_channel, "blacklist list")
    shown = listed.response.embeds[0].description
    assert world.alice.mention in shown and "spam links" in shown

    removed = await world.staff.slash(world.panel_channel, "blacklist remove", member=world.alice)
    assert "may open tickets again" in text_of(removed)
    await simcord_env.advance_time(61)  # past her cooldown since "Earlier"
    thread = await open_ticket(world, world.alice, "Back again", "hello")
    assert await world.core.store.get_ticket(thread.id) is not None


async def test_a_blacklisted_members_direct_forum_post_is_closed_with_the_reason(simcord_env):
    world = await make_world(simcord_env)
    await world.staff.slash(world.panel_channel, "blacklist add", member=world.alice)
    raw = simcord_env.backend.create_thread(world.forum.id, "Direct question", world.alice.id)
    post = ChannelHandle(simcord_env, world.guild, raw)

    await world.alice.send(post, "How do I reset my password?")

    assert await world.core.store.get_ticket(post.id) is None
    said = world.bot_messages(post)[-1].content
    assert REFUSAL in said and "This post has been closed" in said
    assert post._channel.thread_metadata.locked


async def test_who_may_manage_the_blacklist(simcord_env):
    world = await make_world(simcord_env)
    billing_team = world.guild.create_role("Billing team")
    biller = world.guild.add_member(simcord_env.create_user("bill"), roles=[billing_team])
    await world.category("billing", staff_role=billing_team)

    for member in (world.alice, biller):
        refused = await member.slash(world.panel_channel, "blacklist add", member=world.bob)
        assert refused.ephemeral and "Only staff can manage the blacklist" in text_of(refused)
    staff = await world.admin.slash(world.panel_channel, "blacklist add", member=world.staff)
    assert "is staff" in text_of(staff)
    missing = await world.staff.slash(world.panel_channel, "blacklist remove", member=world.bob)
    assert "not on the blacklist" in text_of(missing)
    assert await world.core.desk.blacklist.entries(world.guild.id) == []
    empty = await world.staff.slash(world.panel_channel, "blacklist list")
    assert "Nobody is on it" in empty.response.embeds[0].description


async def test_a_long_blacklist_lists_whole_entries_and_counts_the_rest(simcord_env):
    world = await make_world(simcord_env)
    members = [world.guild.add_member(simcord_env.create_user(f"spammer{i}")) for i in range(15)]
    for member in members:
        await world.staff.slash(world.panel_channel, "blacklist add", member=member, reason="r" * 300)
    listed = await world.staff.slash(world.panel_channel, "blacklist list")
    shown = listed.response.embeds[0].description
    lines = shown.split("\n")
    assert len(shown) <= 4096 and lines[-1].startswith("… and ") and lines[-1].endswith(" more")
    assert all(line.endswith("r" * 300) for line in lines[:-1]), "every listed entry whole"
    assert len(lines) - 1 + int(lines[-1].split()[2]) == 15, "the rest counted"
