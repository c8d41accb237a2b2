"""Checks on everything the model says, before a user sees it (pure, no I/O).

`guard_reply` turns the model's raw reply into a `GuardResult`: the text that may be shown and a
verdict. Only ANSWERED replies are shown as answers; UNSURE and FAILED go to the staff route.

- UNSURE: the model said so (the reply starts with the UNSURE marker, see ai/prompt.py, or does
  not start with the ANSWER marker: measured, unmarked replies were mostly answers to questions
  about other products, see bench/answers.py), or it declined in its own words, or what it wrote is
  not grounded in the notes it was given (most of its words come from neither the notes nor the
  conversation: it answered from its own "knowledge", which for a small model means inventing), or
  it took fewer than three words from the notes ("Yes, that's allowed."), or it took its facts from a
  note that has nothing to do with the message.
- FAILED: the reply is broken in a way that must never reach a user: it shows our prompt (notes,
  labels, instructions, delimiter tags), has links, e-mail addresses, slash commands, menu paths or
  commands that appear in neither the notes nor the conversation, only repeats the question, or is
  empty once `<think>` blocks are removed.

Invented references send the reply to staff rather than being cut out: measured with Qwen2.5 0.5B
(bench/answers.py), a reply with an invented link was wrong in every case we read, so a cleaned-up
remainder would still be wrong. `StreamGuard` applies the same checks to a reply while it streams,
holding back a short tail so a marker, an echo or a half-written link never flashes on screen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from ai.prompt import ANSWER_MARKER, UNSURE_MARKER, KnowledgeItem
from ai.think import strip_think, thinking_open


class Verdict(StrEnum):
    ANSWERED = "answered"
    UNSURE = "unsure"
    FAILED = "failed"


@dataclass(frozen=True)
class GuardResult:
    text: str  # what may be shown: the cleaned reply when ANSWERED, else ""
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    source: int | None = None  # index in the knowledge of the note the reply draws on
    raw: str = field(default="", repr=False)

    @property
    def answered(self) -> bool:
        return self.verdict is Verdict.ANSWERED


# -- markers ------------------------------------------------------------------------------

# Tolerant: small models add bold, change case or put a space before the colon.
_MARKER = re.compile(
    rf"^[*_`#>\s]*+(?P<word>{ANSWER_MARKER}|{UNSURE_MARKER})\b[*_`\s]*:?[*_`]*[ \t]*\n?", re.IGNORECASE
)


def split_marker(text: str) -> tuple[str | None, str]:
    """("answer" | "unsure" | None, the reply without the marker)."""
    m = _MARKER.match(text)
    if m is None:
        return None, text.strip()
    word = m.group("word").upper()
    return ("answer" if word == ANSWER_MARKER else "unsure"), text[m.end() :].strip()


def marker_undecided(text: str) -> bool:
    """True while `text` (the start of a streamed reply) could still become a marker."""
    stripped = re.sub(r"^[\s*_`#>]+", "", text).upper()
    if not stripped:
        return True
    return any(m.startswith(stripped) and m != stripped for m in (ANSWER_MARKER, UNSURE_MARKER))


# -- words -----------------------------------------------------------------------------


def _wordlist(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORD = re.compile(r"[^\W_](?:[\w'’.-]*[^\W_])?")
_STOP = _wordlist(
    """a an the and or but if then so to of in on at by for with from as is are was were be been being am
    do does did done doing have has had having i me my mine you your yours we us our they them their he she
    it its this that these those there here what which who whom whose when where why how can could will
    would should shall may might must not no yes dont don't doesn't didn't can't cannot won't isn't aren't
    it's im i'm you're we're they're that's there's what's let's just also only very really too more most
    some any all each every other another such than about into over under again out up down off just
    please thanks thank hi hello hey ok okay sure one get got go going make made use used using want need
    like know see way still even after before while because both either neither nor per via etc new"""
)


def _stem(word: str) -> str:
    word = word.casefold().replace("’", "'").removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=64)  # the conversation and the notes are the same for every piece of a streamed reply
def content_words(text: str) -> frozenset[str]:
    """Stems of the words that carry meaning (no stop words, no single letters)."""
    words = (w.strip(".'-") for w in _WORD.findall(text))
    return frozenset(_stem(w) for w in words if len(w) > 1 and w.casefold() not in _STOP)


# -- references: links, e-mails, slash commands, menu paths, commands --------------------

_TLDS = (
    "com|io|app|org|net|dev|gg|co|de|uk|eu|fr|me|tv|ai|us|info|xyz|ly|to|so|sh|cc|ca|au|jp|ru|nl|es|it|pl"
    "|br|in|ch|se|no|fi|be|at|cz|gov|edu|site|online|store|tech|cloud|page|link|live|games|help|support"
    # What scam links in gaming and support servers end in ("steamcommunity.gift", "free-nitro.shop").
    "|shop|gift|gifts|top|click|zip|mov|lol|icu|biz|cn|su|pw|fun|vip|win|buzz|cam|club|pro|life|world|today"
    "|space|website|fyi|nz|kr|tw|hk|sg|tr|ua|mx|ar|cl|pt|gr|dk|hu|ro|sk|ie|il|za|ae|fm|ws|gl|lt|lv|ee|bz|cx|nu"
    "|tk|ml|ga|cf|gq|pk|ke|bd|lk|th|vn|ph|kz"
)
_LINK = re.compile(
    rf"(?:\bhttps?://[^\s<>()\[\]`*\"']+|\bwww\.[^\s<>()\[\]`*\"']+|"
    # Labels take letters of any script: with ASCII only, "support.stаrfallodyssey.com" (a Cyrillic а) matched
    # as "rfallodyssey.com", a part of the real name, and passed as known.
    # Bounded (a DNS label is at most 63 characters): unbounded, "a.a.a.…" tried every label to its end from every
    # start, 0.5 s for one 2,000-character message.
    rf"(?<![\w-])(?:[\w-]{{1,63}}+\.){{1,10}}(?:{_TLDS})\b(?:/[^\s<>()\[\]`*\"',;]*)?)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,10}\b")
# Other schemes: javascript:/data: links a masked link can carry, steam:// or file:// addresses.
_SCHEME = re.compile(
    r"\b(?:javascript|vbscript|data|file|blob):[^\s<>]+|\b(?!https?://)[a-z][a-z0-9+.-]{1,30}://[^\s<>()\[\]`*\"']+",
    re.IGNORECASE,
)
# Characters that show nothing: "starfa11-gift\u200b.com" reads as the address it spells, and is judged as it.
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\U000e0000-\U000e007f]"
)
# Addresses written so that no filter sees them: "refunds at starfa11 dot com", "starfa11[.]com/gift",
# "help(at)example(dot)io", "starfa11．com". A user who wants the bot to vouch for one writes it like that.
_BLANK = r"[^\S\n]"
_OBF_DOT = (
    rf"{_BLANK}*+[(\[{{]{_BLANK}*+(?:dot|\.){_BLANK}*+[)\]}}]{_BLANK}*+|{_BLANK}++dot{_BLANK}++"
    rf"|{_BLANK}*+[．。｡․]{_BLANK}*+"
)
_OBF_AT = rf"{_BLANK}*+[(\[{{]{_BLANK}*+(?:at|@){_BLANK}*+[)\]}}]{_BLANK}*+|{_BLANK}*+＠{_BLANK}*+"
_SPELLED_AT = rf"{_BLANK}++at{_BLANK}++"
_OBFUSCATED = re.compile(
    # Starts only where a word starts, labels bounded and taken whole: linear in any text.
    rf"(?<![\w.+-])(?:[\w.+-]{{1,64}}+(?:{_OBF_AT}|{_SPELLED_AT}|@))?"
    rf"(?:[\w-]{{1,63}}+(?:{_OBF_DOT}|\.)){{1,10}}(?:{_TLDS})\b(?:/[^\s<>()\[\]`*\"',;]*)?",
    re.IGNORECASE,
)
_OBF_DOT_RE = re.compile(_OBF_DOT, re.IGNORECASE)
_OBF_AT_RE = re.compile(_OBF_AT, re.IGNORECASE)
_SPELLED_AT_RE = re.compile(_SPELLED_AT, re.IGNORECASE)
_SLASH = re.compile(r"(?<![\w/.:~-])/[a-z][a-z0-9_-]{1,}\b", re.IGNORECASE)
_STEP = r"[^\W\d_][\w&'’ -]{0,30}"
_MENU = re.compile(rf"{_STEP}(?:[ \t]*(?:→|->|=>|»|›|>)[ \t]*{_STEP})+(?=$|[\s.,;:!?)*_`])", re.MULTILINE)
_ARROWS = re.compile(r"(?<!\s)\s*+(?:→|->|=>|»|›|>)\s*+")  # from a run's first blank: linear in long runs
_CODE = re.compile(r"```[^\n]*\n(.*?)(?:```|$)|`([^`\n]+)`", re.DOTALL)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", _ARROWS.sub(" → ", text)).casefold()


def _bare(token: str) -> str:
    token = re.sub(r"^https?://", "", token.strip().rstrip(".,;:!?)*_'\""), flags=re.IGNORECASE)
    return token.removeprefix("www.").rstrip("/").casefold()


def _menu_steps(path: str) -> list[str]:
    """The steps of "In game go to Settings → Store → Purchase History, pick…" that name menu items.

    The regex cannot tell where prose ends, so the first step keeps its words from the last
    capitalised one ("Settings", not "In game go to Settings") and the last step stops before its
    first lowercase word after the first ("Security", not "Security and turn on 2FA", but "Delete
    Facebook" from "Delete Facebook account").
    """
    steps = [s.strip(" *_`'\"") for s in _ARROWS.split(path)]
    first = steps[0].split()
    starts = [i for i, w in enumerate(first) if w[:1].isupper() or w[:1].isdigit()]
    steps[0] = " ".join(first[starts[-1] if starts else len(first) - 1 :])
    last = steps[-1].split()
    end = next((i for i, w in enumerate(last) if i and not (w[:1].isupper() or w[:1].isdigit())), len(last))
    steps[-1] = " ".join(last[:end])
    return [step for step in steps if step]


@lru_cache(maxsize=32)  # a streamed reply is judged piece by piece against the same conversation
def _known_addresses(allowed: str) -> tuple[frozenset[str], frozenset[str]]:
    """The links (bare: no scheme, no "www.") and e-mail addresses written in `allowed`; an address's domain
    counts as a known link too."""
    allowed = _INVISIBLE.sub("", allowed)
    emails = {m.group(0).casefold() for m in _EMAIL.finditer(allowed)}
    links = {_bare(m.group(0)) for m in _LINK.finditer(_EMAIL.sub(" ", allowed))}
    links |= {_norm(m.group(0).rstrip(".,;:!?)")) for m in _SCHEME.finditer(allowed)}
    for _, address in _obfuscated(allowed):
        (emails if "@" in address else links).add(address if "@" in address else _bare(address))
    return frozenset(links | {e.rpartition("@")[2] for e in emails}), frozenset(emails)


def _obfuscated(text: str) -> list[tuple[str, str]]:
    """Each address of `text` written with words or look-alikes for its dots (and "@"), with what it means:
    ("refunds at starfa11 dot com", "refunds@starfa11.com"). "look at support.example.com" is a link, not one."""
    found = []
    for m in _OBFUSCATED.finditer(text):
        shown = m.group(0)
        if not _OBF_DOT_RE.search(shown) and not _OBF_AT_RE.search(shown):
            continue
        meant = _SPELLED_AT_RE.sub("@", _OBF_AT_RE.sub("@", _OBF_DOT_RE.sub(".", shown)), count=1).casefold()
        found.append((shown.rstrip(".,;:!?)"), meant.rstrip(".,;:!?)")))
    return found


def _is_known_link(link: str, known: frozenset[str]) -> bool:
    """`link` is one of `known`, or a known link cut at a "/", "?" or "#" (its site, a parent page). Never a
    part of one: "fallodyssey.com" or "support.starfallodyssey.co" are other sites than the notes'
    "support.starfallodyssey.com", sites anyone can register to pass as ours."""
    return link in known or any(k.startswith(link) and k[len(link)] in "/?#" for k in known if len(k) > len(link))


def unknown_addresses(reply: str, allowed: str) -> list[str]:
    """Links (any scheme) and e-mail addresses in `reply` that `allowed` lacks."""
    reply = _INVISIBLE.sub("", reply)
    known_links, known_emails = _known_addresses(allowed)
    found = [m.group(0) for m in _EMAIL.finditer(reply) if m.group(0).casefold() not in known_emails]
    for m in _LINK.finditer(_EMAIL.sub(" ", reply)):
        if not _is_known_link(_bare(m.group(0)), known_links):
            found.append(m.group(0).rstrip(".,;:!?)"))
    for m in _SCHEME.finditer(reply):
        if not _is_known_link(_norm(m.group(0).rstrip(".,;:!?)")), known_links):
            found.append(m.group(0))
    for shown, meant in _obfuscated(reply):
        if meant not in known_emails if "@" in meant else not _is_known_link(_bare(meant), known_links):
            found.append(shown)
    return found


@lru_cache(maxsize=32)
def _known_text(allowed: str) -> tuple[str, frozenset[str]]:
    """`allowed` normalised for look-ups, and the slash commands it names."""
    return _norm(allowed), frozenset(m.group(0).casefold() for m in _SLASH.finditer(_LINK.sub(" ", allowed)))


def invented_references(reply: str, allowed: str) -> list[str]:
    """Links, e-mail addresses, slash commands, menu paths and code in `reply` that `allowed` lacks."""
    known, known_commands = _known_text(allowed)
    found = unknown_addresses(reply, allowed)
    without_emails = _EMAIL.sub(" ", reply)
    for m in _SLASH.finditer(_LINK.sub(" ", without_emails)):
        if m.group(0).casefold() not in known_commands:  # "/refund" is not the command in "example.com/refund"
            found.append(m.group(0))
    for m in _MENU.finditer(reply):
        steps = _menu_steps(m.group(0))
        if not all(step.casefold() in known for step in steps):
            found.append(" → ".join(steps))
    for m in _CODE.finditer(reply):
        code = (m.group(1) or m.group(2) or "").strip()
        for line in filter(None, (line.strip() for line in code.splitlines())):
            if _norm(line) not in known:
                found.append(line)
    return list(dict.fromkeys(found))


# -- echo of the prompt ------------------------------------------------------------------

_MARKUP = re.compile(
    r"</?\s*(?:knowledge|entry|notes?|user_message|staff_message|system|context|ticket_form|field)\b[^>]*>"
    # Chat-template tokens, also with the look-alike brackets ai/template_tokens.py gives the user's copies.
    r"|[<‹][|｜][^<>‹›|｜\s]{1,40}[|｜][>›]|[\[⟦]/?INST[\]⟧]|[<‹][<‹]/?SYS[>›][>›]|[<‹](?:start|end)_of_turn[>›]"
    # A line's own markup only ([^\S\n]: blanks but no line break): with `\s`, every line of a reply of ">" lines
    # tried every way to split the lines after it, and a streamed reply is checked again for each piece (41 s).
    r"|\bentry id=|^[^\S\n]*+(?:[*_#>][^\S\n]*+)*+(?:Q|A|Question|Answer)\s*+:"
    r"|^[^\S\n]*+(?:[*_#>][^\S\n]*+)*+Note \d+\b"
    r"|\breference notes\b|\(best match\)|\bbest match first\b|^[^\S\n]*+Message from\b|\bwrote:\s*$",
    re.IGNORECASE | re.MULTILINE,
)
ECHO_RUN = 8  # words in a row copied from our instructions count as an echo of the prompt


@lru_cache(maxsize=32)  # the same instructions are checked against every piece of a streamed reply
def _ngrams(text: str, n: int) -> frozenset[tuple[str, ...]]:
    words = [w.casefold() for w in _WORD.findall(text)]
    return frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def find_echo(reply: str, knowledge: Sequence[KnowledgeItem], instructions: str = "") -> list[str]:
    """Why `reply` shows our prompt: markup, a note's question line, or our instructions."""
    reasons = []
    m = _MARKUP.search(reply)
    if m:
        reasons.append(f"prompt markup {m.group(0).strip()[:40]!r}")
    flat = _norm(reply)
    for item in knowledge:
        question = _norm(item.query).strip(" ?")
        if len(question.split()) >= 4 and question in flat:
            reasons.append(f"the question of note {item.id}")
    if instructions and _ngrams(reply, ECHO_RUN) & _ngrams(instructions, ECHO_RUN):
        reasons.append("our instructions")
    return reasons


# -- declines in the model's own words ---------------------------------------------------

_DECLINE = re.compile(
    r"\b(?:i'?m not sure|i am not sure|not sure (?:about|what|how|if)|i (?:do not|don'?t) know|"
    r"(?:do not|don'?t|doesn'?t) have (?:any |enough )?(?:information|info|details)|"
    r"no information (?:about|on|regarding)|(?:can(?:no|')t|cannot|unable to) (?:help|assist|answer|provide)|"
    r"(?:a |our )?(?:staff|support) (?:member|team)s? (?:will|can|should) (?:help|assist|get back|be with)|"
    r"(?:outside|beyond) (?:of )?(?:my|the) (?:scope|knowledge)|not (?:covered|mentioned) in)",
    re.IGNORECASE,
)


def declined(reply: str, allowed: str) -> bool:
    """The reply says the model does not know (a phrase the notes do not use themselves)."""
    known = _folded(allowed)
    return any(m.group(0).casefold() not in known for m in _DECLINE.finditer(reply))


@lru_cache(maxsize=8)
def _folded(text: str) -> str:
    return text.casefold()


# -- grounding ---------------------------------------------------------------------------

# Share of the reply's content words that must come from the notes or the conversation.
MIN_SUPPORT = 0.7
# A reply this short (content words) is judged by its markers and references only.
MIN_JUDGED_WORDS = 4
# Words a reply must take from the notes (beyond the message's own) to count as answered from them,
# or half of its note's words for a short note. "Yes, that's allowed.", "fra1" or "contact support to
# request a refund" are the model's own verdicts on a note, not the note's answer. Measured on every
# model answer of the bench runs (Qwen2.5 0.5B): all correct ones took 13 or more, all below 6 were
# incomplete or about another topic.
MIN_NOTE_WORDS = 8
# Checked while streaming once the reply has this many content words, with some slack: a reply that
# is mostly the model's own words by then is stopped before more of it is shown.
EARLY_GROUNDING_WORDS = 15
EARLY_SUPPORT_SLACK = 0.15


@dataclass(frozen=True)
class Grounding:
    words: int  # content words in the reply
    support: float  # share found in the notes, the message or the conversation
    from_notes: int  # content words found in a note but not in the message or conversation
    source: int | None  # index of the note contributing most of those
    per_note: tuple[int, ...]


def grounding(reply: str, knowledge: Sequence[KnowledgeItem], conversation: str) -> Grounding:
    said = content_words(reply)
    talk = content_words(conversation)
    notes = [content_words(f"{k.query}\n{k.response}") for k in knowledge]
    every_note = set().union(*notes) if notes else set()
    novel = said - every_note - talk
    own = said - talk
    per_note = tuple(len(own & n) for n in notes)
    # The source is the note with the most words of the reply that no other note has: notes share
    # plenty of words ("account", "settings"), and a plain count picks the longest note.
    unique = [len(own & n - set().union(*(m for j, m in enumerate(notes) if j != i))) for i, n in enumerate(notes)]
    source = None
    if notes and max(per_note) > 0:
        source = max(range(len(notes)), key=lambda i: (unique[i], per_note[i], -i))
    support = 1.0 - len(novel) / len(said) if said else 1.0
    return Grounding(len(said), support, len(own & every_note), source, per_note)


def needed_note_words(knowledge: Sequence[KnowledgeItem], g: Grounding, talk: str) -> int:
    """MIN_NOTE_WORDS, or half the words of the reply's source note when that note is short."""
    if g.source is None:
        return MIN_NOTE_WORDS
    item = knowledge[g.source]
    return max(1, min(MIN_NOTE_WORDS, len(content_words(f"{item.query}\n{item.response}") - content_words(talk)) // 2))


def unrelated_source(message: str, knowledge: Sequence[KnowledgeItem], g: Grounding) -> bool:
    """The reply's facts come from a note other than the best match, and the message does not share
    more words with that note than with the best match.

    The model may rightly prefer the second note (search ranks by meaning, not by what the user
    asked); it only gets the benefit of the doubt when the message's own words side with it.
    Measured (bench/answers.py, Qwen2.5 0.5B): of the replies copied from a note other than the
    first, 3 were right and 7 wrong, and this rule keeps none of the wrong ones.
    """
    if g.source is None or g.source == 0:
        return False
    asked = content_words(message)

    def shared(item: KnowledgeItem) -> int:
        return len(asked & content_words(f"{item.query}\n{item.response}"))

    return shared(knowledge[g.source]) <= shared(knowledge[0])


def _trusted(knowledge: Sequence[KnowledgeItem], vouched: Iterable[str]) -> str:
    return "\n".join([*(f"{k.query}\n{k.response}" for k in knowledge), *vouched])


def relayed(reply: str, trusted: str) -> list[str]:
    """Links and e-mail addresses in `reply` that only the user wrote (not the notes, staff or the bot).

    "is starfa11odyssey-gift.com legit?" or "my friend says to mail reset@…, right?" are how scams are
    checked, and a model that repeats the address in an answer vouches for it in the server's name. Staff
    judge those; an address the user wrote is never passed on as an answer's fact.
    """
    return unknown_addresses(reply, trusted)


# -- the verdict -----------------------------------------------------------------------------


def guard_reply(
    raw: str,
    knowledge: Sequence[KnowledgeItem],
    message: str,
    conversation: Iterable[str] = (),
    *,
    vouched: Iterable[str] = (),
    instructions: str = "",
    require_marker: bool = True,
) -> GuardResult:
    """Judge the model's whole reply to `message`, given the notes it saw and the conversation before it.

    `vouched` is the part of the conversation written by staff or the bot: a link or e-mail address the
    reply passes on must come from it or from the notes, not only from the user's words (see `relayed`).
    `instructions` is the prompt's own text (without the notes), to spot it being repeated.
    A reply without the ANSWER marker did not say it answered from the notes, so it is UNSURE;
    with `require_marker=False` it is judged like a marked one (for prompts without markers).
    """
    conversation = list(conversation)
    talk = "\n".join([message, *conversation])
    allowed = "\n".join([talk, *(f"{k.query}\n{k.response}" for k in knowledge)])
    trusted = _trusted(knowledge, vouched)
    text = strip_think(raw)
    marker, body = split_marker(text)

    def result(verdict: Verdict, *reasons: str, source: int | None = None) -> GuardResult:
        return GuardResult(body if verdict is Verdict.ANSWERED else "", verdict, reasons, source, raw)

    if not body and marker != "unsure":
        return result(Verdict.FAILED, "empty reply")
    echo = find_echo(body, knowledge, instructions)
    if echo:
        return result(Verdict.FAILED, *(f"echo: {e}" for e in echo))
    invented = invented_references(body, allowed)
    if invented:
        return result(Verdict.FAILED, *(f"invented: {i}" for i in invented[:5]))
    if marker == "unsure":
        return result(Verdict.UNSURE, "the model said it is unsure")
    if marker is None and require_marker:
        return result(Verdict.UNSURE, "no answer marker")
    passed_on = relayed(body, trusted)
    if passed_on:
        return result(Verdict.UNSURE, *(f"passes on what the user wrote: {a}" for a in passed_on[:5]))
    if declined(body, allowed):
        return result(Verdict.UNSURE, "the model declined in its own words")
    if not knowledge:
        return result(Verdict.UNSURE, "no notes to answer from")
    g = grounding(body, knowledge, talk)
    if g.from_notes == 0:
        if g.words and content_words(body) <= content_words(talk):
            return result(Verdict.FAILED, "only repeats the question")
        return result(Verdict.UNSURE, "nothing in the reply comes from the notes")
    if g.from_notes < needed_note_words(knowledge, g, talk):
        return result(Verdict.UNSURE, f"only {g.from_notes} words from the notes")
    if g.words >= MIN_JUDGED_WORDS and g.support < MIN_SUPPORT:
        return result(Verdict.UNSURE, f"only {g.support:.0%} of the reply is in the notes or the conversation")
    if g.source is not None and unrelated_source(message, knowledge, g):
        return result(Verdict.UNSURE, f"facts from note {g.source + 1}, not the best match", source=g.source)
    return result(Verdict.ANSWERED, source=g.source)


# -- streaming -------------------------------------------------------------------------------

# Characters held back at the end of a streamed reply (cut at a space): a marker, a tag, the start
# of a link or "Question:" is judged before any of it is shown.
HOLD_BACK = 40


class StreamGuard:
    """The same checks as `guard_reply`, applied while a reply streams.

    `feed(piece)` returns the text that may be shown so far ("" while the start could still be a
    marker or a thinking block). Once a check fails for good (UNSURE marker, echo, invented link,
    decline) `tripped` holds the result: stop reading the model and replace whatever was shown.
    Grounding needs the whole reply, so `finish()` may still reject text that was already shown.
    """

    def __init__(
        self,
        knowledge: Sequence[KnowledgeItem],
        message: str,
        conversation: Iterable[str] = (),
        *,
        vouched: Iterable[str] = (),
        instructions: str = "",
        require_marker: bool = True,
        hold_back: int = HOLD_BACK,
    ) -> None:
        self.knowledge = list(knowledge)
        self.message = message
        self.conversation = list(conversation)
        self.vouched = list(vouched)
        self._trusted = _trusted(self.knowledge, self.vouched)
        self.instructions = instructions
        self.require_marker = require_marker
        self.hold_back = hold_back
        self.raw = ""
        self.visible = ""
        self.tripped: GuardResult | None = None
        self._allowed = "\n".join([message, *self.conversation, *(f"{k.query}\n{k.response}" for k in self.knowledge)])

    def feed(self, piece: str) -> str:
        if self.tripped is not None:
            return ""
        self.raw += piece
        if thinking_open(self.raw):
            return self.visible
        text = strip_think(self.raw)
        if marker_undecided(text):
            return self.visible
        marker, body = split_marker(text)
        early = self._early_verdict(marker, body)
        if early is not None:
            self.tripped = early
            self.visible = ""
            return ""
        if not self._proven(body):
            return self.visible
        cut = body.rfind(" ", 0, max(0, len(body) - self.hold_back) + 1)
        newline = body.rfind("\n", 0, max(0, len(body) - self.hold_back) + 1)
        cut = max(cut, newline)
        if cut > len(self.visible.rstrip()):
            self.visible = body[:cut].rstrip()
        return self.visible

    def _proven(self, body: str) -> bool:
        """Nothing is shown before the reply has shown it comes from the notes: enough words, enough of
        them from a note. Short or made-up replies are then judged whole, never shown and taken back."""
        talk = "\n".join([self.message, *self.conversation])
        g = grounding(body, self.knowledge, talk)
        return g.words >= EARLY_GROUNDING_WORDS and g.from_notes >= needed_note_words(self.knowledge, g, talk)

    def _early_verdict(self, marker: str | None, body: str) -> GuardResult | None:
        def trip(verdict: Verdict, *reasons: str) -> GuardResult:
            return GuardResult("", verdict, reasons, None, self.raw)

        if marker == "unsure":
            return trip(Verdict.UNSURE, "the model said it is unsure")
        if marker is None and self.require_marker:
            return trip(Verdict.UNSURE, "no answer marker")
        echo = find_echo(body, self.knowledge, self.instructions)
        if echo:
            return trip(Verdict.FAILED, *(f"echo: {e}" for e in echo))
        # A link or path still being written may be the prefix of a known one: judge complete words only.
        complete = body[: max(body.rfind(" "), body.rfind("\n"), 0)]
        invented = invented_references(complete, self._allowed)
        if invented:
            return trip(Verdict.FAILED, *(f"invented: {i}" for i in invented[:5]))
        passed_on = relayed(complete, self._trusted)
        if passed_on:
            return trip(Verdict.UNSURE, *(f"passes on what the user wrote: {a}" for a in passed_on[:5]))
        if declined(body, self._allowed):
            return trip(Verdict.UNSURE, "the model declined in its own words")
        if self.knowledge:
            talk = "\n".join([self.message, *self.conversation])
            g = grounding(complete, self.knowledge, talk)
            if g.words >= EARLY_GROUNDING_WORDS and g.support < MIN_SUPPORT - EARLY_SUPPORT_SLACK:
                return trip(Verdict.UNSURE, f"only {g.support:.0%} of the reply so far is in the notes")
        return None

    def finish(self) -> GuardResult:
        """The verdict on the whole reply (call once the stream has ended or broken off)."""
        if self.tripped is not None:
            return self.tripped
        return guard_reply(
            self.raw,
            self.knowledge,
            self.message,
            self.conversation,
            vouched=self.vouched,
            instructions=self.instructions,
            require_marker=self.require_marker,
        )
