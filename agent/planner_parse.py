"""Find a tool call in model text, whatever shape the model chose to write it in.

Small models answer in several native formats: a bare JSON object, a ```json fenced block,
Qwen-style `<tool_call>{"name": ..., "arguments": ...}</tool_call>`, or JSON cut off by the
token limit. This returns the call as (tool, args), or None when there is none.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_NO_TOOL = {None, "", "null", "none", "None", "no_tool", "no tool"}


def _close_truncated(text: str) -> str:
    """Close the strings and brackets of JSON cut off mid-way (the token limit hit)."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    repaired = text + ('"' if in_string else "")
    repaired = re.sub(r",\s*$", "", repaired)
    return repaired + "".join(reversed(stack))


def _json_objects(text: str) -> list[Any]:
    """Every JSON object that can be decoded from `text`, in order; truncated ones are closed."""
    decoder = json.JSONDecoder()
    found: list[Any] = []
    i = 0
    while (start := text.find("{", i)) != -1:
        try:
            obj, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            try:
                obj, end = json.loads(_close_truncated(text[start:])), len(text)
            except json.JSONDecodeError:
                i = start + 1
                continue
        found.append(obj)
        i = end
    return found


def _as_call(obj: Any) -> tuple[str | None, dict[str, Any]] | None:
    if not isinstance(obj, dict):
        return None
    if "function" in obj and isinstance(obj["function"], dict):  # OpenAI tool_calls entry
        obj = obj["function"]
    for name_key, args_key in (("tool", "args"), ("name", "arguments"), ("tool", "arguments"),
                               ("name", "args"), ("tool_name", "parameters"), ("name", "parameters")):
        if name_key in obj:
            name = obj[name_key]
            args = obj.get(args_key, {})
            if isinstance(args, str):
                try:
                    args = json.loads(args)
                except json.JSONDecodeError:
                    args = {}
            if not isinstance(args, dict):
                args = {}
            if name in _NO_TOOL:
                return None, {}
            if isinstance(name, str):
                return name.strip(), args
    return None


def parse_tool_call(text: str) -> tuple[str | None, dict[str, Any]] | None:
    """(tool or None for 'no tool', args) from model output, or None when no call can be read."""
    if not text or not text.strip():
        return None
    regions = [m.group(1) for m in _TOOL_CALL.finditer(text)]
    regions += [m.group(1) for m in _FENCE.finditer(text)]
    regions.append(text)
    for region in regions:
        for obj in _json_objects(region):
            call = _as_call(obj)
            if call is not None:
                return call
    return None
