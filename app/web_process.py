"""`python bot.py web`: the dashboard as a process of its own, without the Discord gateway.

It opens the same database as the bot (its own connection; SQLite in WAL mode lets both read at once, and a
write waits for the other's instead of failing) and asks Discord over REST, with the bot's token, what the
dashboard needs to know: the servers the bot is in and whether a viewer is staff there (`RestDirectory`).
It never connects to the gateway and takes no instance lock (app/instance.py is for bots: two bots on one
database would both answer every ticket; a dashboard beside the bot is meant to be).

It writes little: sign-in sessions (web/auth.py), and the trained answers staff approve on the Memory page,
which the bot sees within MEMORY_SYNC_SECONDS (memory/sync.py). Sign-in links are still created by
/dashboard in the bot (or `python bot.py dashboard`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

import discord

from app.runtime import Core, open_core
from app.settings import Settings
from cogs._discord import fetched_is_staff
from web.app import WebContext
from web.auth import AttemptLimiter, Auth, real_clock
from web.server import DashboardServer

log = logging.getLogger(__name__)

# How long a staff check answered by Discord is trusted (as in the bot: cogs/dashboard.py).
STAFF_CHECK_TTL_S = 30.0
# How often the list of the bot's servers is read again (a server the bot just joined shows up within this).
GUILDS_REFRESH_S = 60.0


class RestDirectory:
    """The dashboard's view of Discord over REST: the bot's servers from `GET /users/@me/guilds`, staff status
    from the server's roles and the member as Discord has them now (`GET /guilds/{id}`, `…/members/{user}`),
    judged by the same rule as in the bot (tickets/access.py)."""

    def __init__(self, client: discord.Client, core: Core, *, ttl_s: float = STAFF_CHECK_TTL_S) -> None:
        self.client = client
        self.core = core
        self.ttl_s = ttl_s
        self._names: dict[int, str] = {}
        self._checked: dict[tuple[int, int], tuple[float, bool]] = {}
        # A server's roles and owner, shared by the staff checks of all its viewers for `ttl_s`.
        self._guilds: dict[int, tuple[float, discord.Guild]] = {}

    async def refresh(self) -> None:
        """Read the bot's servers again (paged by discord.py, 200 a request)."""
        self._names = {guild.id: guild.name async for guild in self.client.fetch_guilds(limit=None)}

    def guild_name(self, guild_id: int) -> str | None:
        return self._names.get(guild_id)

    def guild_ids(self) -> list[int]:
        return list(self._names)

    async def is_staff(self, guild_id: int, user_id: int) -> bool:
        key = (guild_id, user_id)
        cached = self._checked.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        config = await self.core.tickets.config(guild_id)
        staff = False
        if config is not None and guild_id in self._names:
            try:
                guild = await self._guild(guild_id)
            except discord.HTTPException:
                log.warning("Could not read server %d for a staff check", guild_id, exc_info=True)
            else:
                staff = await fetched_is_staff(guild, user_id, config)
        self._checked[key] = (time.monotonic(), staff)
        return staff

    async def _guild(self, guild_id: int) -> discord.Guild:
        cached = self._guilds.get(guild_id)
        if cached is not None and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        guild = await self.client.fetch_guild(guild_id, with_counts=False)
        self._guilds[guild_id] = (time.monotonic(), guild)
        return guild


class WebProcess:
    """The standalone dashboard's resources: the core (database, services), a REST-only Discord client, the
    HTTP server on WEB_HOST:WEB_PORT, and the task that keeps the server list fresh."""

    def __init__(self, settings: Settings, client: discord.Client | None = None) -> None:
        self.settings = settings
        # No intents, no gateway: only `login` (REST) is ever called on it.
        self.client = client or discord.Client(intents=discord.Intents.none())
        self.core: Core | None = None
        self.server: DashboardServer | None = None
        self._refresher: asyncio.Task[None] | None = None

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return self.server.addresses if self.server is not None else []

    async def start(self) -> None:
        """Log in over REST (discord.LoginFailure for a rejected token), then listen. Stops what it opened
        if anything fails."""
        try:
            self.core = core = await open_core(self.settings)
            await self.client.login(self.settings.token.reveal())
            directory = RestDirectory(self.client, core)
            await directory.refresh()
            context = WebContext(
                settings=self.settings.web, auth=Auth(core.db), limiter=AttemptLimiter(), directory=directory,
                tickets=core.tickets, analytics=core.analytics, archive=core.archive, memory=core.memory,
                clock=real_clock,
            )  # fmt: skip
            self.server = DashboardServer(context)
            await self.server.start()
        except BaseException:
            await self.stop()
            raise
        self._refresher = asyncio.create_task(self._refresh_guilds(directory))
        log.info("Dashboard process up: %d server(s), database %s", len(directory.guild_ids()), self.settings.db_path)

    async def _refresh_guilds(self, directory: RestDirectory) -> None:
        while True:
            await asyncio.sleep(GUILDS_REFRESH_S)
            try:
                await directory.refresh()
            except discord.HTTPException:
                log.warning("Could not read the bot's servers from Discord; keeping the last list", exc_info=True)

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None
        if self.server is not None:
            await self.server.stop()
            self.server = None
        await self.client.close()
        if self.core is not None:
            core, self.core = self.core, None
            await core.close()


async def serve(settings: Settings) -> None:
    """Run the standalone dashboard until SIGINT or SIGTERM."""
    process = WebProcess(settings)
    await process.start()
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C still raises KeyboardInterrupt
            loop.add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        await process.stop()
