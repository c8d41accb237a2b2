"""Readable Markdown transcripts of a ticket, built from the stored messages."""

from __future__ import annotations

import re

from tickets.models import FormAnswer, Ticket, TicketMessage

_ROLE_LABEL = {"user": "", "staff": " (staff)", "bot": " (bot)"}


def _speaker(name: str) -> str:
    """A display name as the transcript's heading shows it: Markdown escaped and without parentheses, so a member
    named "sam (staff)** — 2026" reads neither as staff nor as another heading."""
    name = " ".join(re.sub(r"[()]", " ", name).split()) or "unknown"
    return re.sub(r"([\\*_`~|\[\]<>#])", r"\\\1", name)


def _quoted(text: str) -> list[str]:
    # Quote every line so Markdown in the content cannot break the transcript's own structure.
    return [f"> {line}" if line else ">" for line in text.splitlines() or [""]]


def render_markdown(
    ticket: Ticket, messages: list[TicketMessage], *, guild_name: str = "", answers: list[FormAnswer] | None = None
) -> str:
    lines = [
        f"# Ticket {ticket.id}: {ticket.subject}",
        "",
        f"- Server: {guild_name or ticket.guild_id}",
        f"- Category: {ticket.category} ({ticket.mode.value.replace('_', ' ')})",
        f"- Opened: {ticket.created_at} by user {ticket.opener_id}"
        + (f" (opened for them by {ticket.opened_by})" if ticket.opened_by else ""),
        f"- Closed: {ticket.closed_at or 'not closed'}"
        + (f" by {ticket.closed_by}" if ticket.closed_by else "")
        + (f" ({ticket.close_reason})" if ticket.close_reason else ""),
        "",
    ]
    if ticket.summary:
        lines += ["## Summary", "", ticket.summary, ""]
    if answers:
        lines += ["## Form", ""]
        for answer in answers:
            lines += [f"**{' '.join(answer.question.split())}**", *_quoted(answer.answer or "(no answer)"), ""]
    lines += ["## Conversation", ""]
    if not messages:
        lines.append("_No messages._")
    for m in messages:
        lines.append(f"**{_speaker(m.author_name)}{_ROLE_LABEL.get(m.role, '')}** — {m.created_at}")
        lines += _quoted(m.content)
        lines.append("")
    return "\n".join(lines)
