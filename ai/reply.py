"""One model turn of the answer pipeline: notes → prompt → stream → guards → what the user sees.

`answer_with_model` is what the pipeline's LLM route calls (tickets/answering.py), and what
bench/answers.py measures. It returns None when no note is worth showing the model (no notes above
the floor, or only off-topic ones): the caller hands the ticket to staff without asking the model.
Otherwise the reply is streamed through a `StreamGuard`; if the guard rejects it (the model was
unsure, or a check failed) the user sees `rejected_text` instead and `result.rejected` is true:
the caller takes the staff route (status tag and one staff ping), never an "answered" one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from ai.delivery import DEFAULT_ERROR_NOTE, DeliveryResult, MessageSink, deliver_stream
from ai.guards import StreamGuard
from ai.prompt import KnowledgeItem, Turn, build_prompt, instructions, select_knowledge
from ai.types import ChatModel, OnQueued

log = logging.getLogger(__name__)


@dataclass
class ModelTurn:
    question: str
    history: list[Turn]
    knowledge: Sequence[KnowledgeItem]  # search results, best first (select_knowledge picks the notes)
    server_name: str
    user_name: str
    category: str
    system_prompt: str | None = None
    max_chars: int = 6000
    max_history: int = 16
    form: list[tuple[str, str]] = field(default_factory=list)  # the ticket form's other answers (data)


@dataclass
class ModelReply:
    notes: list[KnowledgeItem]
    delivery: DeliveryResult

    @property
    def rejected(self) -> bool:
        return self.delivery.rejected


async def answer_with_model(
    llm: ChatModel,
    turn: ModelTurn,
    sink: MessageSink,
    *,
    rejected_text: str,
    error_note: str = DEFAULT_ERROR_NOTE,
    on_queued: OnQueued | None = None,
    edit_interval: float = 1.0,
    checked: bool = True,
) -> ModelReply | None:
    """Ask the model with the best notes and show its reply only as far as the guards allow.

    None: no notes, the model was not asked. `checked=False` (ANSWER_CHECKS=false) asks the model with
    every note it is given, even none, and shows its reply unchecked, as it streams. Never raises
    LLMError: a failure is in ``delivery.error`` (with nothing shown when ``delivery.handles`` is empty).
    """
    notes = select_knowledge(turn.knowledge) if checked else list(turn.knowledge)
    if not notes and checked:
        log.debug("no notes above the floor for %r: not asking the model", turn.question[:80])
        return None
    messages = build_prompt(
        question=turn.question,
        history=turn.history,
        knowledge=notes,
        server_name=turn.server_name,
        user_name=turn.user_name,
        category=turn.category,
        system_prompt=turn.system_prompt,
        max_chars=turn.max_chars,
        max_history=turn.max_history,
        num_ctx=llm.settings.num_ctx,
        form=turn.form,
    )
    guard = (
        None
        if not checked
        else StreamGuard(
            notes,
            turn.question,
            # What people in the ticket wrote may be repeated: a link from the form is not invented. Not the
            # bot's own earlier replies: asked again, the model gives the note's answer again, and against
            # its last answer that read as taking nothing from the notes ("only repeats the question").
            [t.content for t in turn.history if t.role != "bot"] + [answer for _, answer in turn.form],
            # But only an address staff or the bot wrote (or a note holds) is passed on as an answer's fact.
            vouched=[t.content for t in turn.history if t.role != "user"],
            instructions=instructions(turn.server_name, turn.category, turn.system_prompt),
        )
    )
    delivery = await deliver_stream(
        llm.chat_stream(messages, on_queued=on_queued),
        sink,
        edit_interval=edit_interval,
        error_note=error_note,
        guard=guard,
        rejected_text=rejected_text,
    )
    return ModelReply(notes, delivery)
