"""Wiring of the core resources, shared by the bot and the command-line tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp

from ai.client import LLMClient
from ai.factory import create_model_pool
from ai.pool import ModelPool
from ai.types import ChatMessage
from app.meta import BotMeta
from app.schema import open_app_database
from app.settings import Settings
from db.database import Database
from memory.decision import Thresholds
from memory.generated import PhrasingGenerator
from memory.store import TrainedMemory
from memory.sync import MemorySync
from tickets.analytics import TicketAnalytics
from tickets.answering import AnswerPipeline
from tickets.archive import TicketArchive
from tickets.archive_store import ArchiveStore
from tickets.care import CareService
from tickets.care_store import CareStore
from tickets.categories import CategoryService
from tickets.category_store import CategoryStore
from tickets.desk import StaffDesk
from tickets.gates import OpeningGates
from tickets.pacing import AnswerPacing
from tickets.ratings import RatingService
from tickets.server_settings import REGISTRY, ServerSettingsService
from tickets.service import TicketService
from tickets.settings_store import SettingsStore
from tickets.store import TicketStore
from tickets.user_card import UserCards

if TYPE_CHECKING:
    from memory.notify import ChangeListener


class LLMEmbedder:
    """The memory's `Embedder` over the embedding servers (the pool's, or one client's)."""

    def __init__(self, client: LLMClient | ModelPool) -> None:
        self.client = client
        self.model = client.settings.embed_model or ""
        # EMBED_SCALE=native: the model's cosines are used as they are, not mapped (memory/scale.py).
        self.native_scale = client.settings.embed_scale == "native"

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await self.client.embed(texts)


@dataclass
class Core:
    settings: Settings
    db: Database
    meta: BotMeta
    http_session: aiohttp.ClientSession
    # Every model server, chat and embeddings (ai/pool.py).
    llm: ModelPool
    memory: TrainedMemory
    store: TicketStore
    tickets: TicketService
    categories: CategoryService
    # Per-server settings (/settings), with defaults from `.env` where a setting names one.
    server_settings: ServerSettingsService
    pipeline: AnswerPipeline
    # How often each user gets an answer in each ticket (in memory, per process, like the ticket locks).
    pacing: AnswerPacing
    # What closed tickets showed (attachments, embeds) and what the dashboard and /stats report.
    archive: TicketArchive
    analytics: TicketAnalytics
    # The staff desk (issue 10): claims, priority, notes, blacklist, reopening, close requests, on call.
    desk: StaffDesk
    # Around the conversation: whose turn it is and held-back pings (reminders, SLA, support hours), the
    # opener's rating, the opening gates, the user card for staff.
    care: CareService
    ratings: RatingService
    gates: OpeningGates
    user_cards: UserCards
    # Phrasings the model proposes for trained questions, in the background (memory/generated.py).
    phrasings: PhrasingGenerator
    # Other processes' writes of trained answers into the search indexes (memory/sync.py); the bot polls it.
    memory_sync: MemorySync = field(init=False)
    # On PostgreSQL, the LISTEN connection that wakes `memory_sync` when another process writes (memory/notify.py).
    change_listener: ChangeListener | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        # Asks `self.settings` each time: only the servers of this process's shards (tests replace settings).
        self.memory_sync = MemorySync(self.memory, owns=lambda guild_id: self.settings.shards.owns(guild_id))

    async def listen_for_changes(self) -> None:
        """Let other processes' writes wake the memory sync at once (PostgreSQL's NOTIFY); on SQLite nothing
        can signal this process, and the periodic poll alone sees them. The running bot calls this; the CLI does
        not (it searches nothing long-lived)."""
        if self.db.engine != "postgresql" or self.change_listener is not None:
            return
        from db.postgres import PgDatabase  # asyncpg only when on PostgreSQL
        from memory.notify import ChangeListener

        assert isinstance(self.db, PgDatabase)
        self.change_listener = ChangeListener(self.db.url, self.memory_sync.wake)
        await self.change_listener.start()

    async def close(self) -> None:
        try:
            if self.change_listener is not None:
                await self.change_listener.close()
            await self.memory_sync.close()
            await self.phrasings.close()
            await self.llm.aclose()
            await self.http_session.close()
        finally:
            await self.db.close()


async def open_core(settings: Settings) -> Core:
    db = await open_app_database(settings.database)
    session = aiohttp.ClientSession()
    llm = create_model_pool(settings.llm, session)
    memory = TrainedMemory(db, LLMEmbedder(llm) if settings.llm.embed_model else None)

    async def chat(messages: list[ChatMessage]) -> str:
        return (await llm.chat(messages)).text

    store = TicketStore(db)
    server_settings = ServerSettingsService(SettingsStore(db), REGISTRY.with_env_defaults(settings.env_values))
    category_store = CategoryStore(db)
    care_store = CareStore(db)
    care = CareService(care_store, server_settings)
    tickets = TicketService(store, category_store, server_settings, watcher=care)
    return Core(
        settings=settings,
        db=db,
        meta=BotMeta(db),
        http_session=session,
        llm=llm,
        memory=memory,
        store=store,
        tickets=tickets,
        categories=CategoryService(category_store, tickets),
        server_settings=server_settings,
        pipeline=AnswerPipeline(
            memory=memory,
            llm=llm,
            thresholds=Thresholds.from_similarity(settings.similarity_threshold),
            max_context_length=settings.max_context_length,
            history_messages=settings.history_messages,
            system_prompt=settings.system_prompt,
            checked=settings.answer_checks,
            server_requests_per_minute=settings.llm.server_requests_per_minute,
        ),
        pacing=AnswerPacing(),
        archive=TicketArchive(store, ArchiveStore(db)),
        analytics=TicketAnalytics(db),
        desk=StaffDesk.build(db, store, server_settings, watcher=care),
        care=care,
        ratings=RatingService(care_store, server_settings),
        gates=OpeningGates(care_store, server_settings),
        user_cards=UserCards(care_store),
        phrasings=PhrasingGenerator(memory, chat if settings.generate_phrasings else None, settings.llm.model),
    )
