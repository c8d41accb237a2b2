"""The one answer pipeline for a user's message: trained answer, LLM, fallback, or staff.

Used by the Discord side (through a `MessageSink` that posts into the ticket) and by
`python bot.py ask` (a sink that prints), so both take exactly the same route.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ai.check import saved_answer_fits
from ai.chitchat import canned_reply
from ai.delivery import DeliveryResult, MessageSink
from ai.errors import LLMBusy, LLMError, LLMUnavailable
from ai.guards import Verdict
from ai.prompt import KnowledgeItem, Turn
from ai.reply import ModelReply, ModelTurn, answer_with_model
from ai.split import append_note, neutralize_mentions, split_message, unmask_links
from ai.types import ChatModel
from ai.untrusted import one_line
from memory.decision import Decision, Route, Thresholds, decide, evidence
from memory.models import Match
from memory.segments import QuestionMatches, decide_each, find_per_question
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
    "I couldn't find a reliable answer to {what}{why}. A member of staff has been notified and will be with you soon."
)
# See AnswerPipeline.check_bar (measured: README, "Answer quality").
CHECK_BAR: float | None = None
INTERRUPTED_NOTE = "\n\n-# ⚠️ The AI assistant stopped before finishing this answer."


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
    # The ticket's subject when `question` is "subject\ndescription" (a new ticket): a title, not a question
    # of its own, so a message with one question is not split into two.
    subject: str = ""


@dataclass
class AnswerOutcome:
    route: Route
    decision: Decision
    matches: list[Match]
    text: str = ""
    llm_error: LLMError | None = None
    # A canned reply to chit-chat ("thanks!", "hello"): not an answer, so no route, buttons or status.
    canned: bool = False
    # The model's turn, when it was asked: the notes it saw and its guarded delivery (verdict, raw reply).
    model: ModelReply | None = None
    # The model was unsure and was asked about the best saved answer alone (ai/check.py): its yes or no.
    checked: bool | None = None

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
    # The guards on model replies (ANSWER_CHECKS): unsure or failed replies go to staff, never shown.
    checked: bool = True
    # When the model is unsure and the best match's confidence (memory.decision) reaches this, the model
    # is asked whether that saved answer fits (ai/check.py); None: never.
    check_bar: float | None = CHECK_BAR
    # Model requests started per server in the last minute.
    server_requests: RateWindow = field(default_factory=RateWindow)

    async def answer(
        self,
        request: AnswerRequest,
        sink: MessageSink,
        *,
        on_queued: Callable[[int], Awaitable[None]] | None = None,
    ) -> AnswerOutcome:
        """Answer `request` into `sink`: chit-chat gets a canned reply (no model, no search); each question
        of the message is searched on its own; a message with one question takes one route, one with
        several gets a saved answer for each confident question and the model (or staff) for the rest."""
        canned = canned_reply(request.question)
        if canned is not None:
            await sink.send(canned)
            return AnswerOutcome(Route.ANSWER, Decision(Route.ANSWER, None, "chit-chat"), [], canned, canned=True)
        llm_available = self.llm.health.available
        text, extra = request.question, request.search_texts
        if request.subject and text.startswith(f"{request.subject}\n"):
            text, extra = text[len(request.subject) + 1 :], [text, *extra]
        questions = await find_per_question(self.memory, request.guild_id, text, self.knowledge_k, extra=extra)
        decided = decide_each(questions, llm_available=llm_available, thresholds=self.thresholds)
        if len(decided) == 1:
            question, decision = decided[0]
            log.debug("Decision for guild %d: %s (%s)", request.guild_id, decision.route, one_line(decision.reason))
            return await self._answer_one(request, decision, question.matches, sink, on_queued)
        return await self._answer_each(request, decided, sink, on_queued, llm_available=llm_available)

    async def _answer_each(
        self,
        request: AnswerRequest,
        decided: list[tuple[QuestionMatches, Decision]],
        sink: MessageSink,
        on_queued: Callable[[int], Awaitable[None]] | None,
        *,
        llm_available: bool,
    ) -> AnswerOutcome:
        """Several questions: a saved answer under each confident one (quoted, so the user sees which
        question it answers), then one model turn (or the hand-off) for all the others together."""
        direct = [(q, d) for q, d in decided if d.route is Route.ANSWER and d.match is not None]
        # A question that confidently matched an entry already answered above is answered by it: handing
        # it on would end in "couldn't find a reliable answer" and a staff ping for a question answered.
        rest = [(q, d) for q, d in decided if (d.route is not Route.ANSWER or d.match is None) and not q.answered_above]
        texts = []
        for q, d in direct:
            assert d.match is not None
            texts.append((await self._send_trained(d, q.matches, sink, SAVED_NOTE, quote=q.question)).text)
        log.debug("Guild %d: %d questions, %d answered from memory", request.guild_id, len(decided), len(direct))
        if not rest:
            q, d = direct[0]
            return AnswerOutcome(Route.ANSWER, d, q.matches, "\n\n".join(texts))
        # The entries answered above are not notes for the rest: the model would answer those again.
        sent = {d.match.entry.id for _, d in direct if d.match is not None}
        matches = _merged([[m for m in q.matches if m.entry.id not in sent] for q, _ in rest], self.knowledge_k)
        _, first = rest[0]
        decision = Decision(first.route, matches[0] if matches else None, first.reason)
        if not llm_available or first.route is not Route.LLM:
            decision = decide(matches, llm_available=llm_available, thresholds=self.thresholds)
            if decision.route is Route.ANSWER:  # each question alone was not confident: neither is the mix
                decision = Decision(Route.STAFF, decision.match, "no question was confident on its own")
        # With some questions answered above, the model sees the others; with none, the whole message.
        asked = (
            replace(request, question="\n".join(q.question for q, _ in rest), search_texts=[]) if direct else request
        )
        outcome = await self._answer_one(asked, decision, matches, sink, on_queued, rest_of_message=bool(direct))
        outcome.text = "\n\n".join([*texts, outcome.text])
        return outcome

    async def _answer_one(
        self,
        request: AnswerRequest,
        decision: Decision,
        matches: list[Match],
        sink: MessageSink,
        on_queued: Callable[[int], Awaitable[None]] | None,
        *,
        rest_of_message: bool = False,
    ) -> AnswerOutcome:
        """One request (a message, or the questions of it no saved answer covered) on its decided route."""
        if decision.route is Route.ANSWER:
            return await self._send_trained(decision, matches, sink, SAVED_NOTE)
        what = "the rest of your message" if rest_of_message else "this"
        if decision.route is Route.LLM:
            if self.server_requests.try_add(request.guild_id, self.server_requests_per_minute):
                outcome, llm_error = await self._ask_llm(request, decision, matches, sink, on_queued, what)
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
            text = STAFF_TEXT.format(what=what, why=why)
            await sink.send(text)
            outcome = AnswerOutcome(Route.STAFF, decision, matches, text)
        outcome.llm_error = llm_error
        return outcome

    async def decide(
        self, guild_id: int, texts: list[str], *, llm_available: bool, k: int | None = None
    ) -> tuple[Decision, list[Match]]:
        """The route for a request (phrased as `texts`) and the matches it was decided on.

        The first step of every answer, and all that `python bot.py search` runs: both decide alike
        (for a message with several questions, this is the decision for the first one).
        """
        [first, *_] = await find_per_question(self.memory, guild_id, texts[0], k or self.knowledge_k, extra=texts[1:])
        return decide(first.matches, llm_available=llm_available, thresholds=self.thresholds), first.matches

    async def _send_trained(
        self, decision: Decision, matches: list[Match], sink: MessageSink, note: str, *, quote: str = ""
    ) -> AnswerOutcome:
        assert decision.match is not None
        text = append_note(neutralize_mentions(decision.match.entry.response), note)
        if quote:
            text = f"> {neutralize_mentions(unmask_links(' '.join(quote.split())))[:200]}\n{text}"
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
        what: str,
    ) -> tuple[AnswerOutcome | None, LLMError | None]:
        """The model's turn, through the guards (ai/reply.py). A reply the guards reject (the model was
        unsure, echoed its prompt, invented a link…) ends as the hand-off text and the STAFF route: staff
        tag, one ping, never the Answered tag. (None, error): nothing reached the user."""
        turn = ModelTurn(
            question=request.question,
            history=request.history,
            knowledge=[knowledge_item(m) for m in matches],
            server_name=request.server_name,
            user_name=request.user_name,
            category=request.category,
            system_prompt=self.system_prompt,
            max_chars=self.max_context_length,
            max_history=self.history_messages,
            form=request.form,
        )
        handoff = STAFF_TEXT.format(what=what, why="")
        checkable = self._checkable(decision, matches)
        try:
            reply = await answer_with_model(
                self.llm,
                turn,
                sink,
                # With a check to come, nothing is posted on a rejection yet (what was shown is blanked).
                rejected_text="" if checkable is not None else handoff,
                error_note=INTERRUPTED_NOTE,
                on_queued=on_queued,
                checked=self.checked,
            )
        except LLMError as exc:  # raised before anything was shown
            log.warning("LLM failed before answering: %s", exc)
            return None, exc
        if reply is None:  # no note is about this message: nothing for the model to answer from
            await sink.send(handoff)
            why = "no saved answer is about this message"
            return AnswerOutcome(Route.STAFF, Decision(Route.STAFF, decision.match, why), matches, handoff), None
        result: DeliveryResult = reply.delivery
        if result.guard is not None and result.guard.verdict is Verdict.UNSURE and result.error is None and checkable:
            outcome = await self._checked(request, checkable, matches, sink, result, handoff)
            outcome.model = reply
            return outcome, None
        if result.error is not None and not result.handles:
            log.warning("LLM gave no usable answer: %s", result.error)
            return None, result.error
        if result.rejected:
            assert result.guard is not None
            why = f"the model's reply was {result.guard.verdict}: {'; '.join(result.guard.reasons)}"
            log.info("Reply handed to staff (%s)", one_line(why))
            if checkable is not None:  # the hand-off was held back for a check that did not happen
                await _replace(sink, result.handles, handoff)
            staff = AnswerOutcome(Route.STAFF, Decision(Route.STAFF, decision.match, why), matches, handoff)
            staff.model = reply
            return staff, None
        if result.error is not None:
            log.warning("LLM stopped mid-answer: %s", result.error)
        outcome = AnswerOutcome(Route.LLM, decision, matches, "".join(result.parts))
        outcome.llm_error = result.error
        outcome.model = reply
        return outcome, None

    def _checkable(self, decision: Decision, matches: list[Match]) -> Match | None:
        """The best match, if an unsure model's verdict on it is worth checking (ai/check.py): near
        confident, about our product, trusted."""
        top = decision.match if decision.match is not None else (matches[0] if matches else None)
        if self.check_bar is None or not self.checked or top is None or top not in matches:
            return None
        if top.foreign or top.ruled_out or top.unfamiliar or top.entry.confidence < self.thresholds.min_confidence:
            return None
        others = [m for m in matches if m is not top]
        seen = evidence(top, others, self.thresholds)
        return top if seen.confidence >= self.check_bar else None

    async def _checked(
        self, request: AnswerRequest, top: Match, matches: list[Match], sink: MessageSink, result: DeliveryResult,
        handoff: str,
    ) -> AnswerOutcome:  # fmt: skip
        """The model was unsure: ask it whether the best saved answer fits; send that answer verbatim if so."""
        entry = top.entry
        fits = await saved_answer_fits(
            self.llm, server_name=request.server_name, question=entry.query, answer=entry.response,
            message=request.question,
        )  # fmt: skip
        if fits:
            text = append_note(neutralize_mentions(entry.response), SAVED_NOTE)
            await _replace(sink, result.handles, text)
            why = "the model was unsure; asked about the best saved answer alone, it said that answer fits"
            outcome = AnswerOutcome(Route.ANSWER, Decision(Route.ANSWER, top, why), matches, text)
        else:
            await _replace(sink, result.handles, handoff)
            why = "the model was unsure, and said the best saved answer does not fit"
            outcome = AnswerOutcome(Route.STAFF, Decision(Route.STAFF, top, why), matches, handoff)
        outcome.checked = fits
        log.info("Saved-answer check for entry %d: %s", entry.id, "fits" if fits else "does not fit")
        return outcome


async def _replace(sink: MessageSink, handles: list[Any], text: str) -> None:
    """Show `text` in the first message already posted (the others stay blanked), or post it."""
    parts = split_message(text)
    for index, part in enumerate(parts):
        if index < len(handles):
            await sink.edit(handles[index], part)
        else:
            await sink.send(part)


def knowledge_item(match: Match) -> KnowledgeItem:
    """A search result as a note for the model, with the search's evidence that it is off topic."""
    off_topic = [f"names {name}" for name in match.foreign] + [f"rules out {word}" for word in match.ruled_out]
    entry = match.entry
    return KnowledgeItem(entry.id, entry.query, entry.response, entry.category, match.score, "; ".join(off_topic))


def _merged(found: list[list[Match]], k: int) -> list[Match]:
    """Each entry once with its best score, best first."""
    best: dict[int, Match] = {}
    for matches in found:
        for match in matches:
            if match.entry.id not in best or match.score > best[match.entry.id].score:
                best[match.entry.id] = match
    return sorted(best.values(), key=lambda m: -m.score)[:k]


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
