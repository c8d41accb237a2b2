"""Everyday things and services a message is about that the matched entry is not: "charge my electric toothbrush".

memory/scope.py catches other products by name and memory/familiar.py by words no entry uses and English
rarely does. What got through both (bench/devsets/RESULTS.md, "Everyday things") names an everyday thing
or service: "how do i reset my router to factory settings" got a doorbell FAQ's factory reset, "how do i
add my vat number to my electricity bill" a hosting platform's VAT answer, "my fridge stopped working is it
still under warranty" the doorbell's warranty. Every word is everyday English; what gives them away is a
thing (an appliance, a device, a vehicle, a bill, a bank, a gym) that the entry never mentions.

The things are a hand-written list by category (memory/data/everyday_things.txt). A thing counts against
the matched entry alone: "router" in the doorbell's Wi-Fi entry does not make "reset my router" a question
for its factory-reset entry. Only a thing that many entries name (SERVER_SUBJECT_ENTRIES) is the server's
own subject and never counts: a bank's FAQ names "bank" everywhere, a game's names "pc".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from functools import cache
from pathlib import Path

from memory.text import normalise

THINGS_FILE = Path(__file__).resolve().parent / "data" / "everyday_things.txt"

# A thing that this many entries of the server name is what the server is about, not another thing: a bank's
# FAQ names "bank" in entry after entry, and "what is my bank's routing number" is its own question.
SERVER_SUBJECT_ENTRIES = 5

# First word -> (spelling as words, the thing's name), longest first.
_Table = dict[str, tuple[tuple[tuple[str, ...], str], ...]]


@cache
def _table() -> _Table:
    by_first: dict[str, set[tuple[tuple[str, ...], str]]] = {}
    for line in THINGS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        spellings = [words for words in (tuple(normalise(s).split()) for s in line.split(",")) if words]
        if not spellings:
            continue
        name = " ".join(spellings[0])
        for words in spellings:
            by_first.setdefault(words[0], set()).add((words, name))
    return {first: tuple(sorted(found, key=lambda s: len(s[0]), reverse=True)) for first, found in by_first.items()}


def things_in(text: str, *, normalised: bool = False) -> frozenset[str]:
    """The listed things `text` names, each by its name (the first spelling of its line)."""
    words = (text if normalised else normalise(text)).split()
    table = _table()
    found: set[str] = set()
    i = 0
    while i < len(words):
        hit = _match_at(words, i, table)
        if hit is None:
            i += 1
            continue
        size, name = hit
        found.add(name)
        i += size
    return frozenset(found)


def _match_at(words: list[str], i: int, table: _Table) -> tuple[int, str] | None:
    """The longest spelling starting at word `i` (its last word may carry a plural "s") and its thing."""
    word = words[i]
    if word not in table and not word.endswith("s"):
        return None  # most words: one dict lookup
    for first in _singulars(word):
        for spelling, name in table.get(first, ()):
            end = i + len(spelling)
            if end > len(words):
                continue
            if len(spelling) == 1 or (
                list(spelling[1:-1]) == words[i + 1 : end - 1] and spelling[-1] in _singulars(words[end - 1])
            ):
                return len(spelling), name
    return None


def _singulars(word: str) -> tuple[str, ...]:
    """The word and the singulars it may stand for: "fridges" -> fridge, "boxes" -> box."""
    if len(word) > 3 and word.endswith("es"):
        return (word, word[:-1], word[:-2])
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return (word, word[:-1])
    return (word,)


def mentioned(texts: Iterable[str]) -> frozenset[str]:
    """Every listed thing that an entry's texts (question, alternates, answer) name."""
    found: set[str] = set()
    for text in texts:
        found |= things_in(text)
    return frozenset(found)


def other_things(
    message_things: Collection[str], entry_things: Collection[str], server_things: Mapping[str, int]
) -> tuple[str, ...]:
    """The things a message names that the matched entry does not (`entry_things`), sorted, leaving out the
    server's own subjects (`server_things`: thing -> how many entries name it)."""
    return tuple(
        sorted(t for t in message_things if t not in entry_things and server_things.get(t, 0) < SERVER_SUBJECT_ENTRIES)
    )
