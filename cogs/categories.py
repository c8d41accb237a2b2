"""/category …: the server's ticket categories (Manage Server). Panels already posted follow every change.

A category has a name (its forum tag), an emoji and a description (its panel option), a mode (forum post
or private thread), a staff role (pinged for its tickets; the server's when unset) and up to 4 questions
besides the subject (`/category question add|remove`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from cogs._channel_setup import apply_private_channel, ensure_category_tag, private_category_plan
from cogs._discord import NO_PINGS
from cogs.checks import require_manage_server
from cogs.tickets import refresh_panels
from tickets.categories import (
    UNSET,
    checked_description,
    checked_emoji,
    checked_name,
    checked_question,
)
from tickets.errors import InvalidInput
from tickets.models import Category, GuildConfig, QuestionStyle, TicketMode

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

ADMINS_ONLY = "Only members with Manage Server can change the ticket categories."
MODES = [
    app_commands.Choice(name="Forum post (public to everyone who sees the forum)", value=TicketMode.FORUM.value),
    app_commands.Choice(name="Private thread (opener, added members, staff)", value=TicketMode.PRIVATE_THREAD.value),
]
STYLES = [app_commands.Choice(name="Paragraph", value="paragraph"), app_commands.Choice(name="One line", value="short")]
CLEARABLE = [
    app_commands.Choice(name="emoji", value="emoji"),
    app_commands.Choice(name="description", value="description"),
    app_commands.Choice(name="staff role (use the server's)", value="staff_role"),
]


def describe(category: Category, config: GuildConfig) -> str:
    role = f"<@&{category.staff_role_id}>" if category.staff_role_id else f"<@&{config.staff_role_id}> (server's)"
    mode = "private thread" if category.mode is TicketMode.PRIVATE_THREAD else "forum post"
    lines = [f"{category.emoji or '•'} **{category.label}** · {mode} · staff {role}"]
    if category.description:
        lines.append(f"-# {category.description}")
    lines += [
        f"  {i}. {q.label}{'' if q.required else ' (optional)'} · {q.style.value}, ≤ {q.max_length}"
        for i, q in enumerate(category.questions, start=1)
    ]
    return "\n".join(lines)


class CategoryGroup(
    app_commands.Group,
    name="category",
    description="The server's ticket categories",
    guild_only=True,
    default_permissions=discord.Permissions(manage_guild=True),
):
    question = app_commands.Group(name="question", description="The questions a category's form asks")

    def __init__(self, bot: TicketBot) -> None:
        super().__init__()
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        require_manage_server(interaction, ADMINS_ONLY)
        return True

    @app_commands.command(name="list")
    async def list_categories(self, interaction: discord.Interaction) -> None:
        """Show the categories, their mode, staff role and questions."""
        config = await self._config(interaction)
        text = "\n".join(describe(c, config) for c in config.categories) or "No categories."
        embed = discord.Embed(title=f"Ticket categories ({len(config.categories)})", description=text[:4096])
        embed.set_footer(text="Every form asks for a subject first, then these questions.")
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="add")
    @app_commands.describe(
        name="Its name (≤ 20 characters; also its forum tag)", emoji="An emoji for the panel",
        description="A line under it in the panel", mode="Where its tickets live (default: forum post)",
        staff_role="Who handles its tickets (default: the server's staff role)",
    )  # fmt: skip
    @app_commands.choices(mode=MODES)
    async def add(
        self, interaction: discord.Interaction, name: str, emoji: str | None = None, description: str | None = None,
        mode: app_commands.Choice[str] | None = None, staff_role: discord.Role | None = None,
    ) -> None:  # fmt: skip
        """Add a category (it asks "Describe the problem" until you change its questions)."""
        config = await self._config(interaction)
        key, label = checked_name(name)
        category = Category(
            config.guild_id, key, label, checked_emoji(emoji), checked_description(description),
            TicketMode(mode.value) if mode else TicketMode.FORUM, _role_id(staff_role),
        )  # fmt: skip
        self._check_place(interaction, config, category)
        await interaction.response.defer(ephemeral=True, thinking=True)
        saved = await self.bot.core.categories.add(category, discord.utils.utcnow())
        notes = await self._arrange(interaction, saved)
        await self._done(interaction, f"✅ Added **{saved.label}**.", notes)

    @app_commands.command(name="edit")
    @app_commands.describe(
        name="The category to change", emoji="New emoji", description="New panel line",
        mode="Where its new tickets live (open ones stay where they are)", staff_role="Who handles its tickets",
        clear="Remove its emoji, its description, or its own staff role",
    )  # fmt: skip
    @app_commands.choices(mode=MODES, clear=CLEARABLE)
    async def edit(
        self, interaction: discord.Interaction, name: str, emoji: str | None = None, description: str | None = None,
        mode: app_commands.Choice[str] | None = None, staff_role: discord.Role | None = None,
        clear: app_commands.Choice[str] | None = None,
    ) -> None:  # fmt: skip
        """Change a category's emoji, description, mode or staff role."""
        config = await self._config(interaction)
        current = await self.bot.core.categories.get(config.guild_id, name)
        changes = {
            "emoji": None if clear and clear.value == "emoji" else checked_emoji(emoji) if emoji else UNSET,
            "description": "" if clear and clear.value == "description" else
            checked_description(description) if description else UNSET,
            "mode": TicketMode(mode.value) if mode else UNSET,
            "staff_role_id": None if clear and clear.value == "staff_role" else _role_id(staff_role) or UNSET,
        }  # fmt: skip
        wanted = replace(current, **{k: v for k, v in changes.items() if v is not UNSET})  # type: ignore[arg-type]
        self._check_place(interaction, config, wanted)
        await interaction.response.defer(ephemeral=True, thinking=True)
        saved = await self.bot.core.categories.edit(
            config.guild_id,
            current.name,
            now=discord.utils.utcnow(),
            **changes,  # type: ignore[arg-type]
        )
        notes = await self._arrange(interaction, saved)
        await self._done(interaction, f"✅ Updated **{saved.label}**.", notes)

    @app_commands.command(name="remove")
    @app_commands.describe(name="The category to remove (its tickets keep it)")
    async def remove(self, interaction: discord.Interaction, name: str) -> None:
        """Remove a category from the panel; its tickets keep it."""
        config = await self._config(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        removed = await self.bot.core.categories.remove(config.guild_id, name)
        await self._done(interaction, f"🗑️ Removed **{removed.label}**; its tickets keep it.", [])

    @question.command(name="add")
    @app_commands.describe(
        category="The category whose form asks it", label="The question (≤ 45 characters)",
        placeholder="Example text shown in the empty field", required="Must it be answered? (default: yes)",
        style="One line or a paragraph (default: paragraph)",
        max_length="Longest answer (default 1500; 200 for one line)",
    )  # fmt: skip
    @app_commands.choices(style=STYLES)
    async def question_add(
        self, interaction: discord.Interaction, category: str, label: str, placeholder: str | None = None,
        required: bool = True, style: app_commands.Choice[str] | None = None,
        max_length: app_commands.Range[int, 1, 1500] | None = None,
    ) -> None:  # fmt: skip
        """Add a question to a category's form (at most 4 besides the subject)."""
        config = await self._config(interaction)
        question = checked_question(
            label, placeholder=placeholder, required=required,
            style=QuestionStyle(style.value) if style else QuestionStyle.PARAGRAPH, max_length=max_length,
        )  # fmt: skip
        saved = await self.bot.core.categories.add_question(config.guild_id, category, question, discord.utils.utcnow())
        await self._reply(interaction, f"✅ **{saved.label}** now asks:\n{describe(saved, config)}")

    @question.command(name="remove")
    @app_commands.describe(category="The category", number="Which question (as /category list numbers them)")
    async def question_remove(
        self, interaction: discord.Interaction, category: str, number: app_commands.Range[int, 1, 5]
    ) -> None:
        """Remove a question from a category's form."""
        config = await self._config(interaction)
        saved = await self.bot.core.categories.remove_question(
            config.guild_id, category, number, discord.utils.utcnow()
        )
        await self._reply(interaction, f"✅ **{saved.label}** now asks:\n{describe(saved, config)}")

    @edit.autocomplete("name")
    @remove.autocomplete("name")
    @question_add.autocomplete("category")
    @question_remove.autocomplete("category")
    async def _names(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        categories = await self.bot.core.categories.of(interaction.guild_id or 0)
        return [app_commands.Choice(name=c.label, value=c.name) for c in categories if typed.lower() in c.name][:25]

    # -- helpers -----------------------------------------------------------------------------

    async def _config(self, interaction: discord.Interaction) -> GuildConfig:
        config = await self.bot.core.tickets.config(interaction.guild_id or 0)
        if config is None:
            raise InvalidInput("Run /setup first to choose the ticket forum and staff role.")
        return config

    def _check_place(self, interaction: discord.Interaction, config: GuildConfig, category: Category) -> None:
        """A private category's staff must be able to see its tickets: refuse what the bot cannot arrange."""
        plan = private_category_plan(interaction.guild, config, category) if interaction.guild else None
        if plan is not None and plan.problems:
            raise InvalidInput("Private tickets of this category would not work yet:\n- " + "\n- ".join(plan.problems))

    async def _arrange(self, interaction: discord.Interaction, category: Category) -> list[str]:
        """Make Discord ready for the category: its forum tag, or its staff role's view of private tickets."""
        config, guild = await self._config(interaction), interaction.guild
        assert guild is not None
        if category.mode is TicketMode.PRIVATE_THREAD:
            plan = private_category_plan(guild, config, category)
            if plan is None:
                return []
            await apply_private_channel(plan, guild.me)
            return [f"I {line}." for line in plan.done()]
        forum = guild.get_channel(config.forum_id)
        if not isinstance(forum, discord.ForumChannel) or config.category_tag(category.name) is not None:
            return []
        tag_id = await ensure_category_tag(forum, category.label)
        if tag_id is None:
            return ["It has no forum tag (the forum has 20 tags, or I lack Manage Channels there)."]
        tag_ids = {**config.tag_ids, f"category:{category.name}": tag_id}
        await self.bot.core.tickets.save_config(replace(config, tag_ids=tag_ids), discord.utils.utcnow())
        return []

    async def _done(self, interaction: discord.Interaction, text: str, notes: list[str]) -> None:
        config = await self._config(interaction)
        updated = await refresh_panels(self.bot, config)
        panels = f"\nUpdated {updated} panel(s)." if updated else ""
        await self._reply(interaction, text + "".join(f"\n{n}" for n in notes) + panels)

    async def _reply(self, interaction: discord.Interaction, text: str) -> None:
        if interaction.response.is_done():
            await interaction.followup.send(text[:2000], ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(text[:2000], ephemeral=True, allowed_mentions=NO_PINGS)


def _role_id(role: discord.Role | None) -> int | None:
    if role is None:
        return None
    if role.is_default() or role.managed:
        raise InvalidInput(f"{role.mention} can't be a staff role: pick a role that only your support team has.")
    return role.id


async def setup(bot: TicketBot) -> None:
    bot.tree.add_command(CategoryGroup(bot))
