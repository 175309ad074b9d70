"""Scoring planner decisions against labelled routing cases."""

from __future__ import annotations

from agent.planner_eval import RoutingScore, load_cases


def test_absent_arguments_count_against_the_decision():
    case = {"q": "make two images of a 12 mm nodule", "tool": "generate_images",
            "args": {"n": 2, "condition": "12 mm nodule"}, "absent": ["seed"]}
    score = RoutingScore()
    score.add(case, {"tool": "generate_images", "args": {"n": 2, "condition": "12 mm nodule", "seed": 12}})
    score.add(case, {"tool": "generate_images", "args": {"n": 2, "condition": "a 12 mm nodule"}})
    assert (score.tool_correct, score.args_correct, score.args_total) == (2, 1, 2)


def test_routing_set_is_well_formed():
    cases = load_cases()
    assert len(cases) >= 160
    assert all({"q", "tool", "args"} <= set(c) for c in cases)
    assert len({c["q"] for c in cases}) == len(cases)  # no duplicated request
