"""Reading tool calls in the formats small models actually write."""

from __future__ import annotations

import pytest

from agent.planner_parse import parse_tool_call


@pytest.mark.parametrize("text, expected", [
    ('{"tool": "segment_image", "args": {"target": "heart"}}', ("segment_image", {"target": "heart"})),
    ('Sure!\n```json\n{"tool": "denoise_image", "args": {}}\n```', ("denoise_image", {})),
    ('<tool_call>\n{"name": "image_info", "arguments": {"image": "img-1"}}\n</tool_call>',
     ("image_info", {"image": "img-1"})),
    ('<tool_call>{"name": "search_knowledge", "arguments": "{\\"query\\": \\"DDIM\\"}"}</tool_call>',
     ("search_knowledge", {"query": "DDIM"})),
    ('{"tool": null, "args": {}}', (None, {})),
    ('{"tool": "none"}', (None, {})),
    ('{"function": {"name": "detect_anomaly", "arguments": "{}"}}', ("detect_anomaly", {})),
    # cut off by the token limit: strings and brackets are closed
    ('{"tool": "search_knowledge", "args": {"query": "latent diff', ("search_knowledge", {"query": "latent diff"})),
    ('text {not json} then {"tool": "image_info", "args": {}}', ("image_info", {})),
])
def test_formats(text, expected):
    assert parse_tool_call(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "I cannot help with that.", "{}", '{"foo": 1}', "[1, 2]"])
def test_no_call(text):
    assert parse_tool_call(text) is None
