"""The one answer pipeline for a user's message: trained answer, LLM, fallback, or staff.

Used by the Discord side (through a `MessageSink` that posts into the ticket) and by
`python bot.py ask` (a sink that prints), so both take exactly the same route.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ai.delivery import DeliveryResult, MessageSink, deliver_stream
from ai.errors import LLMBusy, LLMError, LLMUnavailable
from ai.prompt import KnowledgeItem, Turn, build_prompt
from ai.split import append_note, neutralize_mentions, split_message
from ai.types import ChatModel
from memory.decision import Decision, Route, Thresholds, decide
from memory.models import Match
from memory.store import TrainedMemory
from tickets.models import MessageRole, TicketMessage
from tickets.pacing import RateWindow

log = logging.getLogger(__name__)

SAVED_NOTE = "-# 💾 Saved answer from the support team."
FALLBACK_NOTE = (
    "-# ⚠️ The AI assistant is unavailable right now, so this is the closest saved answer."
    " Staff can help if it doesn't fit."
)
BUSY_NOTE = (
    "-# ⚠️ The AI assistant has too many questions right now, so this is the closest saved answer."
    " Staff can help if it doesn't fit."
)
STAFF_TEXT = (
    "I couldn't find a reliable answer to this{why}. A member of staff has been notified and will be with you soon."
)


@dataclass(kw_only=True)
class AnswerRequest:
    guild_id: int
    question: str
    history: list[Turn]
    user_name: str
    category: str
    server_name: str
    # Extra texts to search the memory with, e.g. a ticket's subject and description on their own:
    # mixing both into one query dilutes the match for either.
    search_texts: list[str] = field(default_factory=list)
    # The ticket's form answers (question label, answer) beyond the first, which opened the conversation:
    # context for every answer in the ticket, given to the model as data.
    form: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class AnswerOutcome:
    route: Route
    decision: Decision
    matches: list[Match]
    text: str = ""
    llm_error: LLMError | None = None

    @property
    def entry_id(self) -> int | None:
        return self.decision.match.entry.id if self.decision.match else None


@dataclass
class AnswerPipeline:
    memory: TrainedMemory
    llm: ChatModel  # the bot's ai.pool.ModelPool, or one server's LLMClient
    thresholds: Thresholds
    max_context_length: int
    history_messages: int
    system_prompt: str | None = None
    # Model answers one Discord server may start per minute (0 = no cap): one server must not take the
    # model from the others. Beyond it a message is answered as if the model were busy.
    server_requests_per_minute: int = 0
    knowledge_k: int = 5
    # Model requests started per server in the last minute.
    server_requests: RateWindow = field(default_factory=RateWindow)

    async def answer(
        self,
        request: AnswerRequest,
        sink: MessageSink,
        *,
        on_queued: Callable[[int], Awaitable[None]] | None = None,
    ) -> AnswerOutcome:
        decision, matches = await self.decide(
            request.guild_id, [request.question, *request.search_texts], llm_available=self.llm.health.available
        )
        log.debug("Decision for guild %d: %s (%s)", request.guild_id, decision.route, decision.reason)
        if decision.route is Route.ANSWER:
            return await self._send_trained(decision, matches, sink, SAVED_NOTE)
        if decision.route is Route.LLM:
            if self.server_requests.try_add(request.guild_id, self.server_requests_per_minute):
                outcome, llm_error = await self._ask_llm(request, decision, matches, sink, on_queued)
                if outcome is not None:
                    return outcome
            else:  # one server must not take the model from the others (or run up an endless queue)
                log.info("Guild %d reached its model requests per minute", request.guild_id)
                llm_error = LLMBusy("this server's model requests per minute are used up")
            # Nothing reached the user: decide again as if the model were down.
            decision = decide(matches, llm_available=False, thresholds=self.thresholds)
        else:
            # Not asked because a failure is remembered: say so, so the hand-off names the cause.
            llm_error = LLMUnavailable(f"LLM server unavailable ({self.llm.health.last_error})")
        busy = isinstance(llm_error, LLMBusy)
        if decision.route is Route.FALLBACK:
            outcome = await self._send_trained(decision, matches, sink, BUSY_NOTE if busy else FALLBACK_NOTE)
        else:
            # Staff is only ever chosen after the model failed, while it is known to be down, or is busy.
            why = ""
            if llm_error is not None:
                why = f" and the AI assistant is {'busy with many questions' if busy else 'unavailable'} right now"
            text = STAFF_TEXT.format(why=why)
            await sink.send(text)
            outcome = AnswerOutcome(Route.STAFF, decision, matches, text)
        outcome.llm_error = llm_error
        return outcome

    async def decide(
        self, guild_id: int, texts: list[str], *, llm_available: bool, k: int | None = None
    ) -> tuple[Decision, list[Match]]:
        """The route for a request (phrased as `texts`) and the matches it was decided on.

        The first step of every answer, and all that `python bot.py search` runs: both decide alike.
        """
        matches = await self.memory.find_similar_many(guild_id, texts, k=k or self.knowledge_k)
        return decide(matches, llm_available=llm_available, thresholds=self.thresholds), matches

    async def _send_trained(
        self, decision: Decision, matches: list[Match], sink: MessageSink, note: str
    ) -> AnswerOutcome:
        assert decision.match is not None
        text = append_note(neutralize_mentions(decision.match.entry.response), note)
        for part in split_message(text):
            await sink.send(part)
        return AnswerOutcome(decision.route, decision, matches, text)

    async def _ask_llm(
        self,
        request: AnswerRequest,
        decision: Decision,
        matches: list[Match],
        sink: MessageSink,
        on_queued: Callable[[int], Awaitable[None]] | None,
    ) -> tuple[AnswerOutcome | None, LLMError | None]:
        messages = build_prompt(
            question=request.question,
            history=request.history,
            knowledge=[KnowledgeItem(m.entry.id, m.entry.query, m.entry.response, m.entry.category) for m in matches],
            server_name=request.server_name,
            user_name=request.user_name,
            category=request.category,
            system_prompt=self.system_prompt,
            max_chars=self.max_context_length,
            max_history=self.history_messages,
            num_ctx=self.llm.settings.num_ctx,
            form=request.form,
        )
        try:
            result: DeliveryResult = await deliver_stream(
                self.llm.chat_stream(messages, on_queued=on_queued),
                sink,
                error_note="\n\n-# ⚠️ The AI assistant stopped before finishing this answer.",
            )
        except LLMError as exc:  # raised before anything was shown
            log.warning("LLM failed before answering: %s", exc)
            return None, exc
        if not result.handles:
            log.warning("LLM gave no usable answer: %s", result.error)
            return None, result.error
        if result.error is not None:
            log.warning("LLM stopped mid-answer: %s", result.error)
        outcome = AnswerOutcome(Route.LLM, decision, matches, "".join(result.parts))
        outcome.llm_error = result.error
        return outcome, None


def conversation_before(messages: list[TicketMessage], message_id: int, limit: int) -> list[Turn]:
    """The conversation an answer to `message_id` should see: what was written before it, plus the
    bot's answers stored since (to earlier questions, finished while this one waited).

    Messages that arrived after it are left out: they get their own answer. Discord ids grow with
    time; rows stored without an id (older bot rows) count as before.
    """
    turns = [
        Turn(m.role, m.author_name, m.content)
        for m in messages
        if m.role is MessageRole.BOT or m.message_id is None or m.message_id < message_id
    ]
    return turns[-limit:] if limit > 0 else []


async def search_batch(
    pipeline: AnswerPipeline, guild_id: int, queries: list[str], *, llm_available: bool, k: int = 5
) -> list[dict[str, Any]]:
    """What the bot would do with each question: its decision and the ranked matches.

    "decision" is the route's value: "answer" (trained answer sent directly), "llm" (the LLM
    answers, seeing the matches), "fallback" (LLM unavailable: the closest trained answer is sent
    with a note that it may not fit) or "staff" (handed to staff).
    """
    results = []
    for query in queries:
        decision, matches = await pipeline.decide(guild_id, [query], llm_available=llm_available, k=max(k, 5))
        results.append(
            {
                "query": query,
                "decision": decision.route.value,
                "matches": [
                    {
                        "id": m.entry.id,
                        "query": m.entry.query,
                        "response": m.entry.response,
                        "category": m.entry.category,
                        "score": round(m.score, 4),
                    }
                    for m in matches
                ],
            }
        )
    return results
