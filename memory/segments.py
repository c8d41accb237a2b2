"""Long and multi-question messages: search each question on its own, not just the message's head.

A ticket can be a 3,000-character story with its question at the end, or two questions in one line
("Can I get a refund? Also, how do I reset my password?"). Searching the whole text finds at best
one topic, and only in the first `store.MAX_SEARCH_CHARS` characters. Here a message is split into
sentences and clauses; the questions among them (a question mark, or a question word first) are
searched one by one, each also together with the sentence before it (which often names the
thing asked about: "Retry does nothing. What does SF-2001 mean?"), all in one embedding request.

`find_per_question` returns the matches of every question, in message order, so that the answer
pipeline can send a direct answer for each confident one and let the LLM handle the rest. The
number of searched segments is bounded (MAX_SEGMENTS) whatever the message's length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from memory.decision import Decision, Route, Thresholds, decide
from memory.models import Match
from memory.store import MAX_SEARCH_CHARS, TrainedMemory

# Searched texts per message (the head, questions, questions with their context, other windows).
MAX_SEGMENTS = 12
# Questions answered separately per message; beyond this the rest is left to the LLM with the head.
MAX_QUESTIONS = 4
# Up to this length every clause of a message counts as a request of its own (see `segments`).
SHORT_MESSAGE_CHARS = 400
# A segment shorter than this (in letters and digits) says too little to search on its own.
MIN_SEGMENT_CHARS = 8

# Sentence ends, line breaks and list markers ("1)", "2.", "- ") start a new sentence.
_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+|(?:^|\s)(?=\d[.)]\s)|(?:^|\s)(?=[-*•]\s)")
# A second question inside one sentence: "... today? Also, how do I ..." is split by the question
# mark; "how do i add my domain and why is https not working" by the conjunction before a question word.
_QUESTION_WORDS = (
    "how|what|whats|why|where|wheres|when|which|who|can|could|is|are|do|does|did|will|would|should|any|there|whats|hows"
)
# "also" starts a new request only when what follows could start a sentence: a comma ("also, how"),
# a question word ("also where do i"), an auxiliary with its subject ("also can she", "also is there")
# or a subject ("also my controller doesnt work"). Followed by a verb it is inside one question
# ("does deleting the team also delete backups") and splitting there would search two meaningless halves.
_SUBJECT = r"i|im|ive|id|u|you|we|they|he|she|it|its|my|our|your|their|the|this|that|there|theres|someone|anyone"
# "do" is also a main verb ("does it also do the backups"): only a pronoun after it makes a question.
_AUXILIARY = (
    rf"(?:can|could|is|are|was|were|will|would|should|may)\s+(?:{_SUBJECT})"
    r"|do\s+(?:i|u|you|we|they)|does\s+(?:it|he|she|someone|anyone)|did\s+(?:i|u|you|we|they|he|she|it)"
)
_WH = r"how|hows|what|whats|why|where|wheres|when|which|who|any"
_NEW_AFTER_ALSO = rf"(?:[,:]|\s+(?:{_WH}|{_AUXILIARY}|{_SUBJECT})\b)"
# "and also" (or "but also") before a verb still splits: it adds a second request ("we want to invite 3 devs
# and also make them all use 2fa"), where a bare "also" before the verb sits inside the first.
# Blanks are matched possessively (`\s++`, a run taken whole): a user's run of thousands of spaces was otherwise tried
# from each of its spaces and split every way between the patterns' `\s` parts, seconds for one message.
_CLAUSE = re.compile(
    rf"[,;:]?(?<!\s)\s++(?:and|plus|but|&)(?:\s*+,)?\s++(?=(?:{_QUESTION_WORDS}|also)\b)", re.IGNORECASE
)
# After a comma or semicolon ("refund pls, also ...") "also" starts a new request whatever follows.
_ALSO = re.compile(rf"[,;]\s*+also[,:]?\s++(?=\w)|(?<!\s)\s++also(?={_NEW_AFTER_ALSO})[,:]?\s++(?=\w)", re.IGNORECASE)
_STARTS_AS_QUESTION = re.compile(
    rf"^\W*+(?:\d[.)]\s*+)?(?:so|and|also|but|ok|okay|pls|please)?[,:]?\s*+(?:{_QUESTION_WORDS})\b", re.I
)
# "So my actual question is: what does SF-2001 mean"
_ASKS_AFTER_COLON = re.compile(rf":\s*(?:{_QUESTION_WORDS})\b", re.IGNORECASE)
_MARKER = re.compile(r"^\s*(?:\d[.)]|[-*•])\s+")


@dataclass(frozen=True)
class Segment:
    text: str
    start: int  # character offset in the message
    question: bool


@dataclass
class QuestionMatches:
    """One question of a message and the entries found for it (best first)."""

    question: str
    start: int
    matches: list[Match] = field(default_factory=list)
    # Set by `decide_each`: this question confidently matched the entry whose answer was sent for an
    # earlier question of the message ("refund for item 0? refund for item 1?"), so that answer covers it.
    answered_above: bool = False


def sentences(text: str) -> list[Segment]:
    """The message's sentences and clauses with their offsets; questions marked."""
    found: list[Segment] = []
    for start, end in _spans(text, _SENTENCE, 0, len(text)):
        for c_start, c_end in _spans(text, _CLAUSE, start, end):
            for a_start, a_end in _spans(text, _ALSO, c_start, c_end):
                piece = text[a_start:a_end]
                stripped = piece.strip()
                if sum(ch.isalnum() for ch in stripped) < MIN_SEGMENT_CHARS:
                    continue
                offset = a_start + piece.index(stripped)
                body = _MARKER.sub("", stripped)
                question = stripped.endswith("?") or bool(
                    _STARTS_AS_QUESTION.match(body) or _ASKS_AFTER_COLON.search(body)
                )
                found.append(Segment(stripped, offset, question))
    return found


def _spans(text: str, pattern: re.Pattern[str], start: int, end: int) -> list[tuple[int, int]]:
    spans, last = [], start
    for m in pattern.finditer(text, start, end):
        if m.start() > last:
            spans.append((last, m.start()))
        last = max(last, m.end())
    if last < end:
        spans.append((last, end))
    return spans


def segments(text: str) -> tuple[list[Segment], list[Segment]]:
    """(questions, texts to search), both bounded: the questions (the last MAX_QUESTIONS when there are
    more: a long message ends with what it asks), and what is searched for them — the head of the
    message as today, each question alone and with the sentence before it, then two-sentence windows
    from the end — at most MAX_SEGMENTS, without duplicates."""
    parts = sentences(text)
    head = Segment(text.strip()[:MAX_SEARCH_CHARS], 0, False)
    if len(parts) <= 1:
        return [Segment(head.text, 0, True)], [head]
    # In a short message every clause is a request ("game crashes on startup. also when is maintenance");
    # in a long one only what asks is, and without a question mark its last two sentences.
    if len(text) <= SHORT_MESSAGE_CHARS:
        questions = parts[-MAX_QUESTIONS:]
    else:
        questions = [p for p in parts if p.question][-MAX_QUESTIONS:] or [_window(text, *parts[-2:])]
    searched: dict[str, Segment] = {head.text: head}

    def add(segment: Segment) -> None:
        if len(searched) < MAX_SEGMENTS and segment.text not in searched:
            searched[segment.text] = segment

    for q in questions:
        add(q)
    for q in questions:
        i = parts.index(q) if q in parts else 0
        if i > 0:
            add(_window(text, parts[i - 1], q))
    for i in range(len(parts) - 1, 0, -1):
        add(_window(text, parts[i - 1], parts[i]))
    return questions, list(searched.values())


def _window(text: str, first: Segment, last: Segment) -> Segment:
    return Segment(text[first.start : last.start + len(last.text)], first.start, last.question)


async def find_per_question(
    memory: TrainedMemory, guild_id: int, text: str, k: int = 5, *, extra: Sequence[str] = ()
) -> list[QuestionMatches]:
    """The best `k` entries for each question of `text`, in message order (one embedding request).

    A question's matches merge what was found for the question alone and with the sentence before it
    (each entry once, with its best score). A message without a recognisable question is one question:
    its head, as `find_similar` searches it. The whole message's best matches are those of its head.
    `extra` are other phrasings of a message that is one question (a ticket's subject and description):
    searched in the same request and merged into that question's matches; ignored when it asks several."""
    questions, searched = segments(text)
    texts = [s.text for s in searched]
    results = await memory.find_similar_each(guild_id, [*texts, *extra], k)
    by_text = dict(zip(texts, results, strict=False))
    answer: list[QuestionMatches] = []
    for q in questions:
        found = [
            by_text[s.text]
            for s in searched
            # The question itself, a window ending with it, and (for a lone question) the head.
            if s.text == q.text
            or (s.start < q.start and s.start + len(s.text) == q.start + len(q.text))
            or (len(questions) == 1 and s.start == 0 and not s.question)
        ]
        if len(questions) == 1:
            found += results[len(texts) :]
        answer.append(QuestionMatches(q.text, q.start, _merge(found, k)))
    return answer


def _merge(found: list[list[Match]], k: int) -> list[Match]:
    best: dict[int, Match] = {}
    for matches in found:
        for match in matches:
            current = best.get(match.entry.id)
            if current is None or match.score > current.score:
                best[match.entry.id] = match
    return sorted(best.values(), key=lambda m: (-m.score, m.entry.id))[:k]


def decide_each(
    questions: list[QuestionMatches], *, llm_available: bool, thresholds: Thresholds
) -> list[tuple[QuestionMatches, Decision]]:
    """memory.decision.decide for every question of a message, in order: the pipeline sends a saved
    answer for each ANSWER and lets the LLM (or staff) handle the rest together. An entry already
    answered for an earlier question is not sent twice: that question joins the rest, marked
    `answered_above` (the pipeline does not hand it on when the answer sent covers it)."""
    sent: set[int] = set()
    decided = []
    for q in questions:
        decision = decide(q.matches, llm_available=llm_available, thresholds=thresholds)
        match = decision.match
        if decision.route is Route.ANSWER and match is not None:
            if match.entry.id in sent:
                route = Route.LLM if llm_available else Route.STAFF
                decision = Decision(route, match, f"entry {match.entry.id} answered above")
                q = replace(q, answered_above=True)
            sent.add(match.entry.id)
        decided.append((q, decision))
    return decided
