"""Exceptions raised by the ``ai`` package.

Callers catch exactly what they can handle; everything derives from ``LLMError``::

    LLMError
    ├── LLMUnavailable      connection refused, DNS failure, server down, or a failure
    │                       remembered by ``Health`` (fails fast, no network request)
    ├── LLMTimeout          connect, first-token, chunk-gap or total timeout
    ├── ModelNotFound       404 "model not found" (never retried); ``.model``, ``.pull_hint``
    ├── LLMBusy             503 busy after every retry was used, or a Discord server's model
    │                       requests per minute used up (raised by the answer pipeline)
    └── LLMResponseError    bad JSON, ``{"error"}`` in the middle of a stream, truncated
                            stream, empty answer, other HTTP errors (4xx/5xx)
"""

from __future__ import annotations


class LLMError(Exception):
    """Base class: anything that went wrong talking to the model server."""


class LLMUnavailable(LLMError):
    """The server cannot be reached (or was recently found unreachable)."""


class LLMTimeout(LLMError):
    """A phase of the request took longer than its configured timeout."""


class ModelNotFound(LLMError):
    """The server does not have the model; ``pull_hint`` says how to fix it."""

    def __init__(self, model: str, pull_hint: str | None = None, message: str | None = None) -> None:
        self.model = model
        self.pull_hint = pull_hint
        text = message or f"model {model!r} not found on the server"
        if pull_hint:
            text += f" (run: {pull_hint})"
        super().__init__(text)

    def __reduce__(self) -> tuple[type, tuple[str, str | None, str | None]]:
        # Keeps the exception copyable/picklable despite the custom __init__.
        return (type(self), (self.model, self.pull_hint, None))


class LLMBusy(LLMError):
    """The server kept answering 503 busy after all retries (or the per-server request cap is reached)."""


class LLMResponseError(LLMError):
    """The server answered, but the answer is unusable."""
