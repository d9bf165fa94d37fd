"""The chat-format contract. One object renders what the model sees and parses what it writes.

Inference, the server, training and evaluation all go through the same object
(DESIGN.md §4), so a model is trained on exactly the tokens it sees at inference.

Rendering is one walk over the messages (:meth:`ChatFormat.segments`) that every format
shares; a format says how each part looks by filling the ``render_*`` hooks. Parsing is one
contract: ``parse(text, tool_names=None)`` and ``stream_parser(tool_names=None)``, the first
being the second fed the whole text at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from typing import Any, Protocol, runtime_checkable

from ..types import Delta, ParseResult
from .common import call_arguments, function_dicts, is_code_call, prepare_messages
from .segment import Segment
from .segment import seg as text_seg

__all__ = ["ChatFormat", "Segment", "StreamParser", "TokenizerAdapter"]


@runtime_checkable
class TokenizerAdapter(Protocol):
    """The two things a format needs from a tokenizer."""

    def encode_text(self, text: str) -> list[int]:
        """Token ids of plain text; special-token strings in it are NOT turned into special ids."""

    def special_id(self, marker: str) -> int | None:
        """The id of ``marker`` if the vocabulary has it as one (special) token, else None."""


class StreamParser(ABC):
    """Incremental parser: feed text chunks, get :class:`Delta` events.

    Content that might be the beginning of a call is held back until it is clear,
    and released as content if it turns out not to be a call (never withheld forever:
    ``finish()`` flushes everything). Call arguments are emitted as JSON chunks whose
    concatenation equals ``ToolCall.arguments_json()`` of the final parse.
    """

    @abstractmethod
    def feed(self, chunk: str) -> list[Delta]: ...

    @abstractmethod
    def finish(self) -> list[Delta]: ...

    @abstractmethod
    def result(self) -> ParseResult:
        """The final parse (valid after ``finish()``); equals ``format.parse(full_text)``."""


class ChatFormat(ABC):
    """Base class for a chat protocol (registered ones: see :func:`calltune.formats.list_formats`).

    A format implements :meth:`stream_parser` and the ``render_*`` hooks that
    :meth:`segments` calls; everything else (rendering to text, encoding, parsing a whole
    turn) is shared.
    """

    name: str = ""
    #: strings that end an assistant turn; engines stop on them
    stop: list[str] = []
    #: role markers the format needs; encode() inserts them by id when the vocab has them
    special_tokens: list[str] = []
    #: the tags around a reasoning model's thinking (see :mod:`calltune.formats.reasoning`);
    #: None: the format has none
    reasoning_tags: tuple[str, str] | None = ("<think>", "</think>")
    #: the model's own template opens the thinking block in the generation prompt when thinking
    #: is on (DeepSeek-R1, QwQ, Qwen3 "thinking" models); Qwen3's hybrid models open it themselves
    template_opens_thinking: bool = False

    # -- rendering ------------------------------------------------------------------------------
    def segments(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
    ) -> list[Segment]:
        """Render messages (OpenAI schema; a message may carry ``"loss": bool``) and tools
        (OpenAI tool dicts ``{"type": "function", "function": {...}}``) into segments.

        The walk: the tools (with the leading system message when :meth:`takes_system`)
        → :meth:`render_prologue`; system and user messages → :meth:`render_text_turn`;
        an assistant message → :meth:`render_assistant_open`, its text
        (:meth:`render_assistant_text`, or :meth:`render_assistant_code` for a code
        interpreter message), one :meth:`render_tool_call` per call,
        :meth:`render_assistant_close`; a tool result → :meth:`render_tool_result`; last
        :meth:`render_generation_prompt`. Each hook gets the message's loss flag.
        """
        msgs = prepare_messages(messages)
        funcs = function_dicts(tools)
        system: str | None = None
        system_loss = False
        if msgs and msgs[0][0]["role"] == "system" and self.takes_system(funcs):
            system, system_loss = msgs[0][0]["content"], msgs[0][1]
            msgs = msgs[1:]
        out = self.render_prologue(system, system_loss, funcs)
        code_ids: set[str] = set()  # ids of the code interpreter calls made so far
        last_code = False  # the previous assistant message was interpreter code
        for i, (m, loss) in enumerate(msgs):
            role = m["role"]
            if role in ("system", "user"):
                out += self.render_text_turn(role, m["content"], loss)
            elif role == "assistant":
                out += self._walk_assistant(m, loss, code_ids)
                last_code = m.get("name") == "interpreter"
            else:  # a tool result
                cid = m.get("tool_call_id")
                out += self.render_tool_result(
                    m["content"],
                    loss,
                    code=cid in code_ids or (last_code and not cid),
                    first=i == 0 or msgs[i - 1][0]["role"] != "tool",
                    last=i == len(msgs) - 1 or msgs[i + 1][0]["role"] != "tool",
                )
        if add_generation_prompt:
            out += self.render_generation_prompt()
        return out

    def _walk_assistant(self, m: dict[str, Any], loss: bool, code_ids: set[str]) -> list[Segment]:
        calls = m.get("tool_calls") or []
        if m.get("name") == "interpreter":
            body = self.render_assistant_code(m["content"], loss, bool(calls))
        else:
            body = self.render_assistant_text(m["content"], loss, bool(calls))
        for call in calls:
            name, args = call_arguments(call)
            if is_code_call(name, args):
                code_ids.add(call["id"])
            body += self.render_tool_call(name, args, loss, first=not body)
        return self.render_assistant_open(loss) + body + self.render_assistant_close(loss)

    # the hooks; a format that overrides segments() itself needs none of them
    def takes_system(self, funcs: list[dict[str, Any]]) -> bool:
        """True when the leading system message goes into :meth:`render_prologue` (with the
        tools) instead of being rendered as a turn."""
        return False

    def render_prologue(self, system: str | None, loss: bool, funcs: list[dict[str, Any]]) -> list[Segment]:
        """What comes before the messages: the tools (``function`` dicts) and, when
        :meth:`takes_system`, the leading system message (None when there is none)."""
        return []

    def render_text_turn(self, role: str, content: str, loss: bool) -> list[Segment]:
        """A system or user message."""
        raise NotImplementedError(f"{type(self).__name__} does not render {role} messages")

    def render_assistant_open(self, loss: bool) -> list[Segment]:
        """What starts an assistant message (before its text and calls)."""
        return []

    def render_assistant_text(self, content: str, loss: bool, has_calls: bool) -> list[Segment]:
        """The text of an assistant message (``content`` may be empty)."""
        raise NotImplementedError(f"{type(self).__name__} does not render assistant messages")

    def render_assistant_code(self, code: str, loss: bool, has_calls: bool) -> list[Segment]:
        """An assistant message for the code interpreter (``name="interpreter"``); by default
        its text."""
        return self.render_assistant_text(code, loss, has_calls)

    def render_tool_call(self, name: str, args: dict[str, Any], loss: bool, first: bool) -> list[Segment]:
        """One call of an assistant message; ``first``: nothing of the message's text or
        calls has been rendered before it."""
        raise NotImplementedError(f"{type(self).__name__} does not render tool calls")

    def render_assistant_close(self, loss: bool) -> list[Segment]:
        """What ends an assistant message."""
        return []

    def render_tool_result(
        self, content: str, loss: bool, *, code: bool, first: bool, last: bool
    ) -> list[Segment]:
        """A tool result. ``code``: it answers the code interpreter; ``first`` / ``last``: it
        opens / closes a run of consecutive tool results."""
        raise NotImplementedError(f"{type(self).__name__} does not render tool results")

    def render_generation_prompt(self) -> list[Segment]:
        """What the runtime appends so that the model writes the assistant's turn."""
        return []

    def render_thinking(self, enabled: bool) -> list[Segment]:
        """What follows the generation prompt when a request sets the thinking switch
        (``chat_template_kwargs.enable_thinking``), as Qwen3's template writes it: off → an
        empty thinking block, so the model answers at once; on → nothing (the model opens the
        block), or the opening tag when :attr:`template_opens_thinking`."""
        if not self.reasoning_tags:
            return []
        start, end = self.reasoning_tags
        if not enabled:
            return [
                text_seg(start, "assistant", special=True),
                text_seg("\n\n", "assistant"),
                text_seg(end, "assistant", special=True),
                text_seg("\n\n", "assistant"),
            ]
        if self.template_opens_thinking:
            return [text_seg(start, "assistant", special=True), text_seg("\n", "assistant")]
        return []

    def prompt_segments(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
        thinking: bool | None = None,
    ) -> list[Segment]:
        """:meth:`segments`, then the thinking switch after the generation prompt (``thinking``
        None: the template's default, nothing added)."""
        out = self.segments(messages, tools, add_generation_prompt)
        if add_generation_prompt and thinking is not None:
            out = [*out, *self.render_thinking(thinking)]
        return out

    def render(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
        thinking: bool | None = None,
    ) -> str:
        return "".join(s.text for s in self.prompt_segments(messages, tools, add_generation_prompt, thinking))

    # -- encoding -------------------------------------------------------------------------------
    def encode(
        self,
        messages: Sequence[dict[str, Any]],
        tokenizer: TokenizerAdapter,
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
        thinking: bool | None = None,
    ) -> list[int]:
        segs = self.prompt_segments(messages, tools, add_generation_prompt, thinking)
        ids, _ = self.encode_segments(segs, tokenizer)
        return ids

    def encode_segments(
        self, segments: Sequence[Segment], tokenizer: TokenizerAdapter
    ) -> tuple[list[int], list[bool]]:
        """Token ids and the per-token unshifted loss mask. Special segments become their
        single id when the vocab has it; text segments are encoded as plain text."""
        ids: list[int] = []
        mask: list[bool] = []
        for seg in segments:
            if not seg.text:
                continue
            sid = tokenizer.special_id(seg.text) if seg.special else None
            piece = [sid] if sid is not None else tokenizer.encode_text(seg.text)
            ids.extend(piece)
            mask.extend([seg.loss] * len(piece))
        return ids, mask

    # -- parsing --------------------------------------------------------------------------------
    def parse(self, text: str, tool_names: Collection[str] | None = None) -> ParseResult:
        """Parse one assistant turn as generated (without the stop string). ``tool_names``:
        the names of the offered tools (None: not known); a format may use them to tell calls
        from prose. The same as feeding ``text`` at once to :meth:`stream_parser`."""
        sp = self.stream_parser(tool_names)
        sp.feed(text)
        sp.finish()
        return sp.result()

    @abstractmethod
    def stream_parser(self, tool_names: Collection[str] | None = None) -> StreamParser:
        """An incremental parser of one assistant turn (``tool_names`` as for :meth:`parse`)."""

    def stop_means_call(self, stop: str | None) -> bool:
        """True when generation stopped on a string that signals a tool call (ChatGLM3's
        ``<|observation|>``); used by the runtime to tell 'turn over' from 'call made'."""
        return False
