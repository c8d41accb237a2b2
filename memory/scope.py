"""Is a message about our product at all? Names of other products and services in it.

"What is the refund policy of steam" shares every word but one with our refund question, and the
embedding agrees with the wording (the baseline in bench/devsets/BASELINE.md: near misses about
other products score *higher* than real users' messages). No score bar separates them; what does is
that the message names something (a store, platform, service, other game, a gym) that our entry
never mentions. Such a message may still be ours ("i paid with paypal and got nothing" when the
entry mentions PayPal), so a name only counts against an entry whose texts do not contain it.

The names are a curated list (memory/data/other_names.txt, several thousand: stores, operating
systems, consoles, games, social networks, streaming, AI, cloud, payments, banks, carriers,
travel, fitness, hardware, everyday services). It leaves out what a product's own users name
while asking about it: card networks, GPUs, routers, identity providers, dev tools, integrations.
Matching is on `normalise`d words, so case, punctuation and a possessive or plural "s" do not matter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from memory.text import normalise, stem

log = logging.getLogger(__name__)

NAMES_FILE = Path(__file__).resolve().parent / "data" / "other_names.txt"


@cache
def _names() -> dict[str, tuple[tuple[str, ...], ...]]:
    """First word -> every listed name (as a word tuple) that starts with it, longest first."""
    by_first: dict[str, set[tuple[str, ...]]] = {}
    for line in NAMES_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = tuple(normalise(line).split())
        if words:
            by_first.setdefault(words[0], set()).add(words)
    return {first: tuple(sorted(names, key=len, reverse=True)) for first, names in by_first.items()}


def names_in(text: str, *, normalised: bool = False) -> frozenset[str]:
    """The listed names that `text` mentions (each as its normalised words joined by a space)."""
    words = (text if normalised else normalise(text)).split()
    found: set[str] = set()
    table = _names()
    i = 0
    while i < len(words):
        hit = _match_at(words, i, table)
        if hit is None:
            i += 1
            continue
        found.add(" ".join(hit))
        i += len(hit)
    return frozenset(found)


def _match_at(words: list[str], i: int, table: dict[str, tuple[tuple[str, ...], ...]]) -> tuple[str, ...] | None:
    """The longest listed name starting at word `i`; its last word may carry a plural or possessive "s"."""
    for name in table.get(words[i], ()):
        end = i + len(name)
        inner = end <= len(words) and list(name[1:-1]) == words[i + 1 : end - 1]
        if inner and (len(name) == 1 or name[-1] in _spellings(words[end - 1])):
            return name
    for spelling in _spellings(words[i])[1:]:
        if (spelling,) in table.get(spelling, ()):
            return (spelling,)
    return None


def _spellings(word: str) -> tuple[str, ...]:
    """The word itself and, for "steams" (from "steam's") or "xboxes", the name it may stand for."""
    if len(word) > 3 and word.endswith("s"):
        return (word, word[:-1]) if not word.endswith("es") else (word, word[:-1], word[:-2])
    return (word,)


# The platform the bot itself runs on. Answers name it all the time ("ask in our Discord's #help"), so
# an answer that mentions it says nothing about whether the entry is about Discord itself ("how do i
# contact discord support"): only an entry's questions count for it.
HOST_PLATFORMS = frozenset({"discord"})


def mentioned(texts: Iterable[str], answer: str = "") -> frozenset[str]:
    """Every listed name that an entry's questions (`texts`) or its `answer` mention (in the answer,
    the host platform does not count)."""
    found: set[str] = set()
    for text in texts:
        found |= names_in(text)
    found |= {n for n in names_in(answer) if n.split()[0] not in HOST_PLATFORMS}
    return frozenset(part for name in found for part in _parts(name))


def _parts(name: str) -> set[str]:
    """The name and every listed name inside it: an entry that says "Apple CarPlay" (matched whole,
    as the longest listed name) also mentions "carplay", which a user writes alone."""
    words = name.split()
    table = _names()
    return {name} | {
        " ".join(words[i:j])
        for i in range(len(words))
        for j in range(i + 1, len(words) + 1)
        if tuple(words[i:j]) in table.get(words[i], ())
    }


def foreign_names(message_names: frozenset[str], entry_names: frozenset[str]) -> tuple[str, ...]:
    """Names the message mentions and the entry does not, sorted (empty when the message is ours)."""
    return tuple(sorted(n for n in message_names if n not in entry_names and not _covered(n, entry_names)))


def _covered(name: str, entry_names: frozenset[str]) -> bool:
    # The entry names "xbox series x" and the user writes "xbox": the entry covers it, and the other
    # way round ("playstation store" in the message, "playstation" in the entry). Spacing does not count
    # either: the list has "uber eats" and "ubereats" as two spellings of one name.
    squashed = name.replace(" ", "")
    return any(
        other.startswith(name + " ") or name.startswith(other + " ") or other.replace(" ", "") == squashed
        for other in entry_names
    )


# Words that say nothing about what a message is about: function words, fillers and chat words.
# `coverage` counts the others ("content words") that an entry's texts contain.
_STOPWORDS = (
    "a an the and or but if then so to of in on at for with from by about as into over after before under up "
    "down out off is are was were be been being am do does did doing done have has had having i me my mine we "
    "us our ours you your yours he him his she her hers it its they them their theirs this that these those "
    "there here what which who whom whose when where why how can could would should will shall may might must "
    "not no nor dont cant wont didnt doesnt isnt arent wasnt werent havent hasnt couldnt wouldnt shouldnt im "
    "ive id ill youre thats whats hows wheres theres pls please plz hi hey hello yo thanks thank thx ty u ur "
    "r ya yeah yes ok okay just also too very really still even any some all every each much many more most "
    "other another such own same than only again once get gets got getting go goes going gone went make makes "
    "made know want wants need needs like one way thing things something anything nothing someone anyone "
    "somebody anybody help tell give see let lol lmao idk tho though guys anyway everything everyone "
    "everybody it its all now"
)
STOPWORDS = frozenset(_STOPWORDS.split())


# "game lags but my ping is fine", "discord works fine", "not a wifi problem": the user rules a topic out.
_FINE = r"(?:fine|ok|okay|good|normal|stable)"
_RULED_OUT = (
    re.compile(rf"\b(\w+) (?:is|are|seems|seem|looks|look|was|were) (?:totally |perfectly |completely )?{_FINE}\b"),
    re.compile(rf"\b(\w+) works? (?:perfectly |totally )?(?:{_FINE}|normally|perfectly)\b"),
    re.compile(r"\bnot (?:a |an |the |my )?(\w+) (?:issue|problem)\b"),
    re.compile(r"\bno (\w+) (?:issues?|problems?)\b"),
)


def ruled_out(text: str) -> frozenset[str]:
    """Roots of the words the message says are not the problem ("my ping is fine" -> ping)."""
    norm = normalise(text)
    return frozenset(
        root(m.group(1)) for pattern in _RULED_OUT for m in pattern.finditer(norm) if m.group(1) not in STOPWORDS
    )


def content_words(text: str) -> list[str]:
    """The message's words that carry its topic, reduced to a root (numbers and one-letter words left out)."""
    return [root(w) for w in normalise(text).split() if w not in STOPWORDS and len(w) > 1 and not w.isdigit()]


def root(word: str) -> str:
    """A crude root that joins the forms users and staff write: bundles/bundle, charged/charge,
    replies/reply, refunding/refund (memory.text.stem, then a final "e" dropped)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    base = stem(word)
    return base[:-1] if len(base) > 3 and base.endswith("e") else base


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """Every content word of `texts` (an entry's question, alternates and answer)."""
    return frozenset(w for text in texts for w in content_words(text))


def coverage(words: list[str], vocab: frozenset[str]) -> float:
    """Share of `words` (a message's content words) that `vocab` contains; 0 for a message without any."""
    return sum(w in vocab for w in words) / len(words) if words else 0.0
