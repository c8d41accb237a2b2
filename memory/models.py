"""Typed results of the trained memory, and the embedder it depends on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from memory.text import visible_text

MAX_QUERY_CHARS = 300
MAX_RESPONSE_CHARS = 1900


@dataclass(slots=True)  # a guild's index holds every entry: no __dict__ each
class Entry:
    id: int
    guild_id: int
    query: str
    response: str
    category: str
    alternates: list[str]
    created_by: int | None
    created_at: str
    updated_at: str
    usage_count: int
    confidence: float
    # Phrasings the model proposed (memory/generated.py), kept apart from staff's `alternates`.
    generated: list[str] = field(default_factory=list)


@dataclass
class Match:
    """One trained entry found for a question, ranked by its best phrasing and its answer.

    `score` (0..1) is what ranking and the decision use; `lexical`/`semantic` are the
    separate signals of that phrasing (`semantic` is None when no vectors were usable), and
    `answer_semantic` the cosine of the question with the entry's answer (None when either is
    not embedded). The evidence of memory/scope.py: `coverage` is the share of the question's
    content words found in the entry's texts; `foreign` the other products or services the
    question names and the entry does not ("refund policy of steam" against our refund entry);
    `ruled_out` the words of the entry's question the user says are not the problem ("my ping is fine");
    `unfamiliar` the words no entry of the guild uses and everyday English does not either, probably another
    product's name ("refund from nike"; memory/familiar.py); `other_things` the everyday things or services the
    question names and the entry does not ("charge my electric toothbrush" against the doorbell's charging
    entry; memory/things.py).
    `siblings` is how many other entries of the guild give the same answer; `crowding` how close the
    guild's questions with different answers are to each other (GuildIndex.crowding; None without vectors).
    `weak_embeddings`: the embedding model barely tells paraphrases from unrelated questions (memory/scale.py),
    so its scores cannot make a saved answer safe to send.
    """

    entry: Entry
    score: float
    lexical: float | None
    semantic: float | None
    phrasing: str
    answer_semantic: float | None = None
    coverage: float = 0.0
    foreign: tuple[str, ...] = ()
    ruled_out: tuple[str, ...] = ()
    unfamiliar: tuple[str, ...] = ()
    other_things: tuple[str, ...] = ()
    siblings: int = 0
    crowding: float | None = None
    weak_embeddings: bool = False


@dataclass
class Suggestion:
    id: int
    guild_id: int
    kind: str  # "qa" (a new pair) or "alternate" (another phrasing of entry_id)
    entry_id: int | None
    ticket_id: int | None
    query: str
    response: str | None
    category: str | None
    status: str
    created_at: str
    decided_by: int | None = None
    decided_at: str | None = None


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors; raises ai.errors.LLMError (any subclass) when unavailable."""

    model: str

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


def validate_pair(query: str | None, response: str | None) -> None:
    """Raise ValueError naming the field when a question or answer is empty or too long.

    Text without a visible character (zero-width spaces, control characters, blanks) is empty; the
    length counted is that of the visible text, which is what gets stored."""
    if query is not None:
        _check_length("question", query, MAX_QUERY_CHARS)
    if response is not None:
        _check_length("answer", response, MAX_RESPONSE_CHARS)


def _check_length(what: str, text: str, limit: int) -> None:
    if not text.strip():
        raise ValueError(f"{what} is empty")
    text = visible_text(text)
    if not text:
        raise ValueError(f"{what} is empty: it has no visible characters")
    if len(text) > limit:
        raise ValueError(f"{what} is {len(text)} characters long; the limit is {limit}")
