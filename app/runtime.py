"""Wiring of the core resources, shared by the bot and the command-line tools."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from ai.client import LLMClient
from ai.factory import create_llm_client
from app.meta import BotMeta
from app.schema import open_app_database
from app.settings import Settings
from db.database import Database
from memory.decision import Thresholds
from memory.store import TrainedMemory
from tickets.analytics import TicketAnalytics
from tickets.answering import AnswerPipeline
from tickets.archive import TicketArchive
from tickets.archive_store import ArchiveStore
from tickets.categories import CategoryService
from tickets.category_store import CategoryStore
from tickets.desk import StaffDesk
from tickets.pacing import AnswerPacing
from tickets.server_settings import REGISTRY, ServerSettingsService
from tickets.service import TicketService
from tickets.settings_store import SettingsStore
from tickets.store import TicketStore


class LLMEmbedder:
    """The memory's `Embedder` over the model server's embedding endpoint."""

    def __init__(self, client: LLMClient) -> None:
        self.client = client
        self.model = client.settings.embed_model or ""

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await self.client.embed(texts)


@dataclass
class Core:
    settings: Settings
    db: Database
    meta: BotMeta
    http_session: aiohttp.ClientSession
    llm: LLMClient
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

    async def close(self) -> None:
        try:
            await self.llm.aclose()
            await self.http_session.close()
        finally:
            await self.db.close()


async def open_core(settings: Settings) -> Core:
    db = await open_app_database(settings.db_path)
    session = aiohttp.ClientSession()
    llm = create_llm_client(settings.llm, session)
    memory = TrainedMemory(db, LLMEmbedder(llm) if settings.llm.embed_model else None)
    store = TicketStore(db)
    server_settings = ServerSettingsService(SettingsStore(db), REGISTRY.with_env_defaults(settings.env_values))
    category_store = CategoryStore(db)
    tickets = TicketService(store, category_store, server_settings)
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
            server_requests_per_minute=settings.llm.server_requests_per_minute,
        ),
        pacing=AnswerPacing(),
        archive=TicketArchive(store, ArchiveStore(db)),
        analytics=TicketAnalytics(db),
        desk=StaffDesk.build(db, store, server_settings),
    )
