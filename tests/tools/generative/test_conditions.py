"""Free-text conditions map onto the attribute classes; anything else is refused with examples."""

from __future__ import annotations

import numpy as np
import pytest

from agent.errors import InvalidInputError
from tools.generative.conditions import (NUM_CLASSES, Condition, class_index, class_parts, parse_condition,
                                         sample_classes)


def test_full_condition_parses_side_and_size() -> None:
    c = parse_condition("nodule in right lung, 12 mm")
    assert c == Condition(lesion_present=True, side="right", size_bucket=0, size_mm=12.0)


@pytest.mark.parametrize("text,expected", [
    ("", Condition()),
    ("normal", Condition(lesion_present=False)),
    ("no nodule", Condition(lesion_present=False)),
    ("nodule", Condition(lesion_present=True)),
    ("large nodule in the left lung", Condition(lesion_present=True, side="left", size_bucket=2)),
    ("left lung lesion, 2 cm", Condition(lesion_present=True, side="left", size_bucket=1, size_mm=20.0)),
])
def test_conditions(text: str, expected: Condition) -> None:
    assert parse_condition(text) == expected


@pytest.mark.parametrize("text", [
    "pleural effusion", "brain tumour in the left hemisphere", "nodule in both right and left lung",
    "no nodule in the right lung", "nodule, 80 mm", "small nodule, 30 mm", "nodule 12", "xyzzy",
])
def test_unsupported_conditions_are_refused_with_examples(text: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_condition(text)
    assert "nodule in right lung" in err.value.hint


def test_class_round_trip() -> None:
    assert class_index(False) == 0
    for k in range(1, NUM_CLASSES):
        present, side, bucket = class_parts(k)
        size = (11.0, 20.0, 28.0)[bucket]
        assert class_index(present, side, size) == k


def test_sampled_classes_respect_the_condition_and_the_seed() -> None:
    cond = parse_condition("nodule in right lung")
    a = sample_classes(cond, 50, np.random.default_rng(3))
    b = sample_classes(cond, 50, np.random.default_rng(3))
    assert (a == b).all()
    assert all(class_parts(int(k))[1] == "right" for k in a)
    assert len(set(a.tolist())) > 1  # the unspecified size is drawn, not fixed
    assert (sample_classes(parse_condition("normal"), 10, np.random.default_rng(0)) == 0).all()
