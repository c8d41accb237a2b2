"""Automatic checks of a model's reply against the dev set (no second model involved).

- key facts: the expected topic's key facts found in the reply (case-insensitive; any arrow or '>'
  between menu steps counts as the same path);
- echo: the reply shows our prompt's markup (knowledge/entry/user_message tags, entry ids, Q:/A: pairs,
  and the plain layout's 'Reference notes', 'Note 1 (best match)', 'Question:'/'Answer:' lines);
- invented: links, e-mail addresses, slash commands and menu paths that appear neither in the knowledge
  the model was given nor in the user's message;
- declined: the reply says it is not sure / hands over to staff instead of answering.
These are heuristics: a reply can state a key fact in other words and be counted as missing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ARROWS = re.compile(r"\s*(?:→|->|=>|>|»|›)\s*")
# Both prompt layouts: the XML-tagged one (before issue 9) and the plain "Reference notes" one.
_ECHO = re.compile(
    r"</?\s*(?:knowledge|entry|user_message|staff_message)\b|\bentry id=|^\s*[QA]:\s"
    r"|^\s*(?:Question|Answer)\s*:|^\s*Note \d+\b|\breference notes\b|\(best match\)|^\s*\S+ wrote:\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_LINK = re.compile(
    r"\b(?:https?://)?(?:[a-z0-9-]+\.)+(?:com|io|app|org|net|dev|gg|co|de|uk|eu)(?:/[^\s,;)\]>*`]*)?", re.I
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SLASH = re.compile(r"(?<![\w/.:])/[a-z][a-z0-9_-]{2,}\b", re.IGNORECASE)
_MENU = re.compile(r"[A-Z][\w&' ]{1,30}(?:\s*(?:→|->|>)\s*[A-Z][\w&' ]{1,30})+")
_DECLINE = re.compile(
    r"not sure|n[o']t (?:have|find) (?:that|this|any|enough) (?:information|info)|i don'?t know|"
    r"staff (?:member )?(?:will|can|should)|(?:contact|reach out to|ask) (?:a )?(?:staff|support|moderator)|"
    r"outside (?:of )?(?:my|the) (?:scope|knowledge)|can(?:no|')t help with",
    re.IGNORECASE,
)


def _norm(text: str) -> str:
    return _ARROWS.sub(" → ", text).casefold()


@dataclass
class Verdict:
    facts_found: int
    facts_total: int
    echo: bool
    invented: list[str] = field(default_factory=list)
    declined: bool = False

    @property
    def all_facts(self) -> bool:
        return self.facts_total > 0 and self.facts_found == self.facts_total

    @property
    def half_facts(self) -> bool:
        return self.facts_total > 0 and 2 * self.facts_found >= self.facts_total


def echo(reply: str) -> bool:
    """The reply shows our prompt's markup."""
    return bool(_ECHO.search(reply))


def invented(reply: str, allowed: str) -> list[str]:
    """Links, e-mails, slash commands and menu paths in `reply` that `allowed` does not contain."""
    known = _norm(allowed)
    found = []
    for pattern in (_LINK, _EMAIL, _SLASH):
        for m in pattern.finditer(reply):
            token = m.group(0).rstrip(".")
            bare = re.sub(r"^https?://", "", token).casefold().rstrip("/")
            if bare not in known:
                found.append(token)
    for m in _MENU.finditer(reply):
        path = _norm(m.group(0)).strip()
        steps = [s.strip() for s in path.split("→")]
        # A path counts as known when every step but the first generic one appears in the allowed text.
        if not all(step in known for step in steps[1:]):
            found.append(m.group(0).strip())
    return list(dict.fromkeys(found))


def judge(reply: str, key_facts: tuple[str, ...], knowledge: str, message: str) -> Verdict:
    """Key facts the user's message already contains are not counted: repeating them proves nothing."""
    norm, asked = _norm(reply), _norm(message)
    key_facts = tuple(f for f in key_facts if _norm(f) not in asked)
    found = sum(_norm(f) in norm for f in key_facts)
    return Verdict(
        facts_found=found,
        facts_total=len(key_facts),
        echo=bool(_ECHO.search(reply)),
        invented=invented(reply, knowledge + "\n" + message),
        declined=bool(_DECLINE.search(reply)),
    )
