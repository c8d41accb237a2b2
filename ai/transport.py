"""ONE table from what can go wrong on the wire to the `LLMError` tree, with the health policy.

Transport failures (aiohttp exceptions) and HTTP error statuses are mapped here and nowhere else;
the backends only say how their error bodies read (`error_message`) and how a model is installed.

Health policy: a failure that says the server cannot be used at all (`marks_down`) is remembered by
`ai.health.Health`, so the next requests fail in microseconds instead of each waiting for the same
failure, until a background probe finds the server back. Slowness (a cold model load, a long
answer), a busy server and a bad answer are not remembered: the next request may well succeed.
A missing chat model (ModelNotFound) is remembered too (`LLMClient._post_with_retries`).
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from ai.errors import LLMBusy, LLMError, LLMResponseError, LLMTimeout, LLMUnavailable, ModelNotFound


@dataclass(frozen=True)
class TransportRule:
    catches: tuple[type[BaseException], ...]
    error: type[LLMError]
    marks_down: bool
    message: str  # formatted with url= and exc=


TRANSPORT_ERRORS: tuple[TransportRule, ...] = (
    # Only the connect phase has a socket timeout here, so this is "could not connect in time".
    TransportRule((aiohttp.ServerTimeoutError,), LLMTimeout, True, "cannot connect to {url}: connect timeout"),
    TransportRule(
        (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError),
        LLMUnavailable,
        True,
        "cannot reach {url}: {exc}",
    ),
    # Slow, not down: the caller's deadline for the whole request passed.
    TransportRule((TimeoutError,), LLMTimeout, False, "no answer from {url} in time"),
    TransportRule((aiohttp.ClientError,), LLMUnavailable, False, "request to {url} failed: {exc!r}"),
)

# Statuses that mean "try again a little later" (retried with backoff, never remembered).
BUSY_STATUSES = frozenset({429, 503})
AUTH_STATUSES = frozenset({401, 403})


def transport_rule(exc: BaseException) -> TransportRule | None:
    """The first rule that catches `exc`, or None for an exception that is not a transport failure."""
    return next((rule for rule in TRANSPORT_ERRORS if isinstance(exc, rule.catches)), None)


def transport_error(exc: BaseException, url: str) -> tuple[LLMError, bool]:
    """The LLMError for a failed request, and whether it marks the server down."""
    rule = transport_rule(exc)
    if rule is None:
        raise TypeError(f"not a transport failure: {exc!r}")
    return rule.error(rule.message.format(url=url, exc=exc)), rule.marks_down


def error_for_status(status: int, message: str, model: str, *, pull_hint: str | None, server: str) -> LLMError:
    """The LLMError for a non-200 response whose error text is `message`."""
    lowered = message.lower()
    if status == 404 and "model" in lowered:
        return ModelNotFound(model, pull_hint, message)
    if status in BUSY_STATUSES:
        return LLMBusy(f"server busy: {message}")
    if status in AUTH_STATUSES:
        return LLMResponseError(f"HTTP {status}: authentication failed (check LLM_API_KEY): {message}")
    return LLMResponseError(f"HTTP {status} from {server}: {message or '(empty body)'}")
