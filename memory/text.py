"""Text normalisation and the features the lexical index is built from."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_NON_WORD = re.compile(r"[^\w]+")
# Order numbers, phone numbers and the like carry no meaning for matching an intent, but
# their digits would otherwise flood the n-gram index; every long number becomes one token.
_LONG_NUMBER = re.compile(r"\d{4,}")
_APOSTROPHES = re.compile(r"['’`´]")
_NUMBER_SEPARATORS = ".,:/-"

NGRAM_SIZES = (2, 3, 4)


def normalise(text: str) -> str:
    """Casefolded words separated by single spaces; equal meaning-preserving spellings compare equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    # "what's" -> "whats", not "what s": keeps contractions a single word.
    text = _APOSTROPHES.sub("", text)
    text = _LONG_NUMBER.sub(" 0 ", text)
    text = _NON_WORD.sub(" ", text).replace("_", " ")
    return " ".join(text.split())


def identity_key(text: str) -> str:
    """What makes two trained questions the same question: like `normalise` (case, Unicode forms,
    apostrophes, punctuation and spacing do not count) but every digit is kept, so "error 1042" and
    "error 2077", or "version 1.2.3" and "version 1.23", stay two questions.

    `normalise` folds long numbers because that is right for *matching*; deciding that two
    questions are one (and replacing an answer) needs their exact identity. A question without a
    letter or digit ("???", "🙂") keeps its symbols; text without a visible character has key "".
    """
    text = unicodedata.normalize("NFKC", visible_text(text)).casefold()
    text = _APOSTROPHES.sub("", text)

    def separator(match: re.Match[str]) -> str:
        # One separator between two digits belongs to the number: 1.2.3, 10:30, 2024-05-01.
        sep, start, end = match.group(0), match.start(), match.end()
        inside_number = start > 0 and end < len(text) and text[start - 1].isdigit() and text[end].isdigit()
        return sep if len(sep) == 1 and sep in _NUMBER_SEPARATORS and inside_number else " "

    key = " ".join(_NON_WORD.sub(separator, text).replace("_", " ").split())
    return key or " ".join(text.split())


def words(norm: str) -> list[str]:
    return norm.split()


def stem(word: str) -> str:
    """A deliberately crude suffix stripper: enough to join "cards"/"card", "charged"/"charge"."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def features(norm: str) -> Counter[str]:
    """Weighted bag of features: stemmed words (prefix "w:") and character n-grams within words.

    Words carry the meaning; character n-grams make a typo ("cancfel") or an inflection
    still share most of its features with the stored text.
    """
    bag: Counter[str] = Counter()
    tokens = words(norm)
    for token in tokens:
        bag["w:" + stem(token)] += 1
        padded = f" {token} "
        for n in NGRAM_SIZES:
            for i in range(len(padded) - n + 1):
                bag[padded[i : i + n]] += 1
    return bag


# Characters that render as nothing (or as a blank) in Discord: format controls (Cf: zero-width
# space/joiners, bidi marks, the BOM), other controls (Cc), separators (Z*), and a few
# "blank" symbols Unicode files elsewhere (Hangul fillers, braille blank).
_INVISIBLE_CATEGORIES = ("Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn", "Mn", "Me")
_MARKS = ("Mn", "Me")
_BLANK_SYMBOLS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def is_visible_char(ch: str) -> bool:
    return ch not in _BLANK_SYMBOLS and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES


def visible_text(text: str | None) -> str:
    """`text` trimmed of invisible characters at both ends, or "" when nothing in it is visible.

    The one check for "is this input empty?": a question, answer, title or reason made only of
    zero-width spaces, control characters or blanks counts as empty everywhere. Inner spacing and
    invisible characters between visible ones are kept (they may be meaningful, e.g. in emoji).
    """
    if not text:
        return ""
    start, end = 0, len(text)
    while start < end and not is_visible_char(text[start]):
        start += 1
    # Marks (accents, variation selectors) after a visible character belong to it: keep them.
    while end > start and not is_visible_char(text[end - 1]) and unicodedata.category(text[end - 1]) not in _MARKS:
        end -= 1
    return text[start:end]
