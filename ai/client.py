"""The model-server client the bot talks to, independent of the backend.

``LLMClient`` owns what both backends share: the fair concurrency queue, per-phase
timeouts, 503 retries, embedding batches, the memory of a down server (``health``) or
embedding model (``embed_health``) and the rules about what counts as a valid answer.
``ai/ollama.py`` and ``ai/openai_compat.py`` only build requests and parse their wire
formats. One client talks to one server; the bot uses them through ``ai.pool.ModelPool``, which
queues, routes and retries over one client per server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import aiohttp

from ai.errors import LLMBusy, LLMError, LLMResponseError, LLMTimeout, LLMUnavailable, ModelNotFound
from ai.health import Health
from ai.limiter import FairLimiter
from ai.settings import LLMSettings
from ai.template_tokens import defuse_messages
from ai.transport import error_for_status, transport_error
from ai.types import ChatMessage, ChatResult, ChatShape, LineParser, OnQueued, ServerStatus, StreamEvent

log = logging.getLogger(__name__)

# Texts per embedding request.
EMBED_BATCH = 32
# Up to this many texts a call is a question being searched (the ticket waits for it);
# larger calls are bulk (re-)embedding of trained entries.
QUERY_EMBED_TEXTS = 8


def same_model(wanted: str, available: str) -> bool:
    """Ollama treats a name without a tag as ``:latest`` ("llama3" == "llama3:latest")."""

    def norm(name: str) -> str:
        name = name.strip().lower()
        return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"

    return norm(wanted) == norm(available)


def has_model(wanted: str, available: list[str]) -> bool:
    return any(same_model(wanted, name) for name in available)


class LLMClient(ABC):
    """Common behaviour of both backends. Create with ``ai.factory.create_llm_client``."""

    # Embedding timeouts, in seconds after connecting. A question's embedding is on the
    # path of every ticket message, so it gets little time: when it runs out, search is
    # lexical and the failure is remembered (``embed_health``) for ``down_retry_after``.
    # A bulk batch (imports, re-embedding, the background probe that also loads a cold
    # embedding model) may take longer; nobody waits for it in a conversation.
    embed_query_timeout: float = 5.0
    embed_bulk_timeout: float = 120.0

    def __init__(self, settings: LLMSettings, session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self._session = session
        self._limiter = FairLimiter(settings.max_concurrency)
        self.health = Health(settings.down_retry_after, self._probe)
        # Separate from chat: a missing or slow embedding model must not stop the chat model.
        self.embed_health = Health(settings.down_retry_after, self._probe_embed, name="embedding model")

    # -- backend hooks ---------------------------------------------------------------

    @abstractmethod
    def _chat_request(self, messages: list[ChatMessage]) -> tuple[str, dict[str, Any]]:
        """URL and JSON body of a streaming chat request."""

    @abstractmethod
    def _shape(self, body: dict[str, Any], shape: ChatShape) -> None:
        """Constrain a chat request's `body` to `shape` (in place)."""

    @abstractmethod
    def _line_parser(self) -> LineParser:
        """A fresh parser for one streamed response; raises LLMResponseError on bad lines."""

    @abstractmethod
    def _error_message(self, body: str) -> str:
        """The error text of a non-200 response body (the status table is ai/transport.py)."""

    @abstractmethod
    async def _probe(self) -> None:
        """Raise an LLMError unless the server is reachable and has the chat model."""

    @abstractmethod
    async def _embed_batch(self, model: str, texts: list[str], timeout: float) -> list[list[float]]:
        """Vectors of one batch, in order, within `timeout` seconds; raises LLMError subclasses."""

    @abstractmethod
    async def _list_models(self) -> list[str]:
        """Names of the models the server offers; raises LLMError subclasses."""

    # What the backend's server is called in messages, and whether a model it does not list is
    # unusable (Ollama) or listing is informative only (single-model OpenAI-compatible servers).
    server_name = "the model server"
    listed_models_only = False
    start_hint = "start your model server"

    def pull_hint(self, model: str) -> str | None:
        """The command that installs `model`, if the backend has one."""
        return None

    async def _version(self) -> str | None:
        return None

    async def _loaded_models(self) -> list[str]:
        return []

    def _headers(self) -> dict[str, str]:
        return {}

    def _error_for(self, status: int, body: str, model: str) -> LLMError:
        """Map a non-200 response to the exception callers should see."""
        return error_for_status(
            status, self._error_message(body), model, pull_hint=self.pull_hint(model), server=self.server_name
        )

    # -- public API --------------------------------------------------------------------

    @property
    def queue_length(self) -> int:
        """Requests waiting for a free slot (not counting those in flight)."""
        return self._limiter.waiting

    async def chat_stream(
        self, messages: list[ChatMessage], *, on_queued: OnQueued | None = None
    ) -> AsyncGenerator[str, None]:
        """Yield the answer piece by piece; raises LLMError subclasses.

        Pieces already yielded stay valid when an error is raised later. Holds a model slot until it
        ends: a caller that stops early must ``aclose()`` it (``contextlib.aclosing``).
        """
        async with aclosing(self._chat_events(messages, on_queued)) as events:
            async for event in events:
                if event.text:
                    yield event.text

    async def chat(
        self, messages: list[ChatMessage], *, on_queued: OnQueued | None = None, shape: ChatShape | None = None
    ) -> ChatResult:
        """The whole answer; `shape` constrains it (a JSON schema, few tokens: a classification)."""
        # Streams internally too, so a stalled generation is caught by the chunk timeout
        # instead of waiting for the total timeout.
        return await collect_chat(self._chat_events(messages, on_queued, shape))

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Vectors for `texts`, in order, requested in batches of EMBED_BATCH.

        Unreachable server, timeout or missing model are remembered by ``embed_health``:
        until it re-checks, further calls fail at once with LLMUnavailable/ModelNotFound.
        """
        model = self.settings.embed_model
        if model is None:
            raise LLMError("no embed_model is configured")
        if not texts:
            return []
        self.embed_health.raise_if_down()
        wait = self.embed_query_timeout if len(texts) <= QUERY_EMBED_TEXTS else self.embed_bulk_timeout
        vectors: list[list[float]] = []
        try:
            for start in range(0, len(texts), EMBED_BATCH):
                batch = texts[start : start + EMBED_BATCH]
                got = await self._embed_batch(model, batch, self.settings.connect_timeout + wait)
                if len(got) != len(batch):
                    raise LLMResponseError(f"the server returned {len(got)} vectors for {len(batch)} texts")
                vectors.extend(got)
        except (LLMUnavailable, LLMTimeout, ModelNotFound) as err:
            self.embed_health.mark_down(err)
            raise
        self.embed_health.mark_up()
        return vectors

    def chat_events(
        self, messages: list[ChatMessage], shape: ChatShape | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        """The parsed stream of one answer (``ai.pool.ModelPool`` queues and retries over these)."""
        return self._chat_events(messages, None, shape)

    async def server_status(self) -> ServerStatus:
        """Reachability, version and models, for /status and `check`; updates what `health` remembers."""
        s = self.settings
        try:
            version, names = await asyncio.gather(self._version(), self._list_models())
            loaded = await self._loaded_models()
        except LLMError as err:
            if isinstance(err, LLMUnavailable | LLMTimeout):
                self.health.mark_down(LLMUnavailable(str(err)))
            return ServerStatus(
                reachable=False, version=None, model=s.model, model_available=False, embed_model=s.embed_model,
                embed_model_available=None, models=[], error=str(err), pull_hint=None, start_hint=self.start_hint,
            )  # fmt: skip
        model_ok = has_model(s.model, names)
        embed_ok = has_model(s.embed_model, names) if s.embed_model else None
        missing = [m for m, ok in ((s.model, model_ok), (s.embed_model, embed_ok)) if m and not ok]
        if model_ok or not self.listed_models_only:
            self.health.mark_up()
        else:
            self.health.mark_down(ModelNotFound(s.model, self.pull_hint(s.model)))
        if s.embed_model and not embed_ok and self.listed_models_only:
            self.embed_health.mark_down(ModelNotFound(s.embed_model, self.pull_hint(s.embed_model)))
        hints = [hint for hint in map(self.pull_hint, missing) if hint]
        why = "model not installed" if self.listed_models_only else "model not listed by the server"
        return ServerStatus(
            reachable=True,
            version=version,
            model=s.model,
            model_available=model_ok,
            embed_model=s.embed_model,
            embed_model_available=embed_ok,
            models=names,
            error=f"{why}: {', '.join(missing)}" if missing else None,
            pull_hint=" && ".join(hints) or None,
            loaded_models=loaded,
            embed_pull_hint=self.pull_hint(s.embed_model) if s.embed_model and not embed_ok else None,
            start_hint=self.start_hint,
        )

    async def aclose(self) -> None:
        """Stop background work. The aiohttp session belongs to the caller."""
        await self.health.aclose()
        await self.embed_health.aclose()

    # -- shared machinery --------------------------------------------------------------

    async def _chat_events(
        self, messages: list[ChatMessage], on_queued: OnQueued | None, shape: ChatShape | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        self.health.raise_if_down()
        async with self._limiter.slot(on_queued):
            # The server may have gone down while we were queued.
            self.health.raise_if_down()
            started = _now()
            deadline = started + self.settings.total_timeout
            url, body = self._chat_request(defuse_messages(messages))
            if shape is not None:
                self._shape(body, shape)
            response, first_deadline = await self._post_with_retries(url, body, deadline)
            text_len = 0
            try:
                async with aclosing(self._read_events(response, first_deadline, deadline)) as events:
                    async for event in events:
                        text_len += len(event.text.strip())
                        if event.done and text_len == 0:
                            raise LLMResponseError("the model returned an empty answer")
                        yield event
                        if event.done:
                            log.debug(
                                "chat done in %.1f s (%s, %s tokens)",
                                _now() - started,
                                event.done_reason,
                                event.eval_count,
                            )
                            return
            finally:
                response.release()

    async def _post_with_retries(
        self, url: str, body: dict[str, Any], deadline: float
    ) -> tuple[aiohttp.ClientResponse, float]:
        """POST and wait for a 200, retrying 503s; returns the response and its first-token deadline."""
        retries = self.settings.busy_retries
        for attempt in range(retries + 1):
            first_deadline = min(_now() + self.settings.first_token_timeout, deadline)
            response = await self._send(url, body, first_deadline, deadline)
            if response.status == 200:
                self.health.mark_up()
                return response, first_deadline
            text = await self._read_error_body(response)
            err = self._error_for(response.status, text, str(body.get("model", "")))
            if isinstance(err, LLMBusy) and attempt < retries:
                delay = self.settings.busy_backoff * 2**attempt
                if _now() + delay >= deadline:
                    raise LLMTimeout("total timeout while the server was busy") from err
                log.info("LLM server busy, retry %d/%d in %.1f s", attempt + 1, retries, delay)
                await asyncio.sleep(delay)
                continue
            if isinstance(err, ModelNotFound):
                self.health.mark_down(err)
            raise err
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self, url: str, body: dict[str, Any], first_deadline: float, deadline: float
    ) -> aiohttp.ClientResponse:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.settings.connect_timeout)

        async def post() -> aiohttp.ClientResponse:
            return await self._session.post(url, json=body, headers=self._headers(), timeout=timeout)

        # No headers arrive until a cold model has loaded, so this wait is the
        # first-token phase; cancelling it makes Ollama abort the load, hence generous.
        wait = first_deadline - _now()
        try:
            return await asyncio.wait_for(post(), max(wait, 0.001))
        except aiohttp.ClientError as exc:  # before TimeoutError: a connect timeout is both
            raise self._transport_failure(exc) from exc
        except TimeoutError as exc:
            raise self._timeout("first token", first_deadline, deadline) from exc

    async def _probe_embed(self) -> None:
        # Bulk timeout: this probe runs in the background and may be what loads a cold model.
        if self.settings.embed_model:
            await self._embed_batch(
                self.settings.embed_model, ["ping"], self.settings.connect_timeout + self.embed_bulk_timeout
            )

    def _timeout(self, phase: str, phase_deadline: float, deadline: float) -> LLMTimeout:
        if deadline <= phase_deadline:
            return LLMTimeout(f"no complete answer within total_timeout={self.settings.total_timeout} s")
        limit = self.settings.first_token_timeout if phase == "first token" else self.settings.chunk_timeout
        return LLMTimeout(f"no {phase} within {limit} s")

    async def _read_events(
        self, response: aiohttp.ClientResponse, first_deadline: float, deadline: float
    ) -> AsyncGenerator[StreamEvent, None]:
        parse = self._line_parser()
        phase, phase_deadline = "first token", first_deadline
        while True:
            end = min(phase_deadline, deadline)
            remaining = end - _now()
            if remaining <= 0:
                raise self._timeout(phase, phase_deadline, deadline)
            try:
                raw = await asyncio.wait_for(response.content.readline(), remaining)
            except TimeoutError as exc:
                raise self._timeout(phase, phase_deadline, deadline) from exc
            except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
                raise LLMResponseError(f"the answer stream broke off: {exc}") from exc
            except ValueError as exc:  # aiohttp: line longer than its buffer
                raise LLMResponseError(f"unreadable stream line: {exc}") from exc
            if not raw:
                raise LLMResponseError("the answer stream ended before the model finished")
            event = parse(raw.decode("utf-8", errors="replace").strip())
            if event is None:
                continue
            phase, phase_deadline = "chunk", _now() + self.settings.chunk_timeout
            yield event
            if event.done:
                return

    async def _read_error_body(self, response: aiohttp.ClientResponse) -> str:
        try:
            return await asyncio.wait_for(response.text(errors="replace"), self.settings.chunk_timeout)
        except (TimeoutError, aiohttp.ClientError):
            return ""
        finally:
            response.release()

    async def _get_json(self, path: str, timeout: float | None = None) -> Any:
        """GET a small JSON document; maps failures to LLMError subclasses."""
        url = self._url(path)
        total = timeout or (self.settings.connect_timeout + 10.0)
        client_timeout = aiohttp.ClientTimeout(total=total, sock_connect=self.settings.connect_timeout)
        try:
            async with self._session.get(url, headers=self._headers(), timeout=client_timeout) as resp:
                text = await resp.text(errors="replace")
                if resp.status != 200:
                    raise self._error_for(resp.status, text, self.settings.model)
                return _loads(text)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._transport_failure(exc) from exc

    async def _post_json(self, path: str, body: dict[str, Any], timeout_s: float) -> Any:
        """POST a non-streaming request (embeddings) that must complete within `timeout_s`."""
        url = self._url(path)
        timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=self.settings.connect_timeout)
        try:
            async with self._session.post(url, json=body, headers=self._headers(), timeout=timeout) as resp:
                text = await resp.text(errors="replace")
                if resp.status != 200:
                    raise self._error_for(resp.status, text, str(body.get("model", "")))
                return _loads(text)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._transport_failure(exc) from exc

    def _transport_failure(self, exc: BaseException) -> LLMError:
        """The LLMError for a request that failed on the wire (ai/transport.py); a server that is down is
        remembered as down."""
        err, marks_down = transport_error(exc, self.settings.base_url)
        if marks_down:
            self.health.mark_down(LLMUnavailable(str(err)))
        return err

    def _url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + path


async def collect_chat(events: AsyncGenerator[StreamEvent, None]) -> ChatResult:
    """The whole answer of a stream of events (closed on every exit path), timed on the real clock."""
    started = _now()
    pieces: list[str] = []
    final = StreamEvent()
    async with aclosing(events):
        async for event in events:
            pieces.append(event.text)
            if event.done:
                final = event
    return ChatResult(
        text="".join(pieces).strip(),
        done_reason=final.done_reason,
        eval_count=final.eval_count,
        duration_s=_now() - started,
    )


def _now() -> float:
    """A real monotonic clock for request deadlines (``perf_counter``: system-wide, monotonic).

    Not ``time.monotonic``/``loop.time()``: a harness that virtualises those (SimCord
    does, inside the bot's tasks) would freeze every deadline while the model server keeps
    streaming in real time, so the total timeout would never fire there. The server is a
    real process on a real clock; its deadlines must be on one too.
    """
    return time.perf_counter()


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise LLMResponseError(f"the server sent invalid JSON: {text[:200]!r}") from exc
