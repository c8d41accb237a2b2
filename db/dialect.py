"""The few places where PostgreSQL and SQLite read the same SQL differently, handled once.

The application's SQL is written once, in the subset both engines accept (`?` or `:name` parameters,
ON CONFLICT, RETURNING, CASE, substr on ISO-8601 text). On PostgreSQL (db/postgres.py) two things change:

- parameters: asyncpg takes `$1, $2, …`; `to_numbered` rewrites `?` and `:name` (a name used twice is one
  number), leaving string literals, quoted names, comments and `::` casts alone. Cached per statement.
- migrations' DDL (`ddl_for_postgres`): auto ids become identity columns, INTEGER becomes BIGINT (Discord
  ids exceed 32 bits), BLOB becomes BYTEA and REAL DOUBLE PRECISION.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache

Params = Sequence[object] | Mapping[str, object]

# What neither engine stores: NUL (PostgreSQL refuses it in text) and lone surrogates (no UTF-8 for them, so
# SQLite's driver refuses them). Both arrive from outside: Discord text, form fields, imported files.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: str) -> str:
    """`value` without NUL, each lone surrogate as U+FFFD (a split surrogate pair is joined again)."""
    if _UNSTORABLE.search(value) is None:
        return value
    return value.replace("\x00", "").encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def storable(params: Params) -> Params:
    """`params` with every string made storable (`storable_text`): a message holding a lone surrogate or a NUL is
    stored with a replacement character instead of failing the whole ticket."""
    if isinstance(params, Mapping):
        return {k: storable_text(v) if isinstance(v, str) else v for k, v in params.items()}
    return [storable_text(v) if isinstance(v, str) else v for v in params]


# The largest value of an INTEGER (SQLite) or BIGINT (PostgreSQL) column: ids, Discord's snowflakes included.
MAX_INTEGER = 2**63 - 1
_DECIMAL = re.compile(r"[0-9]{1,19}")


def stored_id(text: str) -> int | None:
    """The id `text` spells (ASCII digits) if an integer column can hold it, else None: an id from outside (an
    address, a form field, a typed option) too large for the column fails the statement on both engines, and
    str.isdigit() takes digits int() refuses ("²")."""
    text = text.strip()
    if not _DECIMAL.fullmatch(text):
        return None
    value = int(text)
    return value if value <= MAX_INTEGER else None


# A string literal ('…', '' inside), a quoted name ("…"), a line comment, or a run of anything else.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|[^'\"-]+|-", re.S)
_PARAM = re.compile(r"::|\?|(?<![:\w]):([A-Za-z_]\w*)")


def _code_and_literals(sql: str) -> Iterator[tuple[bool, str]]:
    """(is_code, text) pieces of `sql`: False for literals, quoted names and comments."""
    for match in _TOKENS.finditer(sql):
        text = match.group(0)
        yield (text[0] not in "'\"" and not text.startswith("--")), text


@lru_cache(maxsize=2048)
def to_numbered(sql: str) -> tuple[str, tuple[str, ...] | int]:
    """`sql` with `$n` parameters, and either the names in order (named style) or how many `?` it had."""
    names: list[str] = []
    positional = 0
    out: list[str] = []
    for is_code, text in _code_and_literals(sql):
        if not is_code:
            out.append(text)
            continue

        def number(match: re.Match[str]) -> str:
            nonlocal positional
            if match.group(0) == "::":
                return "::"
            if match.group(0) == "?":
                positional += 1
                return f"${positional}"
            name = match.group(1)
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        out.append(_PARAM.sub(number, text))
    if names and positional:
        raise ValueError(f"a statement mixes ? and :name parameters: {sql}")
    return "".join(out), (tuple(names) if names else positional)


def bind(sql: str, params: Params) -> tuple[str, list[object]]:
    """The statement for asyncpg and its arguments in `$n` order."""
    text, shape = to_numbered(sql)
    if isinstance(shape, tuple):
        if not isinstance(params, Mapping):
            raise TypeError(f"named parameters need a mapping: {sql}")
        return text, [_stored(params[name]) for name in shape]
    if isinstance(params, Mapping):
        if shape:
            raise TypeError(f"? parameters need a sequence: {sql}")
        return text, []
    if len(params) != shape:
        raise ValueError(f"{shape} parameters expected, {len(params)} given: {sql}")
    return text, [_stored(value) for value in params]


def _stored(value: object) -> object:
    return storable_text(value) if isinstance(value, str) else value


_DDL = [
    (
        re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b", re.I),
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bINTEGER\b", re.I), "BIGINT"),
    (re.compile(r"\bBLOB\b", re.I), "BYTEA"),
    (re.compile(r"\bREAL\b", re.I), "DOUBLE PRECISION"),
]


def ddl_for_postgres(statement: str) -> str:
    """A migration statement as PostgreSQL needs it (types only; string literals untouched)."""
    out = []
    for is_code, text in _code_and_literals(statement):
        if is_code:
            for pattern, replacement in _DDL:
                text = pattern.sub(replacement, text)
        out.append(text)
    return "".join(out)
