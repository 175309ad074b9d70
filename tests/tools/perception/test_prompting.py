import numpy as np
import pytest

from agent.errors import InvalidInputError
from tools.perception.prompting import build_prompt


def test_point_outside_image_is_refused():
    with pytest.raises(InvalidInputError, match="outside the image"):
        build_prompt(height=100, width=80, point=(85, 10))


def test_empty_box_is_refused():
    with pytest.raises(InvalidInputError, match="empty"):
        build_prompt(height=100, width=80, box=(30, 30, 20, 50))


def test_box_running_off_the_image_is_clipped_with_a_warning():
    prompt, warnings = build_prompt(height=100, width=80, box=(-10, 5, 60, 200))
    assert prompt.box.tolist() == [0, 5, 60, 99]
    assert any("clipped" in w for w in warnings)


def test_box_outside_the_image_is_refused():
    with pytest.raises(InvalidInputError, match="does not overlap"):
        build_prompt(height=100, width=80, box=(200, 200, 300, 300))


def test_box_larger_than_the_image_warns_that_it_says_nothing():
    _, warnings = build_prompt(height=100, width=80, box=(-50, -50, 500, 500))
    assert any("whole image" in w for w in warnings)


def test_only_negative_points_are_refused():
    with pytest.raises(InvalidInputError, match="negative"):
        build_prompt(height=100, width=80, points=[(10, 10)], labels=[0])


def test_labels_must_match_points_and_be_binary():
    with pytest.raises(InvalidInputError, match="labels"):
        build_prompt(height=100, width=80, points=[(10, 10), (20, 20)], labels=[1])
    with pytest.raises(InvalidInputError, match="1 \\(inside\\) or 0"):
        build_prompt(height=100, width=80, points=[(10, 10)], labels=[2])


def test_no_prompt_is_refused():
    with pytest.raises(InvalidInputError, match="No prompt"):
        build_prompt(height=100, width=80)


def test_point_and_points_combine_and_scale():
    prompt, _ = build_prompt(height=100, width=80, point=(10, 20), points=[(30, 40)], labels=[0], box=(0, 0, 50, 50))
    assert prompt.labels.tolist() == [1, 0]
    assert prompt.kind == "box+points"
    half = prompt.scaled(0.5, 0.25)
    assert half.points.tolist() == [[5, 5], [15, 10]]
    assert half.box.tolist() == [0, 0, 25, 12.5]
    assert prompt.to_json()["labels"] == [1, 0]
