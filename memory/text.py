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

NGRAM_SIZES = (2, 3, 4)


def normalise(text: str) -> str:
    """Casefolded words separated by single spaces; equal meaning-preserving spellings compare equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    # "what's" -> "whats", not "what s": keeps contractions a single word.
    text = _APOSTROPHES.sub("", text)
    text = _LONG_NUMBER.sub(" 0 ", text)
    text = _NON_WORD.sub(" ", text).replace("_", " ")
    return " ".join(text.split())


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
