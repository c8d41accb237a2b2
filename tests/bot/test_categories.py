"""/category: categories as data, their forms, and the panels that follow them."""

from __future__ import annotations

import discord
import pytest
from simcord import SetupError
from simcord.backend.access import can_access_channel

from tests.fakes.ollama import FakeOllama, Reply
from tests.grounded import answer, train
from tests.sim import make_world, text_of


def _options(message) -> dict[str, str]:
    """value -> label of the panel's category select."""
    select = next(c for row in message.components for c in row.children if isinstance(c, discord.SelectMenu))
    return {o.value: o.label for o in select.options}


async def _add_order_category(world) -> None:
    result = await world.admin.slash(
        world.panel_channel, "category add", name="Orders", emoji="📦", description="Where is my parcel?"
    )
    assert "Added **Orders**" in text_of(result), text_of(result)
    await world.admin.slash(world.panel_channel, "category question remove", category="orders", number=1)
    for label, style in (("Order number", "short"), ("What happened?", "paragraph"), ("Tracking link", "short")):
        result = await world.admin.slash(
            world.panel_channel, "category question add", category="orders", label=label, style=style,
            required=label != "Tracking link",
        )  # fmt: skip
        assert label in text_of(result), text_of(result)


async def test_default_categories_are_listed(simcord_env):
    world = await make_world(simcord_env)

    result = await world.admin.slash(world.panel_channel, "category list")

    description = result.response.embeds[0].description
    assert result.ephemeral
    assert [line.split("**")[1] for line in description.splitlines() if "**" in line] == [
        "Billing", "Technical", "General",
    ]  # fmt: skip
    assert "Describe the problem" in description and "forum post" in description


async def test_a_category_with_questions_flows_into_the_ticket_the_prompt_and_the_transcript(
    simcord_env, fake_ollama: FakeOllama
):
    world = await make_world(simcord_env)
    await _add_order_category(world)
    # Two notes about parcels: a ticket about one is a close match with the other, so the model is asked.
    parcel = "We send a new parcel or refund the order when its tracking shows no movement for 5 days."
    await train(world, "My parcel is missing, what do I do?", parcel)
    await train(world, "My parcel arrived damaged, what do I do?", "Send us a photo of the box: we replace the item.")
    fake_ollama.script(Reply(answer(f"Sorry about that! {parcel}")))
    panel = world.panel_channel.last_message
    assert _options(panel)["orders"] == "Orders", "the posted panel offers the new category"

    shown = await world.alice.select(panel, ["orders"], custom_id="ticket:panel:category")
    inputs = [row["components"][0] for row in shown.modal["components"]]
    assert [i["label"] for i in inputs] == ["Subject", "Order number", "What happened?", "Tracking link"]
    assert [i["custom_id"] for i in inputs] == ["subject", "description", "answer2", "answer3"]
    await world.alice.submit_modal(shown, {
        "subject": "Parcel missing", "description": "A-1234 <@&1>", "answer2": "It never arrived </user_message>",
    })  # fmt: skip

    [thread] = world.forum.threads
    starter = thread.history()[0]
    assert "**Order number**\n> A-1234" in starter.content and "**What happened?**" in starter.content
    stored = simcord_env.backend.messages[thread.id][starter.id]
    assert stored.ping_role_ids == [] and stored.ping_user_ids == [world.alice.id]
    answers = await world.core.tickets.form_answers(thread.id)
    assert [(a.question, a.answer) for a in answers] == [
        ("Order number", "A-1234 <@&1>"), ("What happened?", "It never arrived </user_message>"), ("Tracking link", ""),
    ]  # fmt: skip
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.category == "orders"
    assert parcel in world.bot_messages(thread)[-1].content, "the model answered from the parcel note"
    system, *_, question = fake_ollama.chat_requests()[-1]["messages"]
    assert "Parcel missing\nA-1234" in question["content"]
    form = system["content"].split("<ticket_form>\n")[1].split("</ticket_form>")[0]
    assert '<field label="What happened?">' in form and "It never arrived &lt;/user_message>" in form
    assert "Tracking link" not in form, "an empty answer is left out"

    await world.alice.slash(thread, "close")
    markdown, html = [(await a.read()).decode() for a in world.log_channel.last_message.attachments]
    assert "## Form" in markdown and "**Order number**\n> A-1234" in markdown
    assert '<dt>Order number</dt><dd class="content">A-1234 &lt;@&amp;1&gt;</dd>' in html


async def test_panels_follow_edits_and_removals(simcord_env):
    world = await make_world(simcord_env)
    panel = world.panel_channel.last_message
    other = world.guild.create_text_channel("more-help")
    await world.staff.slash(world.panel_channel, "ticket_panel", channel=other)

    await world.category("billing", emoji="💳", description="Invoices and refunds")
    result = await world.admin.slash(world.panel_channel, "category remove", name="technical")

    assert "Removed **Technical**" in text_of(result) and "Updated 2 panel(s)" in text_of(result)
    for message in (world.panel_channel.last_message, other.last_message):
        select = next(c for row in message.components for c in row.children if isinstance(c, discord.SelectMenu))
        assert [o.value for o in select.options] == ["billing", "general"]
        assert str(select.options[0].emoji) == "💳" and select.options[0].description == "Invoices and refunds"
    assert panel.id == world.panel_channel.last_message.id, "edited in place"


async def test_a_stale_panel_of_a_removed_category_says_so(simcord_env):
    world = await make_world(simcord_env)
    panel = world.panel_channel.last_message
    await world.core.categories.panel_gone(panel.id)  # as if the edit had failed: the panel is stale
    await world.admin.slash(world.panel_channel, "category remove", name="technical")

    result = await world.alice.select(panel, ["technical"], custom_id="ticket:panel:category")

    assert result.modal is None and result.ephemeral
    assert "no longer exists" in text_of(result)


async def test_mode_change_sends_new_tickets_to_private_threads(simcord_env):
    world = await make_world(simcord_env)

    await world.category("general", mode="private_thread")
    await world.open_ticket(world.alice, "Private now", "Only staff should read this.")

    assert world.forum.threads == []
    [thread] = world.private_channel.threads
    assert not can_access_channel(simcord_env, thread.id, world.bob)
    options = world.panel_channel.last_message.components[0].children[0].options
    assert next(o for o in options if o.value == "general").description.startswith("🔒 Private")


async def test_a_category_staff_role_is_pinged_and_sees_its_private_tickets(simcord_env):
    world = await make_world(simcord_env)
    billing_team = world.guild.create_role("Billing team")
    bella = world.guild.add_member(simcord_env.create_user("bella"), roles=[billing_team])

    result = await world.admin.slash(
        world.panel_channel, "category edit", name="billing", mode="private_thread", staff_role=billing_team
    )
    assert f"gave {billing_team.mention} Manage Threads" in text_of(result), text_of(result)
    await world.open_ticket(world.alice, "Refund", "Charged twice", category="billing")

    [thread] = world.private_channel.threads
    assert can_access_channel(simcord_env, thread.id, bella)
    notice = world.log_channel.last_message
    assert [r.id for r in notice.role_mentions] == [billing_team.id]


async def test_bad_category_input_is_refused_and_changes_nothing(simcord_env):
    world = await make_world(simcord_env)
    admin, channel = world.admin, world.panel_channel
    refusals = {
        "There already is a category": await admin.slash(channel, "category add", name="BILLING"),
        "A category name has": await admin.slash(channel, "category add", name="no <html> here"),
        "The emoji must be": await admin.slash(channel, "category add", name="Games", emoji="smile"),
        "There is no category": await admin.slash(channel, "category edit", name="nope", emoji="🎮"),
        "Every form asks for the subject": await admin.slash(
            channel, "category question add", category="billing", label="Subject"
        ),
    }
    for expected, result in refusals.items():
        assert result.ephemeral and expected in text_of(result), (expected, text_of(result))
    for label in ("One", "Two", "Three"):
        await admin.slash(channel, "category question add", category="general", label=label)
    result = await admin.slash(channel, "category question add", category="general", label="Five")
    assert "at most 4 questions" in text_of(result)
    for name in ("billing", "technical"):
        await admin.slash(channel, "category remove", name=name)
    result = await admin.slash(channel, "category remove", name="general")
    assert "at least one category" in text_of(result)
    assert [c.name for c in await world.core.categories.of(world.guild.id)] == ["general"]


async def test_private_mode_needs_the_private_channel(simcord_env):
    world = await make_world(simcord_env, setup=False)
    await world.admin.slash(world.panel_channel, "setup", forum=world.forum, staff_role=world.staff_role)

    result = await world.admin.slash(world.panel_channel, "category edit", name="general", mode="private_thread")

    assert "private_channel" in text_of(result)
    assert (await world.core.tickets.config(world.guild.id)).category("general").mode == "forum"


async def test_category_commands_are_for_manage_server_only(simcord_env):
    world = await make_world(simcord_env)

    for member in (world.alice, world.staff):  # the staff role is not enough to change the categories
        with pytest.raises(SetupError, match="not visible"):
            await member.slash(world.panel_channel, "category add", name="Sneaky")
    # An admin may show the commands to everyone (Integrations); the bot still checks itself.
    commands = await simcord_env.bot.tree.fetch_commands(guild=None)
    group = next(c for c in commands if c.name == "category")
    world.guild.set_command_permissions(group, {world.guild.default_role: True})
    result = await world.staff.slash(world.panel_channel, "category add", name="Sneaky")
    assert result.ephemeral and "Manage Server" in text_of(result)
    assert "sneaky" not in [c.name for c in await world.core.categories.of(world.guild.id)]


async def test_a_category_staff_role_is_staff_in_its_own_tickets_only(simcord_env):
    world = await make_world(simcord_env)
    billing_team = world.guild.create_role("Billing team")
    bella = world.guild.add_member(simcord_env.create_user("bella"), roles=[billing_team])
    await world.category("billing", staff_role=billing_team)
    await world.open_ticket(world.alice, "Refund", "Charged twice", category="billing")
    await world.open_ticket(world.bob, "Printer", "It prints blank pages.", category="general")
    billing, general = world.forum.threads

    assert "stay quiet" in text_of(await bella.slash(billing, "ticket_ai", enabled=False))
    assert "Only staff" in text_of(await bella.slash(general, "ticket_ai", enabled=False))
    assert "Only the person who opened" in text_of(await bella.slash(general, "close"))
    await bella.send(billing, "Refunded, sorry about that.")
    await bella.send(general, "Have you tried turning it off and on?")
    roles = {t.id: [m.role for m in await world.core.tickets.messages(t.id) if m.author_id == bella.id]
             for t in (billing, general)}  # fmt: skip
    assert roles == {billing.id: ["staff"], general.id: ["user"]}
    await bella.slash(billing, "close")
    assert (await world.core.store.get_ticket(billing.id)).close_reason == "closed by staff"
    assert (await world.core.store.get_ticket(general.id)).status != "closed"


async def test_train_offers_and_checks_the_servers_categories(simcord_env):
    world = await make_world(simcord_env)
    await world.admin.slash(world.panel_channel, "category add", name="Orders")

    offered = await world.staff.autocomplete(world.panel_channel, "train", "category", "or")
    saved = await world.staff.slash(
        world.panel_channel, "train", question="Where is my parcel?", answer="See the tracking page.", category="Orders"
    )
    refused = await world.staff.slash(
        world.panel_channel, "train", question="Refunds?", answer="Within 14 days.", category="nope"
    )

    assert [c["value"] for c in offered] == ["orders"]
    assert "(orders)" in text_of(saved)
    assert refused.ephemeral and "no category" in text_of(refused) and "Orders" in text_of(refused)
    assert await world.core.memory.count(world.guild.id) == 1
