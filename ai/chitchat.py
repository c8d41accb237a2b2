"""Greetings, thanks and small talk get a short canned reply, without the model (pure).

A small model spends 15 s on "thanks!" and answers "Thank you so much!" or, worse, pastes its notes.
A message is chit-chat only when *every* word in it is one of the greeting, thanks, acknowledgement,
laughter or filler words below (a few languages), or emoji and punctuation: "thanks, but how do I
reset my password" has words that are none of these, so it is a question.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


def _wordlist(text: str) -> frozenset[str]:
    return frozenset(text.split())


class Kind(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    ACK = "ack"  # ok, cool, got it, 👍, lol
    RESOLVED = "resolved"  # never mind, fixed it
    PRESENCE = "presence"  # anyone here?
    BYE = "bye"


# Longest phrases first: they are removed from the message before single words.
_PHRASES: dict[Kind, tuple[str, ...]] = {
    Kind.RESOLVED: (
        "never mind",
        "nevermind",
        "nvm",
        "i figured it out",
        "figured it out",
        "i fixed it",
        "fixed it",
        "it works now",
        "works now",
        "it's working now",
        "its working now",
        "all good now",
        "problem solved",
        "solved it",
        "sorted it",
        "got it working",
        "that worked",
        "it worked",
        "that fixed it",
        "ca marche",
        "hat geklappt",
        "geht wieder",
        "ya funciona",
        "funciona",
        "ha funzionato",
    ),
    Kind.PRESENCE: (
        "anyone here",
        "anybody here",
        "anyone there",
        "is anyone around",
        "anyone around",
        "is anyone here",
        "is anybody there",
        "hello anyone",
        "are you there",
        "you there",
        "is this working",
        "jemand da",
        "alguien",
        "quelqu'un",
    ),
    Kind.THANKS: (
        "thank you",
        "thanks a lot",
        "thanks so much",
        "thank you so much",
        "thx",
        "ty",
        "tysm",
        "tyvm",
        "thanks",
        "thank",
        "cheers",
        "appreciate it",
        "much appreciated",
        "many thanks",
        "danke",
        "danke schön",
        "vielen dank",
        "merci",
        "merci beaucoup",
        "gracias",
        "muchas gracias",
        "grazie",
        "obrigado",
        "obrigada",
        "dziękuję",
        "dzięki",
        "bedankt",
        "dank je",
        "tack",
        "takk",
        "kiitos",
        "спасибо",
        "дякую",
        "teşekkürler",
        "ありがとう",
        "谢谢",
        "감사합니다",
        "good bot",
        "great bot",
        "you're awesome",
        "you guys are awesome",
        "you are awesome",
        "awesome thanks",
        "legend",
    ),
    Kind.GREETING: (
        "good morning",
        "good afternoon",
        "good evening",
        "good night",
        "hello",
        "hi",
        "hey",
        "heya",
        "hiya",
        "yo",
        "sup",
        "what's up",
        "whats up",
        "howdy",
        "greetings",
        "gm",
        "gn",
        "hallo",
        "servus",
        "moin",
        "guten morgen",
        "guten tag",
        "bonjour",
        "bonsoir",
        "salut",
        "hola",
        "buenos días",
        "buenos dias",
        "buenas",
        "ciao",
        "buongiorno",
        "olá",
        "ola",
        "oi",
        "bom dia",
        "hej",
        "hoi",
        "cześć",
        "привет",
        "здравствуйте",
        "merhaba",
        "こんにちは",
        "你好",
        "안녕하세요",
    ),
    Kind.BYE: (
        "goodbye",
        "bye",
        "bye bye",
        "see you",
        "see ya",
        "cya",
        "later",
        "tschüss",
        "adiós",
        "adios",
        "au revoir",
    ),
    Kind.ACK: (
        "ok",
        "okay",
        "okey",
        "k",
        "kk",
        "okk",
        "cool",
        "nice",
        "great",
        "perfect",
        "awesome",
        "alright",
        "all right",
        "got it",
        "gotcha",
        "understood",
        "i see",
        "makes sense",
        "sounds good",
        "good",
        "sure",
        "yep",
        "yup",
        "yes",
        "lol",
        "lmao",
        "lmfao",
        "rofl",
        "haha",
        "hahaha",
        "hehe",
        "xd",
        "bruh",
        "omg",
        "wow",
        "oh",
        "ah",
        "hmm",
        "d'accord",
        "genial",
        "vale",
        "va bene",
        "super",
        "top",
        "dope",
        "sweet",
        "np",
    ),
}
# Words that may accompany any of the above without making it a question.
_FILLER = _wordlist(
    "so much very a lot again guys everyone all folks there team you u man bro dude mate fam and for the "
    "help your this that it that's its oh well just really y'all yall everybody people @everyone ok"
)
_REPLIES: dict[Kind, str] = {
    Kind.GREETING: "Hi! 👋 Tell me what's going on and I'll look for an answer — staff can step in too.",
    Kind.THANKS: "You're welcome! If anything else comes up, just write it here.",
    Kind.ACK: "👍 If you have another question, just write it here.",
    Kind.RESOLVED: "Glad it's sorted! If anything else comes up, just write it here.",
    Kind.PRESENCE: "I'm here! Describe your problem and I'll look for an answer; staff will see this ticket too.",
    Kind.BYE: "Bye! If anything else comes up, just write in this ticket.",
}
# Replies in a few languages, chosen by the words the message used.
_LANGUAGE_WORDS = {
    "de": _wordlist("hallo servus moin guten morgen tag danke schön vielen dank tschüss jemand geklappt geht wieder"),
    "fr": _wordlist("bonjour bonsoir salut merci beaucoup revoir quelqu'un marche"),
    "es": _wordlist("hola buenos días dias buenas gracias muchas adiós adios alguien vale funciona"),
}
_LOCAL_REPLIES: dict[str, dict[Kind, str]] = {
    "de": {
        Kind.GREETING: "Hallo! 👋 Beschreib kurz dein Problem, dann suche ich eine Antwort; das Team sieht es auch.",
        Kind.THANKS: "Gern geschehen! Wenn noch etwas ist, schreib es einfach hier.",
        Kind.RESOLVED: "Super, dass es klappt! Wenn noch etwas ist, schreib es einfach hier.",
        Kind.PRESENCE: "Ich bin da! Beschreib dein Problem, dann suche ich eine Antwort; das Team sieht es auch.",
    },
    "fr": {
        Kind.GREETING: "Bonjour ! 👋 Décris ton problème et je cherche une réponse — l'équipe voit aussi ce ticket.",
        Kind.THANKS: "Avec plaisir ! S'il y a autre chose, écris-le ici.",
        Kind.RESOLVED: "Tant mieux ! S'il y a autre chose, écris-le ici.",
        Kind.PRESENCE: "Je suis là ! Décris ton problème et je cherche une réponse ; l'équipe voit aussi ce ticket.",
    },
    "es": {
        Kind.GREETING: "¡Hola! 👋 Cuéntame qué pasa y busco una respuesta; el equipo también ve este ticket.",
        Kind.THANKS: "¡De nada! Si necesitas algo más, escríbelo aquí.",
        Kind.RESOLVED: "¡Genial! Si necesitas algo más, escríbelo aquí.",
        Kind.PRESENCE: "¡Aquí estoy! Cuéntame el problema y busco una respuesta; el equipo también ve este ticket.",
    },
}
# Precedence when a message mixes kinds ("ok thanks" is thanks, "hi, anyone here?" is presence).
_ORDER = (Kind.RESOLVED, Kind.THANKS, Kind.PRESENCE, Kind.BYE, Kind.GREETING, Kind.ACK)
MAX_WORDS = 8

_PATTERNS = sorted(((p, k) for k, ps in _PHRASES.items() for p in ps), key=lambda pk: -len(pk[0]))


def _words_only(text: str) -> str:
    """Lowercase letters, digits, apostrophes and single spaces; emoji and punctuation become spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    kept = "".join(ch if ch.isalnum() or ch in "'@" else " " for ch in text)
    return " ".join(kept.split())


def classify(text: str) -> Kind | None:
    """The kind of chit-chat `text` is, or None if it says anything else (a question, a problem)."""
    if not text.strip():
        return None
    words = _words_only(text)
    if not words:  # emoji, "?!", "..."
        return Kind.ACK if any(unicodedata.category(ch) == "So" for ch in text) else None
    if len(words.split()) > MAX_WORDS:
        return None
    found: set[Kind] = set()
    rest = f" {words} "
    for phrase, kind in _PATTERNS:
        padded = f" {phrase} "
        while padded in rest:
            rest = rest.replace(padded, " ", 1)
            found.add(kind)
    leftover = [w for w in rest.split() if w not in _FILLER]
    # Repeated letters: "heyyy", "thxxx", "lolll", "hahahaha".
    leftover = [w for w in leftover if not _stretched_match(w, found)]
    if leftover or not found:
        return None
    return next(kind for kind in _ORDER if kind in found)


def _stretched_match(word: str, found: set[Kind]) -> bool:
    squeezed = re.sub(r"(.)\1+", r"\1", word)
    if re.fullmatch(r"(?:ha|he|ah|lo?l|xd)+h?", squeezed):
        found.add(Kind.ACK)
        return True
    for phrase, kind in _PATTERNS:
        if " " not in phrase and re.sub(r"(.)\1+", r"\1", phrase) == squeezed:
            found.add(kind)
            return True
    return False


def canned_reply(text: str) -> str | None:
    """A short reply for chit-chat (in the message's language where we have one), or None."""
    kind = classify(text)
    if kind is None:
        return None
    words = set(_words_only(text).split())
    for language, markers in _LANGUAGE_WORDS.items():
        if words & markers and kind in _LOCAL_REPLIES[language]:
            return _LOCAL_REPLIES[language][kind]
    return _REPLIES[kind]
