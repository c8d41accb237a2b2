"""Everyday things and services a message is about that the matched entry is not: "charge my electric toothbrush".

memory/scope.py catches other products by name and memory/familiar.py by words no entry uses and English
rarely does. What got through both (bench/devsets/RESULTS.md, "Everyday things") names an everyday thing
or service: "how do i reset my router to factory settings" got a doorbell FAQ's factory reset, "how do i
add my vat number to my electricity bill" a hosting platform's VAT answer, "my fridge stopped working is it
still under warranty" the doorbell's warranty. Every word is everyday English; what gives them away is a
thing (an appliance, a vehicle, a bill, a bank, a gym) that the entry never mentions.

The things are a hand-written list by category (memory/data/everyday_things.txt). Most count against the
matched entry: the message names a toothbrush and the charging entry never does. A few are what people use
to reach a product (phone, laptop, tv, router, broadband): written as where the user is ("the game crashes
on my laptop", "from my phone"), they count only when no entry of the server mentions them; as what the
question is about ("how do i reset my router") they count against the entry like the others.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from memory.text import normalise

THINGS_FILE = Path(__file__).resolve().parent / "data" / "everyday_things.txt"

# A [device] thing is judged against the whole server, any other against the matched entry.
DEVICE = "device"
THING = "thing"

# First word -> (spelling as words, the thing's name), longest first.
_Table = dict[str, tuple[tuple[tuple[str, ...], str], ...]]


@cache
def _load() -> tuple[_Table, dict[str, str]]:
    """The lookup table and each thing's kind ([device] or [thing])."""
    by_first: dict[str, set[tuple[tuple[str, ...], str]]] = {}
    kinds: dict[str, str] = {}
    kind = THING
    for line in THINGS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            kind = line[1:-1].strip()
            continue
        spellings = [tuple(normalise(s).split()) for s in line.split(",")]
        spellings = [s for s in spellings if s]
        if not spellings:
            continue
        name = " ".join(spellings[0])
        kinds[name] = kind
        for words in spellings:
            by_first.setdefault(words[0], set()).add((words, name))
    table = {first: tuple(sorted(found, key=lambda s: len(s[0]), reverse=True)) for first, found in by_first.items()}
    return table, kinds


def kind_of(name: str) -> str:
    """DEVICE or THING (THING for a name not in the list)."""
    return _load()[1].get(name, THING)


@dataclass(frozen=True)
class Named:
    """The listed things a message names (each by its name, the first spelling of its line), and of
    those the [device] ones it names only as where the user is: "will it run on my laptop"."""

    things: frozenset[str] = frozenset()
    settings: frozenset[str] = frozenset()


NOTHING = Named()


def things_in(text: str) -> frozenset[str]:
    """The listed things `text` names."""
    return named_in(text).things


def named_in(text: str) -> Named:
    words = normalise(text).split()
    table = _load()[0]
    found: set[str] = set()
    subjects: set[str] = set()
    i = 0
    while i < len(words):
        hit = _match_at(words, i, table)
        if hit is None:
            i += 1
            continue
        size, name = hit
        found.add(name)
        if not (kind_of(name) == DEVICE and _setting(words, i)):
            subjects.add(name)
        i += size
    return Named(frozenset(found), frozenset(found - subjects)) if found else NOTHING


# "on my laptop", "from my phone", "using the pc": the device is where the user asks from, not what the
# question is about ("reset my router", "my phone doesnt ring").
_SETTING_PREPOSITIONS = frozenset({"on", "from", "with", "using", "via", "in", "through", "thru"})
_DETERMINERS = frozenset({"my", "our", "the", "a", "an", "his", "her", "their", "your", "this", "that"})


def _setting(words: list[str], i: int) -> bool:
    before = words[max(0, i - 3) : i]
    while (
        before
        and before[-1] not in _SETTING_PREPOSITIONS
        and (before[-1] in _DETERMINERS or before[-1] in ("new", "old", "home", "work", "own"))
    ):
        before.pop()
    return bool(before) and before[-1] in _SETTING_PREPOSITIONS


def _match_at(words: list[str], i: int, table: _Table) -> tuple[int, str] | None:
    """The longest spelling starting at word `i` (its last word may carry a plural "s") and its thing."""
    for first in _singulars(words[i]):
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
    # "toasters", "fridges", "batteries" is not needed: the list has no word ending in "y" with a plural.
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


def other_things(named: Named, entry_things: Collection[str], server_things: Collection[str]) -> tuple[str, ...]:
    """The things a message names that the matched entry does not (`entry_things`), sorted; a device named
    only as the setting ("on my laptop") only when no entry of the server names it (`server_things`)."""
    return tuple(
        sorted(t for t in named.things if t not in entry_things and (t not in named.settings or t not in server_things))
    )
