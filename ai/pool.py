"""Chat and embeddings over one or more model servers: what the rest of the bot talks to.

``ModelPool`` offers the calls of one ``LLMClient`` (``chat_stream``, ``chat``, ``embed``, ``health``,
``embed_health``, ``queue_length``) over a list of servers (``LLM_URL`` with several URLs), and asks a
separate embedding server when one is configured (``EMBED_URL`` / ``EMBED_BACKEND``).

Chat: one fair queue (``ai.limiter.PoolLimiter``) in front of every server; each request gets a slot on
the least busy healthy server, each server keeps its own health memory (``ai.health.Health``) and its own
concurrency limit. A server that goes down stops taking requests, so its line is served by the others.
A request that fails before any text was yielded is retried on a server it has not tried (at the front of
the line: it already had its turn); once text was yielded the error is raised, because the user has seen
part of that answer and a second one from another server would silently duplicate it.

Embeddings: the least busy server whose embedding model is healthy; a server that is down, too slow or
lacks the model is remembered by its ``embed_health`` and the next one is asked (embedding is idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field

from ai.client import LLMClient, collect_chat
from ai.errors import LLMError, LLMTimeout, LLMUnavailable, ModelNotFound
from ai.health import Health
from ai.limiter import NoServerUsable, PoolLimiter
from ai.settings import LLMSettings
from ai.types import ChatMessage, ChatResult, ChatShape, OnQueued, ServerStatus, StreamEvent

log = logging.getLogger(__name__)


class PoolHealth:
    """What the answer pipeline asks of "the model's health", over several servers: available while any
    server is; the last errors of those that are down."""

    def __init__(self, members: list[Health]) -> None:
        self.members = members

    @property
    def available(self) -> bool:
        return any(health.available for health in self.members)

    @property
    def last_error(self) -> str | None:
        errors = [health.last_error for health in self.members if not health.available and health.last_error]
        return "; ".join(dict.fromkeys(errors)) or None


@dataclass
class ServerReport:
    """One server as `check` and /status show it: what it answered now and what the pool remembers."""

    url: str
    backend: str
    status: ServerStatus
    # Remembered by the pool (ai/health.py): False while a failure is remembered.
    healthy: bool
    last_error: str | None
    retry_in: float
    # Chat requests in flight and the server's limit (None for an embedding-only server).
    busy: int = 0
    limit: int | None = None


@dataclass
class PoolStatus:
    chat: list[ServerReport]
    # Embedding servers of their own (EMBED_URL / EMBED_BACKEND); empty when the chat servers embed.
    embed: list[ServerReport]
    model: str
    embed_model: str | None
    queue: int
    embed_health: list[Health] = field(default_factory=list, repr=False)

    @property
    def reachable(self) -> bool:
        """Whether any chat server answered."""
        return any(report.status.reachable for report in self.chat)

    @property
    def separate_embeddings(self) -> bool:
        return bool(self.embed)


class ModelPool:
    """Create with ``ai.factory.create_model_pool``; ``servers`` chat, ``embed_servers`` embed (the same
    clients when the chat servers also embed)."""

    def __init__(self, settings: LLMSettings, servers: list[LLMClient], embed_servers: list[LLMClient]) -> None:
        if not servers or not embed_servers:
            raise ValueError("a model pool needs at least one chat and one embedding server")
        self.settings = settings
        self.servers = servers
        self.embed_servers = embed_servers
        self.shared_embeddings = embed_servers == servers
        self._limiter = PoolLimiter(
            [server.settings.max_concurrency for server in servers], lambda i: servers[i].health.usable
        )
        for server in servers:
            server.health.listeners.append(self._limiter.dispatch)
        self._embedding = [0] * len(embed_servers)
        self.health = PoolHealth([server.health for server in servers])
        self.embed_health = PoolHealth([server.embed_health for server in embed_servers])

    @property
    def queue_length(self) -> int:
        """Requests waiting for a free slot on any server (not counting those in flight)."""
        return self._limiter.waiting

    @property
    def in_flight(self) -> list[int]:
        """Chat requests in flight per server, in ``servers`` order."""
        return list(self._limiter.busy)

    async def chat_stream(
        self, messages: list[ChatMessage], *, on_queued: OnQueued | None = None
    ) -> AsyncGenerator[str, None]:
        """Like ``LLMClient.chat_stream``, on the least busy healthy server."""
        async with aclosing(self.chat_events(messages, on_queued)) as events:
            async for event in events:
                if event.text:
                    yield event.text

    async def chat(
        self, messages: list[ChatMessage], *, on_queued: OnQueued | None = None, shape: ChatShape | None = None
    ) -> ChatResult:
        """Like ``LLMClient.chat`` (`shape`: a constrained answer, e.g. a classification)."""
        return await collect_chat(self.chat_events(messages, on_queued, shape))

    async def chat_events(
        self, messages: list[ChatMessage], on_queued: OnQueued | None = None, shape: ChatShape | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        tried: set[int] = set()
        last_error: LLMError | None = None
        while True:
            try:
                index = await self._limiter.acquire(on_queued, exclude=frozenset(tried), first=bool(tried))
            except NoServerUsable:
                raise last_error or self._down_error() from None
            server = self.servers[index]
            shown = False
            try:
                async with aclosing(server.chat_events(messages, shape)) as events:
                    async for event in events:
                        shown = shown or bool(event.text)
                        yield event
                return
            except LLMError as err:
                if shown:
                    raise  # the user saw part of this answer: another server's would duplicate it
                last_error = err
                tried.add(index)
                if len(self.servers) > 1:
                    log.warning("%s failed before answering (%s); trying another server", server.settings.base_url, err)
            finally:
                self._limiter.release(index)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Vectors for `texts` from the least busy embedding server that is healthy, trying the next on
        a server-level failure (down, timeout, model missing); raises the last failure."""
        if self.settings.embed_model is None:
            raise LLMError("no embed_model is configured")
        if not texts:
            return []
        order = sorted(
            (i for i, server in enumerate(self.embed_servers) if server.embed_health.usable),
            key=lambda i: (self._embedding[i], i),
        )
        if not order:
            return await self.embed_servers[0].embed(texts)  # raises its remembered failure at once
        last: LLMError | None = None
        for i in order:
            self._embedding[i] += 1
            try:
                return await self.embed_servers[i].embed(texts)
            except (LLMUnavailable, LLMTimeout, ModelNotFound) as err:
                last = err
                if len(order) > 1:
                    log.warning("embedding at %s failed (%s)", self.embed_servers[i].settings.base_url, err)
            finally:
                self._embedding[i] -= 1
        assert last is not None
        raise last

    async def status(self) -> PoolStatus:
        """Every server asked at once (for `check` and /status); updates what each one's health remembers."""
        separate = [] if self.shared_embeddings else self.embed_servers
        answers = await asyncio.gather(*(server.server_status() for server in [*self.servers, *separate]))
        chat = [
            self._report(server, status, busy=busy)
            for server, status, busy in zip(self.servers, answers[: len(self.servers)], self._limiter.busy, strict=True)
        ]
        embed = []
        for server, status in zip(separate, answers[len(self.servers) :], strict=True):
            if not status.reachable:  # its client remembered this as the chat health; search must know
                server.embed_health.mark_down(LLMUnavailable(status.error or "unreachable"))
            embed.append(self._report(server, status, busy=None))
        return PoolStatus(
            chat=chat,
            embed=embed,
            model=self.settings.model,
            embed_model=self.settings.embed_model,
            queue=self.queue_length,
            embed_health=[server.embed_health for server in self.embed_servers],
        )

    async def server_status(self) -> ServerStatus:
        """The first chat server that answers (the whole pool: ``status``)."""
        report = await self.status()
        return next((r.status for r in report.chat if r.status.reachable), report.chat[0].status)

    async def aclose(self) -> None:
        for server in {id(s): s for s in [*self.servers, *self.embed_servers]}.values():
            await server.aclose()

    def _report(self, server: LLMClient, status: ServerStatus, *, busy: int | None) -> ServerReport:
        # An embedding-only server is judged by its embedding model; a chat server by its chat model.
        health = server.health if busy is not None else server.embed_health
        return ServerReport(
            url=server.settings.base_url,
            backend=server.settings.backend,
            status=status,
            healthy=health.available,
            last_error=health.last_error,
            retry_in=health.retry_in,
            busy=busy or 0,
            limit=server.settings.max_concurrency if busy is not None else None,
        )

    def _down_error(self) -> LLMError:
        """The remembered failure of a down server (ModelNotFound keeps its pull hint)."""
        for server in self.servers:
            try:
                server.health.raise_if_down()
            except LLMError as err:
                return err
        return LLMUnavailable("no model server is available")
