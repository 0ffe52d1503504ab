"""A pydantic-ai chat model that reaches any LLM through litellm, configured by ``VLMConfig``.

It is a :class:`~pydantic_ai.models.function.FunctionModel` whose functions speak OpenAI's chat
format to ``litellm.acompletion``: pydantic-ai messages become chat messages, the agent's tools
become ``tools``, and the answer (text, tool calls, ``reasoning_content``) comes back as parts,
streamed or not. Usage is what the provider reports, in a stream too (from its usage chunk);
only when a provider reports none does pydantic-ai's estimate stand in.

Transient failures (connection errors, 429, 5xx) are retried ``max_retries`` times with a short
backoff, a stream only until its first delta went out. Anything else, a timeout included (it is
the caller's whole budget, so it is not spent again), is raised as
:class:`~openviking_mcp.contract.errors.VLMFailedError` with the API key scrubbed from the message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, assert_never

from pydantic_ai import RunContext
from pydantic_ai.exceptions import UserError
from pydantic_ai.messages import (
    BinaryContent,
    CachePoint,
    CapabilityLoadDeltaPart,
    CompactionPart,
    FinishReason,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    ModelResponseStreamEvent,
    ModelSettingsDeltaPart,
    RetryFeedbackPart,
    RetryPromptPart,
    SystemPromptPart,
    TextContent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UserContent,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.function import (
    AgentInfo,
    BuiltinToolCallsReturns,
    DeltaThinkingCalls,
    DeltaThinkingPart,
    DeltaToolCall,
    DeltaToolCalls,
    FunctionModel,
    FunctionStreamedResponse,
)
from pydantic_ai.native_tools import AbstractNativeTool
from pydantic_ai.profiles import ModelProfile
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.usage import RequestUsage

from openviking_mcp.config import VLMConfig
from openviking_mcp.contract.errors import VLMFailedError
from openviking_mcp.models._litellm import import_litellm
from openviking_mcp.models.llm import model_string

__all__ = ["litellm_chat_model"]

logger = logging.getLogger("openviking_mcp.models")

_Message = dict[str, Any]
_StreamItem = str | DeltaToolCalls | DeltaThinkingCalls | BuiltinToolCallsReturns

_THINKING_INDEX = 1_000_000
"""The delta index reasoning streams under: far above any tool call's, so the two never collide."""

_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_call",
    "function_call": "tool_call",
    "content_filter": "content_filter",
}


def litellm_chat_model(config: VLMConfig, *, timeout: float | None = None) -> Model:
    """A pydantic-ai model for ``config`` (``timeout`` in seconds overrides ``config.timeout``)."""
    return _LiteLLMChatModel(config, timeout=timeout)


class _LiteLLMChatModel(FunctionModel):
    # A real wire, unlike the test double this builds on: no native channel to reveal tools
    # (pydantic-ai announces them in text instead), no native tools, and only text and images
    # travel in a user message (a tool's other files are replaced by a note naming them).
    supported_tool_deferral_modes = frozenset()
    supported_tool_addition_modes = frozenset()
    _announces_lookalike_notes: ClassVar[bool] = True
    _unsupported_file_inputs = frozenset({"document", "audio", "video"})

    def __init__(self, config: VLMConfig, *, timeout: float | None = None) -> None:
        if not config.model:
            raise ValueError("a litellm chat model needs vlm.model")
        self.config = config
        self.timeout = timeout or config.timeout
        self.litellm_model = model_string(config.provider, config.model)
        super().__init__(
            self._complete,
            stream_function=self._stream,
            model_name=f"litellm:{self.litellm_model}",
            # No response_format is sent, so structured output goes through tools or the prompt.
            profile=ModelProfile(
                supports_json_schema_output=False, supports_json_object_output=False
            ),
        )
        self._system = "litellm"

    @property
    def model_id(self) -> str:
        return self.model_name  # already "litellm:provider/model", as LLM.model_id

    @classmethod
    def supported_native_tools(cls) -> frozenset[type[AbstractNativeTool]]:
        return frozenset()

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        # FunctionModel opens the stream (and its first delta: retries happen before that); the
        # response is re-made as one that also takes the provider's usage from `_StreamEnd`.
        async with super().request_stream(
            messages, model_settings, model_request_parameters, run_context
        ) as opened:
            assert isinstance(opened, FunctionStreamedResponse)
            yield _LiteLLMStreamedResponse(
                model_request_parameters=opened.model_request_parameters,
                _model_name=opened.model_name,
                _iter=opened._iter,
            )

    async def _complete(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        kwargs = self._request(messages, info)
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(self.timeout):
                    response = await import_litellm().acompletion(**kwargs)
                break
            except Exception as exc:  # litellm raises many provider-specific types
                await self._retry_or_raise(exc, attempt)
                attempt += 1
        choice = response.choices[0]
        raw_finish = getattr(choice, "finish_reason", None)
        return ModelResponse(
            parts=_response_parts(choice.message),
            usage=_usage(response) or RequestUsage(),  # empty: FunctionModel estimates it
            provider_response_id=getattr(response, "id", None) or None,
            finish_reason=_FINISH_REASONS.get(str(raw_finish)),
            provider_details={"finish_reason": raw_finish} if raw_finish else None,
        )

    async def _stream(
        self, messages: list[ModelMessage], info: AgentInfo
    ) -> AsyncIterator[_StreamItem]:
        kwargs = self._request(messages, info)
        kwargs.update(stream=True, stream_options={"include_usage": True})
        attempt = 0
        while True:
            sent_any = False
            stream: Any = None
            try:
                stream = await import_litellm().acompletion(**kwargs)
                end = _StreamEnd()
                async for chunk in stream:
                    for item in _chunk_items(chunk, end):
                        sent_any = True
                        yield item
                yield end
                return
            except Exception as exc:  # litellm raises many provider-specific types
                if sent_any:  # half an answer went out already: asking again would repeat it
                    raise self._failed(exc) from None
                failure = exc
            finally:
                if stream is not None and hasattr(stream, "aclose"):
                    await stream.aclose()
            await self._retry_or_raise(failure, attempt)
            attempt += 1

    def _request(self, messages: list[ModelMessage], info: AgentInfo) -> dict[str, Any]:
        """The ``litellm.acompletion`` arguments for one turn."""
        config = self.config
        settings: ModelSettings = info.model_settings or {}
        kwargs: dict[str, Any] = {
            "model": self.litellm_model,
            "messages": _map_messages(messages, info.instructions),
            "temperature": settings.get("temperature", config.temperature),
            "timeout": self.timeout,
            "max_retries": 0,  # the SDK's own retries would multiply ours
        }
        if config.api_base:
            kwargs["api_base"] = config.api_base
        if config.api_key:
            kwargs["api_key"] = config.api_key
        if config.extra_headers:
            kwargs["extra_headers"] = dict(config.extra_headers)
        if max_tokens := settings.get("max_tokens") or config.max_tokens:
            kwargs["max_tokens"] = max_tokens
        tools = [*info.function_tools, *info.output_tools]
        if tools:
            kwargs["tools"] = [_map_tool(tool) for tool in tools]
            # With no text output allowed (a structured output tool), a tool call must come.
            kwargs["tool_choice"] = "auto" if info.allow_text_output else "required"
        return kwargs

    async def _retry_or_raise(self, exc: Exception, attempt: int) -> None:
        """Back off before the next attempt, or raise :class:`VLMFailedError` for ``exc``."""
        if attempt >= self.config.max_retries or not _transient(exc):
            raise self._failed(exc) from None
        logger.warning(
            "LLM call to %s failed (attempt %d of %d), retrying: %s",
            self.litellm_model,
            attempt + 1,
            self.config.max_retries + 1,
            self._scrub(str(exc))[:200],
        )
        await asyncio.sleep(min(0.5 * 2**attempt, 8.0))

    def _failed(self, exc: Exception) -> VLMFailedError:
        # Raised `from None`: the original exception's text may carry the key unscrubbed.
        if _timed_out(exc):
            message = f"LLM call to {self.litellm_model} timed out after {self.timeout:g}s"
        else:
            status = getattr(exc, "status_code", None)
            what = f"{type(exc).__name__}, HTTP {status}" if status else type(exc).__name__
            message = f"LLM call to {self.litellm_model} failed ({what}): {exc}"
        return VLMFailedError(
            self._scrub(message)[:600],
            {"vlm_model": self.litellm_model, "vlm_api_base": self.config.api_base},
        )

    def _scrub(self, text: str) -> str:
        key = self.config.api_key
        return text.replace(key, "***") if key else text


@dataclass
class _LiteLLMStreamedResponse(FunctionStreamedResponse):
    """FunctionModel's streamed response, also taking what the provider reports at the end."""

    def _map_item(self, item: _StreamItem) -> Iterator[ModelResponseStreamEvent]:
        if not isinstance(item, _StreamEnd):
            yield from super()._map_item(item)
            return
        if item.usage is not None:  # the provider's count replaces the running estimate
            self._add_usage(item.usage, reported=True, cumulative=True)
        self.provider_response_id = item.response_id or self.provider_response_id
        if item.finish_reason:
            self.finish_reason = _FINISH_REASONS.get(item.finish_reason)
            self.provider_details = {"finish_reason": item.finish_reason}


class _StreamEnd(dict[int, DeltaToolCall]):
    """The last item of a stream: what the provider reported besides deltas.

    An empty ``DeltaToolCalls`` to fit the stream function's type; FunctionModel's own stream
    response ignores an empty one, and :class:`_LiteLLMStreamedResponse` reads the attributes.
    """

    def __init__(self) -> None:
        super().__init__()
        self.usage: RequestUsage | None = None
        self.response_id: str | None = None
        self.finish_reason: str | None = None


def _chunk_items(chunk: Any, end: _StreamEnd) -> Iterator[_StreamItem]:
    """The deltas in one litellm stream chunk; usage, id and finish reason are noted on ``end``."""
    end.response_id = getattr(chunk, "id", None) or end.response_id
    if (usage := _usage(chunk)) is not None:
        end.usage = usage
    for choice in (getattr(chunk, "choices", None) or [])[:1]:
        if finish := getattr(choice, "finish_reason", None):
            end.finish_reason = str(finish)
        delta = getattr(choice, "delta", None)
        if delta is None:
            continue
        if reasoning := getattr(delta, "reasoning_content", None):
            yield {_THINKING_INDEX: DeltaThinkingPart(content=str(reasoning))}
        if content := getattr(delta, "content", None):
            yield str(content)
        for position, call in enumerate(getattr(delta, "tool_calls", None) or []):
            index = call.index if isinstance(call.index, int) else position
            function = getattr(call, "function", None)
            yield {
                index: DeltaToolCall(
                    name=getattr(function, "name", None) or None,
                    json_args=getattr(function, "arguments", None) or None,
                    tool_call_id=getattr(call, "id", None) or None,
                )
            }


def _response_parts(message: Any) -> list[ModelResponsePart]:
    """The parts of a (non-streamed) litellm chat message."""
    parts: list[ModelResponsePart] = []
    if reasoning := getattr(message, "reasoning_content", None):
        parts.append(ThinkingPart(content=str(reasoning)))
    if content := getattr(message, "content", None):
        parts.append(TextPart(content=str(content)))
    for call in getattr(message, "tool_calls", None) or []:
        arguments = call.function.arguments or "{}"
        if call.id:
            parts.append(ToolCallPart(call.function.name, arguments, tool_call_id=call.id))
        else:
            parts.append(ToolCallPart(call.function.name, arguments))
    return parts


def _usage(response: Any) -> RequestUsage | None:
    """The provider's token counts on a response or chunk, if it sent any."""
    usage = getattr(response, "usage", None)
    if usage is None:
        return None
    details = getattr(usage, "prompt_tokens_details", None)
    counted = RequestUsage(
        input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cache_read_tokens=int(getattr(details, "cached_tokens", 0) or 0),
    )
    return counted if counted.has_values() else None


def _timed_out(exc: Exception) -> bool:
    if isinstance(exc, (TimeoutError, import_litellm().Timeout)):
        return True
    return "Timeout" in type(exc).__name__  # e.g. an httpx read timeout surfacing unwrapped


def _transient(exc: Exception) -> bool:
    """Whether asking again may help: connection errors, rate limits and server errors."""
    if _timed_out(exc):
        return False
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status == 429 or status >= 500
    return isinstance(exc, (ConnectionError, import_litellm().APIConnectionError))


def _map_tool(tool: ToolDefinition) -> _Message:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description or "",
            "parameters": tool.parameters_json_schema,
        },
    }


def _map_messages(messages: Sequence[ModelMessage], instructions: str | None) -> list[_Message]:
    """pydantic-ai's history as OpenAI chat messages, the instructions first."""
    mapped: list[_Message] = [{"role": "system", "content": instructions}] if instructions else []
    for message in messages:
        if isinstance(message, ModelRequest):
            mapped.extend(_map_request(message))
        elif isinstance(message, ModelResponse):
            if (assistant := _map_response(message)) is not None:
                mapped.append(assistant)
        else:
            assert_never(message)
    return mapped


def _map_request(message: ModelRequest) -> Iterator[_Message]:
    files: list[UserContent] = []  # what tools returned besides text, sent after their results
    for part in message.parts:
        if isinstance(part, SystemPromptPart):
            yield {"role": "system", "content": part.content}
        elif isinstance(part, UserPromptPart):
            yield _map_user_prompt(part.content)
        elif isinstance(part, ToolReturnPart):
            text, returned_files = part.model_response_str_and_user_content()
            files.extend(returned_files)
            yield {"role": "tool", "tool_call_id": part.tool_call_id, "content": text}
        elif isinstance(part, RetryPromptPart):  # deprecated; Agent translates it before here
            if part.tool_name:
                yield {
                    "role": "tool",
                    "tool_call_id": part.tool_call_id,
                    "content": part.model_response(),
                }
            else:
                yield {"role": "user", "content": part.model_response()}
        elif isinstance(part, RetryFeedbackPart):  # Agent translates it into a user/system part
            yield {"role": "user", "content": part.model_response()}
        elif isinstance(part, ModelSettingsDeltaPart | CapabilityLoadDeltaPart):
            continue  # bookkeeping records: the settings and tools they change go out on their own
        else:
            raise UserError(
                f"The litellm chat model cannot send a {type(part).__name__} "
                "(run it through an Agent, or call model.prepare_messages() first)"
            )
    if files:
        yield _map_user_prompt(files)


def _map_user_prompt(content: str | Sequence[UserContent]) -> _Message:
    if isinstance(content, str):
        return {"role": "user", "content": content}
    items: list[_Message] = []
    for item in content:
        if isinstance(item, str):
            items.append({"type": "text", "text": item})
        elif isinstance(item, TextContent):  # its metadata is for the application only
            items.append({"type": "text", "text": item.content})
        elif isinstance(item, ImageUrl):
            items.append(_image(item.url, item.vendor_metadata))
        elif isinstance(item, BinaryContent) and item.is_image:
            items.append(_image(item.data_uri, item.vendor_metadata))
        elif isinstance(item, CachePoint):
            continue  # a prompt-cache marker, not content; OpenAI's chat format has none
        else:
            kind = getattr(item, "kind", type(item).__name__)
            raise UserError(
                f"The litellm chat model sends only text and images in a user prompt, not {kind}"
            )
    return {"role": "user", "content": items}


def _image(url: str, metadata: dict[str, Any] | None) -> _Message:
    image: dict[str, Any] = {"url": url}
    if metadata and metadata.get("detail"):
        image["detail"] = metadata["detail"]
    return {"type": "image_url", "image_url": image}


def _map_response(message: ModelResponse) -> _Message | None:
    """One assistant message, or ``None`` when nothing in the response is sent back."""
    texts: list[str] = []
    calls: list[_Message] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            texts.append(part.content)
        elif isinstance(part, ToolCallPart):
            calls.append(
                {
                    "id": part.tool_call_id,
                    "type": "function",
                    "function": {"name": part.tool_name, "arguments": part.args_as_json_str()},
                }
            )
        elif isinstance(part, ThinkingPart | CompactionPart):
            continue  # reasoning is not sent back; a compaction item is another API's state
        else:
            raise UserError(
                f"The litellm chat model cannot send back a {type(part).__name__} "
                "(a provider-side tool call, file or speech from another model's turn)"
            )
    if not texts and not calls:
        return None
    assistant: _Message = {"role": "assistant", "content": "\n\n".join(texts) or None}
    if calls:
        assistant["tool_calls"] = calls
    return assistant
