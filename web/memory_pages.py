"""The Memory page: trained entries with usage and confidence, pending suggestions (approve, edit, reject
through the same `TrainedMemory` methods as /memory approve and /memory reject), and coverage gaps."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from db.dialect import stored_id
from memory.models import validate_pair
from memory.text import visible_text
from web.access import Viewer
from web.app import context, id_in_path, page, session_of, viewer
from web.insights import period_of

PAGE = 25
NOTICES = {
    "approved": "Suggestion approved: it is now a saved answer.",
    "rejected": "Suggestion rejected.",
    "gone": "That suggestion is no longer pending.",
    "drafted": "Draft saved as a pending suggestion: review it below.",
}


async def memory(request: web.Request) -> web.Response:
    return await _memory_page(request, await viewer(request, staff_only=True))


async def _memory_page(request: web.Request, view: Viewer, error: str | None = None) -> web.Response:
    """The page; a refused form shows it again with the reason (never a message carried in the URL)."""
    ctx = context(request)
    try:
        number = max(1, int(request.query.get("page", "1")))
    except ValueError:
        number = 1
    total = await ctx.memory.count(view.guild_id)
    pages = max(1, -(-total // PAGE))
    number = min(number, pages)
    entries = await ctx.memory.list_entries(view.guild_id, offset=(number - 1) * PAGE, limit=PAGE)
    pending = await ctx.memory.list_suggestions(view.guild_id, limit=50)
    problems: list[str] = []
    period, days = period_of(request, problems)
    gaps = await ctx.analytics.coverage_gaps(view.guild_id, period)
    drafts = {}
    for gap in gaps[:30]:
        if gap.first_ticket_id is not None:
            drafts[gap.first_ticket_id] = await ctx.analytics.staff_reply(gap.first_ticket_id, gap.asked_at) or ""
    notice = NOTICES.get(request.query.get("notice", ""))
    response = page(
        request, "memory.html", view,
        {
            "entries": entries, "total": total, "page": number, "pages": pages, "pending": pending, "gaps": gaps,
            "drafts": drafts, "days": days, "notice": notice, "error": error, "problems": problems,
        },
        status=400 if error else 200,
    )  # fmt: skip
    return response


def _back(view: Viewer, notice: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/g/{view.guild_id}/memory?{urlencode({'notice': notice})}")


def _suggestion_id(request: web.Request) -> int:
    return id_in_path(request, "suggestion_id")


async def approve(request: web.Request) -> web.Response:
    view = await viewer(request, staff_only=True)
    form = await request.post()
    question = str(form.get("question", "")).strip() or None
    answer = str(form.get("answer", "")).strip() or None
    try:
        validate_pair(question, answer)  # the same limits as /memory approve
    except ValueError as exc:
        return await _memory_page(request, view, f"Not approved: the {exc}.")
    entry = await context(request).memory.approve_suggestion(
        view.guild_id, _suggestion_id(request), by=session_of(request).user_id, query=question, response=answer
    )
    raise _back(view, "approved" if entry is not None else "gone")


async def reject(request: web.Request) -> web.Response:
    view = await viewer(request, staff_only=True)
    done = await context(request).memory.reject_suggestion(
        view.guild_id, _suggestion_id(request), by=session_of(request).user_id
    )
    raise _back(view, "rejected" if done else "gone")


async def draft(request: web.Request) -> web.Response:
    """ "Draft a saved answer" for a coverage gap: a pending suggestion, reviewed like any other."""
    view = await viewer(request, staff_only=True)
    form = await request.post()
    question = visible_text(str(form.get("question", "")))
    answer = visible_text(str(form.get("answer", "")))
    ticket_raw = str(form.get("ticket_id", ""))
    ticket_id = stored_id(ticket_raw)
    if ticket_id is not None:
        ticket = await context(request).tickets.get(ticket_id)
        if ticket is None or ticket.guild_id != view.guild_id:
            ticket_id = None  # a ticket of another server is not this suggestion's source
    try:
        await context(request).memory.suggest_qa(view.guild_id, question, answer, ticket_id=ticket_id)
    except ValueError as exc:
        return await _memory_page(request, view, f"Not saved: the {exc}.")
    raise _back(view, "drafted")
