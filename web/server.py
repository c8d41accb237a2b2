"""The dashboard's routes, and the server the bot starts and stops with itself (on WEB_HOST only)."""

from __future__ import annotations

import logging

import aiohttp_jinja2
import jinja2
from aiohttp import web

from web import insights, memory_pages, pages
from web.app import CONTEXT, WebContext, security_headers, sessions
from web.render import FILTERS, STATIC, TEMPLATES

log = logging.getLogger(__name__)


def create_app(ctx: WebContext) -> web.Application:
    # Forms are small; nothing is uploaded here.
    app = web.Application(middlewares=[security_headers, sessions], client_max_size=256 * 1024)
    app[CONTEXT] = ctx
    env = aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters.update(FILTERS)
    app.router.add_get("/", pages.home)
    app.router.add_get("/login/{token}", pages.login_form)
    app.router.add_post("/login/{token}", pages.login)
    app.router.add_post("/logout", pages.logout)
    app.router.add_get("/g/{guild_id}", pages.guild_home)
    app.router.add_get("/g/{guild_id}/tickets", pages.tickets)
    app.router.add_get("/g/{guild_id}/tickets/{ticket_id}", pages.ticket)
    app.router.add_get("/g/{guild_id}/attachments/{attachment_id}", pages.attachment)
    app.router.add_get("/g/{guild_id}/analytics", insights.analytics)
    app.router.add_get("/g/{guild_id}/export", insights.export_page)
    app.router.add_get("/g/{guild_id}/export/tickets.{fmt}", insights.export_tickets)
    app.router.add_get("/g/{guild_id}/export/analytics.{fmt}", insights.export_analytics)
    app.router.add_get("/g/{guild_id}/memory", memory_pages.memory)
    app.router.add_post("/g/{guild_id}/memory/suggestions/{suggestion_id}/approve", memory_pages.approve)
    app.router.add_post("/g/{guild_id}/memory/suggestions/{suggestion_id}/reject", memory_pages.reject)
    app.router.add_post("/g/{guild_id}/memory/gaps/draft", memory_pages.draft)
    app.router.add_static("/static/", STATIC)
    return app


class DashboardServer:
    """The dashboard listening on WEB_HOST:WEB_PORT, and nowhere else."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self._runner: web.AppRunner | None = None

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """(host, port) of every socket the server listens on."""
        if self._runner is None:
            return []
        return [(str(a[0]), int(a[1])) for a in self._runner.addresses]

    async def start(self) -> None:
        settings = self.ctx.settings
        runner = web.AppRunner(create_app(self.ctx), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            # One site on exactly the configured address: a host name is not spread over every address it has.
            site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("Dashboard listening on %s (public address %s)", self.addresses, settings.public_url)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
