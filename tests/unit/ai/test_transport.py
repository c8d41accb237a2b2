"""The one table from wire failures and HTTP statuses to the LLMError tree, and its health policy."""

from __future__ import annotations

import aiohttp
import pytest

from ai.errors import LLMBusy, LLMResponseError, LLMTimeout, LLMUnavailable, ModelNotFound
from ai.transport import error_for_status, transport_error

URL = "http://127.0.0.1:11434"


@pytest.mark.parametrize(
    ("exc", "kind", "marks_down"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), LLMTimeout, True),
        (aiohttp.ServerDisconnectedError(), LLMUnavailable, True),
        (aiohttp.ClientOSError(111, "Connection refused"), LLMUnavailable, True),
        (TimeoutError(), LLMTimeout, False),
        (aiohttp.ClientPayloadError("broken"), LLMUnavailable, False),
    ],
)
def test_transport_failures(exc: BaseException, kind: type, marks_down: bool) -> None:
    err, down = transport_error(exc, URL)
    assert type(err) is kind and down is marks_down
    assert URL in str(err)


def test_something_else_is_not_a_transport_failure() -> None:
    with pytest.raises(TypeError):
        transport_error(ValueError("a bug"), URL)


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (404, 'model "qwen" not found, try pulling it first', ModelNotFound),
        (404, "404 page not found", LLMResponseError),
        (429, "slow down", LLMBusy),
        (503, "server busy, please try again.", LLMBusy),
        (401, "invalid key", LLMResponseError),
        (500, "", LLMResponseError),
    ],
)
def test_http_statuses(status: int, message: str, kind: type) -> None:
    err = error_for_status(status, message, "qwen", pull_hint="ollama pull qwen", server="Ollama")
    assert type(err) is kind
    if isinstance(err, ModelNotFound):
        assert err.pull_hint == "ollama pull qwen"
    if status == 401:
        assert "authentication failed" in str(err)
