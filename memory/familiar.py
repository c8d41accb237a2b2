"""Words a server's memory has never seen and English rarely uses: probably the name of something else.

memory/scope.py catches "what is the refund policy of steam" by a list of other products' names. A list
never has them all: "how do i get a refund from nike", "my robinhood account got hacked", "forgot my
turbotax password" got our refund, hacked-account and password answers on a fresh set of near misses
(bench/devsets/RESULTS.md, "Unfamiliar words"). What those names share is that no entry of the server
uses them and they are not everyday English. A message with such a word is not answered with a saved
answer directly (nor as the fallback): the model, which sees the notes and knows the world, or staff
decide. The notes still reach the model.

Everyday English is a word-frequency list (memory/data/common_words.txt), helped by what users write
that such a list lacks: a prefix or suffix on a common word ("unbanned", "relink", "laggy", "playable"),
chat and support shorthand ("wtf", "bday", "mfa"), and typos of a word the server uses ("pasword").
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache
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
def common_words() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_everyday(word: str) -> bool:
    """A common English word, shorthand, or one of those with a prefix or a suffix."""
    return _plain(word) or any(
        word.startswith(p) and len(word) - len(p) >= 3 and _plain(word[len(p) :]) for p in PREFIXES
    )


def _plain(word: str) -> bool:
    common = common_words()
    if word in common or word in SHORTHAND:
        return True
    for suffix in SUFFIXES:
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3:
            # "laggy" (lag), "bannable" (ban), "caching" (cache), "replies" (reply)
            doubled = len(base) > 3 and base[-1] == base[-2] and base[:-1] in common
            if base in common or doubled or base + "e" in common or (base.endswith("i") and base[:-1] + "y" in common):
                return True
    return False


def unfamiliar(text: str, known_roots: Collection[str]) -> tuple[str, ...]:
    """The words of `text` that the server's memory never uses (`known_roots`: memory.scope.root of every
    content word of every entry) and that are not everyday English, nor a typo of a word it uses."""
    found: list[str] = []
    for word in normalise(_ADDRESS.sub(" ", text)).split():
        if len(word) < 3 or not word.isalpha() or not word.isascii() or word in STOPWORDS:
            continue
        if root(word) in known_roots or is_everyday(word) or _typo_of(word, known_roots):
            continue
        found.append(word)
    return tuple(dict.fromkeys(found))


def _typo_of(word: str, known_roots: Collection[str]) -> bool:
    # One slip in a word of 5+ letters, two in one of 9+: "pasword", "recieve". Shorter words are left
    # alone: "nike" is one letter from "nice" and "bike".
    if len(word) < 5:
        return False
    limit = 1 if len(word) < 9 else 2
    for vocabulary in (known_roots, common_words()):
        if extractOne(word, vocabulary, scorer=Levenshtein.distance, score_cutoff=limit) is not None:
            return True
    return False
