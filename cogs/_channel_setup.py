"""What the ticket channels need from Discord, checked (and, where the bot may, arranged) by /setup and
/category: the bot's permissions, the staff roles' view of private tickets, the forum's tags.

Private tickets are private threads in one text channel. Discord shows a private thread to its members
and to whoever has Manage Threads in the channel, so every staff role that handles private tickets gets
an overwrite there (View Channel, Send Messages in Threads, Read Message History, Manage Threads): its
members see every private ticket of that channel without being added. A Discord permission cannot be
narrower than a channel, so two private categories with different staff roles still share what each
role sees. When @everyone is denied something the bot needs there, the bot gives itself an allow
overwrite (it needs Manage Roles in the channel for both; otherwise /setup names what is missing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import discord

from tickets.desk_models import DESK_TAG_NAMES
from tickets.models import Category, GuildConfig, TicketMode

log = logging.getLogger(__name__)

FORUM_PERMS = (
    "view_channel", "send_messages", "send_messages_in_threads", "manage_threads", "embed_links",
    "attach_files", "read_message_history",
)  # fmt: skip
PRIVATE_PERMS = (
    "view_channel", "create_private_threads", "send_messages_in_threads", "manage_threads", "embed_links",
    "attach_files", "read_message_history",
)  # fmt: skip
LOG_PERMS = ("view_channel", "send_messages", "embed_links", "attach_files")
STAFF_PRIVATE_PERMS = ("view_channel", "send_messages_in_threads", "read_message_history", "manage_threads")
MEMBER_PRIVATE_PERMS = ("view_channel", "send_messages_in_threads", "read_message_history")


def permission_name(name: str) -> str:
    return name.replace("_", " ").title()


def missing_permissions(
    channel: discord.abc.GuildChannel, who: discord.Member | discord.Role, names: tuple[str, ...]
) -> list[str]:
    """The permission attributes of `names` that `who` lacks in `channel`."""
    perms = channel.permissions_for(who)
    return [name for name in names if not getattr(perms, name)]


@dataclass
class PrivateChannelPlan:
    """What the private tickets' channel needs: problems that stop /setup, overwrites the bot will set,
    and warnings (members who could not see their own ticket)."""

    channel: discord.TextChannel
    problems: list[str] = field(default_factory=list)
    bot_allows: list[str] = field(default_factory=list)
    roles_to_allow: list[discord.Role] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def done(self) -> list[str]:
        """What `apply` did, for the reply."""
        lines = []
        if self.bot_allows:
            lines.append(f"gave myself {', '.join(map(permission_name, self.bot_allows))} in {self.channel.mention}")
        for role in self.roles_to_allow:
            lines.append(f"gave {role.mention} Manage Threads in {self.channel.mention} (staff see private tickets)")
        return lines


def plan_private_channel(
    channel: discord.TextChannel, me: discord.Member, staff_roles: list[discord.Role]
) -> PrivateChannelPlan:
    plan = PrivateChannelPlan(channel)
    may_overwrite = channel.permissions_for(me).manage_roles
    missing = missing_permissions(channel, me, PRIVATE_PERMS)
    if missing:
        fixable = [name for name in missing if getattr(me.guild_permissions, name)]
        if may_overwrite and fixable == missing:
            plan.bot_allows = missing
        else:
            plan.problems.append(f"{channel.mention}: {', '.join(map(permission_name, missing))}")
    for role in dict.fromkeys(staff_roles):  # once each, in order
        lacking = missing_permissions(channel, role, STAFF_PRIVATE_PERMS)
        if not lacking:
            continue
        if may_overwrite and all(getattr(me.guild_permissions, name) for name in lacking):
            plan.roles_to_allow.append(role)
        else:
            plan.problems.append(
                f"{role.mention} cannot see private tickets in {channel.mention}: give it "
                f"{', '.join(map(permission_name, lacking))} there (or give me Manage Roles there so I can)"
            )
    members_lack = missing_permissions(channel, channel.guild.default_role, MEMBER_PRIVATE_PERMS)
    if members_lack:
        plan.warnings.append(
            f"@everyone lacks {', '.join(map(permission_name, members_lack))} in {channel.mention}: members who "
            "are not allowed them by another role will not see their own private tickets."
        )
    return plan


def private_category_plan(guild: discord.Guild, config: GuildConfig, category: Category) -> PrivateChannelPlan | None:
    """What the private tickets' channel needs for a private category's staff role (None: not private,
    or no such channel; CategoryService refuses the mode then, with the reason)."""
    channel = guild.get_channel(config.private_channel_id or 0)
    if category.mode is not TicketMode.PRIVATE_THREAD or not isinstance(channel, discord.TextChannel):
        return None
    role = guild.get_role(category.staff_role_id or config.staff_role_id)
    return plan_private_channel(channel, guild.me, [role] if role else [])


async def apply_private_channel(plan: PrivateChannelPlan, me: discord.Member) -> None:
    """Set the overwrites `plan` found missing (existing overwrites keep their other permissions).
    Raises discord.HTTPException when Discord refuses."""
    channel = plan.channel
    reason = "Ticket bot: private tickets"
    if plan.bot_allows:
        overwrite = channel.overwrites_for(me)
        overwrite.update(**dict.fromkeys(plan.bot_allows, True))
        await channel.set_permissions(me, overwrite=overwrite, reason=reason)
    for role in plan.roles_to_allow:
        overwrite = channel.overwrites_for(role)
        overwrite.update(**dict.fromkeys(STAFF_PRIVATE_PERMS, True))
        await channel.set_permissions(role, overwrite=overwrite, reason=reason)
        log.info("Gave role %d Manage Threads in channel %d", role.id, channel.id)


async def ensure_category_tag(forum: discord.ForumChannel, label: str) -> int | None:
    """The id of the forum tag named `label` (created if the forum has room and the bot may); None when
    there is none (the category then works without a tag)."""
    name = label[:20]
    existing = next((tag for tag in forum.available_tags if tag.name.lower() == name.lower()), None)
    if existing is not None:
        return existing.id
    if len(forum.available_tags) >= 20 or not forum.permissions_for(forum.guild.me).manage_channels:
        return None
    try:
        tag = await forum.create_tag(name=name, reason="Ticket bot: new category")
    except discord.HTTPException:
        log.warning("Could not create the forum tag %r in %d", name, forum.id, exc_info=True)
        return None
    return tag.id


MAX_FORUM_TAGS = 20


async def create_desk_tags(forum: discord.ForumChannel, taken: set[str]) -> tuple[list[str], list[str]]:
    """Create the staff desk's optional tags (priority, claimed) that the forum has room for after the `taken`
    names (lower case: its tags, with those just created). Returns (created, left out for lack of room); a post
    shows a priority without a tag in its title instead."""
    created, left_out = [], []
    for name in DESK_TAG_NAMES.values():
        if name.lower() in taken:
            continue
        if len(taken) >= MAX_FORUM_TAGS:
            left_out.append(name)
            continue
        await forum.create_tag(name=name, reason="Ticket bot setup: staff desk")
        taken.add(name.lower())
        created.append(name)
    return created, left_out


def desk_tag_ids(forum: discord.ForumChannel) -> dict[str, int]:
    """tag_ids entries of the desk's tags the forum has (looked up by name)."""
    by_name = {tag.name.lower(): tag.id for tag in forum.available_tags}
    return {key: by_name[name.lower()] for key, name in DESK_TAG_NAMES.items() if name.lower() in by_name}
