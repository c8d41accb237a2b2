"""Words a server's memory has never seen and English rarely uses: probably the name of something else.

memory/scope.py catches "what is the refund policy of steam" by a list of other products' names. A list
never has them all: "how do i get a refund from nike", "my robinhood account got hacked", "forgot my
turbotax password" got our refund, hacked-account and password answers on a fresh set of near misses
(bench/devsets/RESULTS.md, "Near misses the dev sets did not have"). What those names share is that no
entry of the server uses them and they are not everyday English. A message with such a word is not answered with a saved
answer directly (nor as the fallback): the model, which sees the notes and knows the world, or staff
decide. The notes still reach the model.

Everyday English is a word-frequency list (memory/data/common_words.txt), helped by what users write
that such a list lacks: a prefix or suffix on a common word ("unbanned", "relink", "laggy", "playable"),
chat and support shorthand ("wtf", "bday", "mfa"), and typos of a word the server uses ("pasword").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from pathlib import Path

from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import extractOne

from memory.scope import STOPWORDS, root
from memory.text import normalise

# A link, an e-mail address or a path names the user's own site or a file ("moving mysite.com to you"),
# not another product: its words are left out.
_ADDRESS = re.compile(r"\S*(?:@|/|\.[a-z]{2,}\b)\S*", re.IGNORECASE)
COMMON_FILE = Path(__file__).resolve().parent / "data" / "common_words.txt"

# What users of a support chat write that subtitles rarely say: chat shorthand, and the generic words of
# software, game and hardware support (never a product's name).
_SHORTHAND = """
    acc accs admin admins afaik afk aka asap bc bday bf bff brb btw cuz dept dm dms dunno esp fam fyi gf gg
    gonna gotta hmm idc idk ikr ily imo imho irl jk kinda lmk lol lmao mins msg msgs nvm omg omw pic pics pls
    plz ppl prob probs rn smh sry srsly tbh thx tho tmr tmrw ty ur wanna wtf wth ya yall yup
    api apis auth backend bios bugfix cpu config configs cpus dev devs dns dropdown ddos faq firmware frontend
    gpu gpus hdd hotfix https ip ips login logins logout mfa ok oauth os prod repo repos sdk ssd ssl sso ssh
    tls ui url urls usb ux vpn wifi
    bro dude pst est gmt utc cet popup popups signup signups checkout
    afk aimbot aimbots aimbotting buff buffs crosshair ctd dlc dlcs elo fov gamertag hitbox hud ign keybind
    keybinds lobby lobbies mmr mod mods modded noob nerf nerfed pve pvp respawn smurf ui vsync wallhack
    cert certs cli cname datacenter datacenters dkim env envs healthcheck healthchecks localhost org orgs
    runtime runtimes spf subdomain subdomains var vars webhook webhooks
    ethernet mesh nas poe
"""
SHORTHAND = frozenset(_SHORTHAND.split())
PREFIXES = ("un", "re", "co", "pre", "de", "dis", "non", "mis", "over", "under", "sub", "multi", "auto", "anti")
SUFFIXES = ("ability", "able", "ible", "ing", "ers", "er", "ed", "es", "s", "y", "ly", "ness", "less", "ful", "ment")


@cache
def _common_text() -> str:
    """The list as one newline-framed string: a lookup is a substring search of ~260 KB (microseconds), and
    the process keeps 0.3 MB instead of 4 MB for a set of 31,000 strings."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return "\n" + "\n".join(w for w in (line.strip() for line in lines) if w and not w.startswith("#")) + "\n"


def is_common(word: str) -> bool:
    return bool(word) and "\n" not in word and f"\n{word}\n" in _common_text()


# Every search (up to 12 per ticket message, one per question and window) asks about mostly the same
# words; a lookup in the list costs ~20 µs per form tried.
@lru_cache(maxsize=8192)
def is_everyday(word: str) -> bool:
    """A common English word, shorthand, or one of those with a prefix or a suffix."""
    return _plain(word) or any(
        word.startswith(p) and len(word) - len(p) >= 3 and _plain(word[len(p) :]) for p in PREFIXES
    )


def _plain(word: str) -> bool:
    if word in SHORTHAND or is_common(word):
        return True
    for suffix in SUFFIXES:
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3:
            # "laggy" (lag), "bannable" (ban), "caching" (cache), "replies" (reply)
            doubled = len(base) > 3 and base[-1] == base[-2] and is_common(base[:-1])
            replies = base.endswith("i") and is_common(base[:-1] + "y")
            if is_common(base) or doubled or is_common(base + "e") or replies:
                return True
    return False


class KnownWords:
    """The roots a server's entries use (memory.scope.root of their content words), counted per entry, and
    grouped by first letter and length so that a typo is looked up among a few hundred words, not all of
    them: a server with 100,000 entries knows ~150,000 roots, and a scan of them all cost ~40 ms per word."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._groups: dict[tuple[str, int], dict[str, int]] = {}
        self.add(words)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self._groups.get((word[:1], len(word)), ())

    def add(self, words: Iterable[str]) -> None:
        for word in words:
            group = self._groups.setdefault((word[:1], len(word)), {})
            group[word] = group.get(word, 0) + 1

    def remove(self, words: Iterable[str]) -> None:
        for word in words:
            group = self._groups.get((word[:1], len(word)))
            if group is None or word not in group:
                continue
            group[word] -= 1
            if group[word] <= 0:
                del group[word]

    def near(self, word: str, edits: int) -> bool:
        """A known word within `edits` edits of `word` that starts with the same letter (typos rarely hit it)."""
        return _near(word, edits, self._groups)


def _near(word: str, edits: int, groups: Mapping[tuple[str, int], Mapping[str, int] | str]) -> bool:
    for size in range(len(word) - edits, len(word) + edits + 1):
        group = groups.get((word[0], size))
        if not group:
            continue
        choices = group.split() if isinstance(group, str) else list(group)
        if extractOne(word, choices, scorer=Levenshtein.distance, score_cutoff=edits) is not None:
            return True
    return False


@cache
def _common_groups() -> dict[tuple[str, int], str]:
    # Each group as one string, split when a typo is looked up in it (rare): no 31,000 string objects kept.
    groups: dict[tuple[str, int], list[str]] = {}
    for word in _common_text().split():
        groups.setdefault((word[0], len(word)), []).append(word)
    return {key: " ".join(words) for key, words in groups.items()}


def prepare() -> None:
    """Read the word list now (~0.1 s, once per process): index loading calls it off the event loop, so the
    first ticket message does not pay for it."""
    _common_groups()


def unfamiliar(text: str, known: KnownWords) -> tuple[str, ...]:
    """The words of `text` that the server's memory never uses (`known`: the roots of its entries' words)
    and that are not everyday English, nor a typo of a word it uses or of an everyday one."""
    found: list[str] = []
    for word in normalise(_ADDRESS.sub(" ", text)).split():
        if len(word) < 3 or not word.isalpha() or not word.isascii() or word in STOPWORDS:
            continue
        if root(word) in known or is_everyday(word) or _typo_of(word, known):
            continue
        found.append(word)
    return tuple(dict.fromkeys(found))


def _typo_of(word: str, known: KnownWords) -> bool:
    # One slip in a word of 5+ letters, two in one of 9+: "pasword", "recieve". Shorter words are left
    # alone: "nike" is one letter from "nice" and "bike".
    if len(word) < 5:
        return False
    edits = 1 if len(word) < 9 else 2
    return known.near(word, edits) or _near(word, edits, _common_groups())
