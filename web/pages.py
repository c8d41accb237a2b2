"""Sign-in, the ticket list, one ticket's transcript and its attachments."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from tickets.analytics import PRIORITIES, ROUTES, STATUSES, TicketFilter, UnsupportedFilter
from tickets.models import Ticket
from web.access import Viewer
from web.app import SESSION_COOKIE, context, id_in_path, page, session_of, viewer
from web.auth import SESSION_TTL
from web.transcripts import transcript_values


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


async def login_form(request: web.Request) -> web.Response:
    """Opening a link only shows a button: link previews and prefetchers fetch with GET, and must not
    spend a single-use link (the POST does)."""
    if not context(request).limiter.allow(_client(request)):
        raise web.HTTPTooManyRequests(text="Too many sign-in attempts. Wait a few minutes and try again.")
    return page(request, "signin.html", None, {"reason": "confirm", "token": request.match_info["token"]})


async def login(request: web.Request) -> web.Response:
    ctx = context(request)
    if not ctx.limiter.allow(_client(request)):
        raise web.HTTPTooManyRequests(text="Too many sign-in attempts. Wait a few minutes and try again.")
    signed_in = await ctx.auth.spend_link(request.match_info["token"])
    if signed_in is None:
        return page(request, "signin.html", None, {"reason": "bad_link"}, status=403)
    response = web.HTTPSeeOther(f"/g/{signed_in.session.guild_id}")
    # Lax, not Strict: the link is opened from Discord (another site); Lax still keeps the cookie off
    # cross-site POSTs, and every POST also carries the session's CSRF token.
    response.set_cookie(
        SESSION_COOKIE, signed_in.cookie, httponly=True, samesite="Lax", secure=ctx.settings.secure_cookies,
        path="/", max_age=int(SESSION_TTL.total_seconds()),
    )  # fmt: skip
    raise response


async def logout(request: web.Request) -> web.Response:
    await context(request).auth.end_session(request.cookies.get(SESSION_COOKIE))
    response = web.HTTPSeeOther("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def home(request: web.Request) -> web.Response:
    """The servers this session may open."""
    ctx, session = context(request), session_of(request)
    if session.console:
        raise web.HTTPSeeOther(f"/g/{session.guild_id}")
    servers = []
    for guild_id in ctx.directory.guild_ids():
        if await ctx.tickets.config(guild_id) is None:
            continue
        staff = await ctx.directory.is_staff(guild_id, session.user_id)
        own = await ctx.analytics.tickets(guild_id, TicketFilter(only_opener_id=session.user_id), per_page=1)
        if staff or own.total:
            servers.append({"id": guild_id, "name": ctx.directory.guild_name(guild_id), "staff": staff})
    return page(request, "home.html", None, {"servers": servers})


async def guild_home(request: web.Request) -> web.Response:
    view = await viewer(request)
    raise web.HTTPSeeOther(f"/g/{view.guild_id}/{'analytics' if view.staff else 'tickets'}")


FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)


def parse_day(value: str | None, problems: list[str], what: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.append(f"{what} must be a date such as 2026-01-31.")
        return None
    # A period ends the day after its last day: on date.max that is no date at all (an OverflowError).
    if not FIRST_DAY <= day <= LAST_DAY:
        problems.append(f"{what} must be a date between {FIRST_DAY} and {LAST_DAY}.")
        return None
    return day


def ticket_filter(view: Viewer, query: Any, problems: list[str]) -> TicketFilter:
    """The list's filters from the query string; unknown values are refused with a note, not guessed."""
    status = query.get("status") or None
    route = query.get("route") or None
    if status and status not in STATUSES:
        problems.append("Unknown status.")
        status = None
    if route and route not in ROUTES:
        problems.append("Unknown route.")
        route = None
    first = parse_day(query.get("from"), problems, "From")
    last = parse_day(query.get("to"), problems, "To")
    priority = query.get("priority") or None
    if priority and priority not in PRIORITIES:
        problems.append("Unknown priority.")
        priority = None
    rating = query.get("rating") or None
    if rating and rating not in ("1", "2", "3", "4", "5"):
        problems.append("A rating is 1 to 5 stars.")
        rating = None
    return TicketFilter(
        status=status,
        category=(query.get("category") or None),
        route=route,
        opener=((query.get("opener") or "").strip()[:100] or None) if view.staff else None,
        since=datetime.combine(first, datetime.min.time()).replace(tzinfo=UTC) if first else None,
        until=datetime.combine(last + timedelta(days=1), datetime.min.time()).replace(tzinfo=UTC) if last else None,
        text=(query.get("q") or "").strip()[:200] or None,
        only_opener_id=view.only_opener_id,
        priority=priority if view.staff else None,
        claimer=((query.get("claimer") or "").strip()[:100] or None) if view.staff else None,
        rating=int(rating) if rating else None,
    )


async def tickets(request: web.Request) -> web.Response:
    view = await viewer(request)
    ctx = context(request)
    problems: list[str] = []
    f = ticket_filter(view, request.query, problems)
    try:
        number = int(request.query.get("page", "1"))
    except ValueError:
        number = 1
    try:
        result = await ctx.analytics.tickets(view.guild_id, f, page=number)
    except UnsupportedFilter as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    kept = {k: v for k, v in request.query.items() if k != "page" and v}
    return page(
        request, "tickets.html", view,
        {
            "result": result, "query": request.query, "problems": problems, "statuses": STATUSES,
            "routes": ROUTES, "priorities": PRIORITIES, "categories": await ctx.analytics.categories(view.guild_id),
            "page_link": lambda n: "?" + urlencode({**kept, "page": n}),
            "export_query": urlencode(kept),
        },
    )  # fmt: skip


async def _ticket_for(request: web.Request, view: Viewer) -> Ticket:
    ticket_id = id_in_path(request, "ticket_id")
    ticket = await context(request).tickets.get(ticket_id)
    # Another server's ticket, or someone else's for an opener: the same 404 as a ticket that does not exist.
    if ticket is None or ticket.guild_id != view.guild_id or not view.may_see_ticket(ticket.opener_id):
        raise web.HTTPNotFound()
    return ticket


async def ticket(request: web.Request) -> web.Response:
    view = await viewer(request)
    found = await _ticket_for(request, view)
    ctx = context(request)
    values = await transcript_values(ctx.archive, ctx.analytics, found, staff=view.staff, guild_name=view.guild_name)
    return page(request, "ticket.html", view, values)


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


async def attachment(request: web.Request) -> web.StreamResponse:
    """An attachment, always as a download of opaque bytes: never rendered by the browser, whatever its
    name or the type its uploader claimed."""
    view = await viewer(request)
    ctx = context(request)
    attachment_id = id_in_path(request, "attachment_id")
    found = await ctx.archive.attachment(view.guild_id, attachment_id)
    if found is None:
        raise web.HTTPNotFound()
    saved, data = found
    owner = await ctx.tickets.get(saved.ticket_id)
    if owner is None or not view.may_see_ticket(owner.opener_id) or data is None:
        raise web.HTTPNotFound()
    ascii_name = _UNSAFE_NAME.sub("_", saved.filename).strip("._") or "attachment"
    return web.Response(
        body=data,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(saved.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
