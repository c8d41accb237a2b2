"""What every page shares: the services (`WebContext`), security headers, sessions and CSRF on every
request, and who may see which server (`viewer`). Routes are in web/server.py.

Pages are in web/pages.py (tickets, transcripts, attachments), web/insights.py (analytics, export) and
web/memory_pages.py (trained memory, suggestions, coverage gaps). They call the same services as the
Discord commands (`TicketService`, `TicketAnalytics`, `TicketArchive`, `TrainedMemory`), never SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from db.dialect import stored_id
from memory.store import TrainedMemory
from tickets.analytics import TicketAnalytics, TicketFilter
from tickets.archive import TicketArchive
from tickets.service import TicketService
from web.access import Directory, Viewer
from web.auth import AttemptLimiter, Auth, Clock, Session, csrf_ok
from web.settings import WebSettings

log = logging.getLogger(__name__)

SESSION_COOKIE = "ticketbot_session"
# No inline script or style anywhere: data for charts travels in <script type="application/json">.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class WebContext:
    settings: WebSettings
    auth: Auth
    limiter: AttemptLimiter
    directory: Directory
    tickets: TicketService
    analytics: TicketAnalytics
    archive: TicketArchive
    memory: TrainedMemory
    clock: Clock


CONTEXT = web.AppKey("context", WebContext)
SESSION = web.RequestKey("session", Session)  # the signed-in session of a request


def context(request: web.Request) -> WebContext:
    return request.app[CONTEXT]


def session_of(request: web.Request) -> Session:
    return request[SESSION]  # the middleware set it: pages are only reached with a session


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        # One page for "not found" and "not allowed", the same whether a thing is missing or not yours.
        response = _error_page(request, exc.status) if exc.status in (404, 405) else exc
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Sign-in links must never leak in a Referer to another site; same-origin (not no-referrer) so that our own
    # forms carry their real Origin, and a POST whose Origin is "null" or another site can be refused.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    if isinstance(response, web.HTTPException):
        raise response
    return response


_OPEN_PATHS = ("/login/", "/static/")


def _foreign_origin(request: web.Request) -> bool:
    """A POST that a browser says comes from another site (the sign-in form included, which has no session
    and so no CSRF token yet)."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin == "null"
    allowed = {urlsplit(context(request).settings.public_url).netloc, request.host}
    return urlsplit(origin).netloc not in allowed


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every page and export needs a session; every POST needs the session's CSRF token (and must not come
    from another site)."""
    if request.method == "POST" and _foreign_origin(request):
        raise web.HTTPForbidden(text="This form did not come from this dashboard.")
    if request.path.startswith(_OPEN_PATHS):
        return await handler(request)
    session = await context(request).auth.session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return page(request, "signin.html", None, {"reason": "signed_out"}, status=401)
    request[SESSION] = session
    if request.method == "POST":
        form = await request.post()
        token = form.get("csrf")
        if not csrf_ok(session, token if isinstance(token, str) else None):
            raise web.HTTPForbidden(text="The form expired or did not come from this dashboard. Reload and retry.")
    return await handler(request)


def id_in_path(request: web.Request, name: str) -> int:
    """The id in the address's `name` part, or 404: not a number, or one no id can be (past 64 bits)."""
    found = stored_id(request.match_info[name])
    if found is None:
        raise web.HTTPNotFound()
    return found


def _error_page(request: web.Request, status: int) -> web.Response:
    return page(request, "error.html", None, {"status": status}, status=status)


async def viewer(request: web.Request, *, staff_only: bool = False) -> Viewer:
    """The request's right to the server in its URL, or 404: staff see everything there, an opener only
    their own tickets; console sessions only the server they were printed for."""
    ctx, session = context(request), session_of(request)
    guild_id = id_in_path(request, "guild_id")
    name = ctx.directory.guild_name(guild_id)
    if name is None or await ctx.tickets.config(guild_id) is None:
        raise web.HTTPNotFound()
    if session.console:
        staff = guild_id == session.guild_id
        if not staff:
            raise web.HTTPNotFound()
    else:
        staff = await ctx.directory.is_staff(guild_id, session.user_id)
    if not staff:
        if staff_only:
            raise web.HTTPNotFound()
        own = await ctx.analytics.tickets(guild_id, TicketFilter(only_opener_id=session.user_id), per_page=1)
        if own.total == 0:
            raise web.HTTPNotFound()
    return Viewer(session, guild_id, name, staff)


def page(
    request: web.Request, template: str, view: Viewer | None, values: dict[str, Any], *, status: int = 200
) -> web.Response:
    session = request.get(SESSION)  # None on the sign-in pages
    base = {
        "viewer": view,
        "csrf": session.csrf if isinstance(session, Session) else "",
        "capabilities": context(request).analytics.capabilities,
        "request_path": request.path,
    }
    return aiohttp_jinja2.render_template(template, request, {**base, **values}, status=status)
