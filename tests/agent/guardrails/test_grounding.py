from __future__ import annotations

import pytest

from agent.guardrails.calibration import calibrate
from agent.guardrails.grounding import GROUNDING_THRESHOLD, check_answer, split_claims
from knowledge.types import Snippet

CLIP = Snippet(text="CLIP learns a shared embedding space for images and text from 400 million image-caption pairs "
                    "collected from the internet. It changed image recognition from choosing among fixed labels to "
                    "matching an image with a textual description.",
               source="knowledge/corpus/clip.md", title="CLIP", score=0.8)
SEGMENT = {"tool": "segment_image", "target": "left lung", "area_px": 15320, "score": 0.91,
           "summary": "Segmented the left lung: 15320 pixels, score 0.91."}


def ungrounded(answer: str) -> list[str]:
    return [f.detail for f in check_answer(answer, [CLIP], [SEGMENT])]


def test_supported_paraphrases_and_tool_facts_pass() -> None:
    assert ungrounded("CLIP was trained on 400 million image-caption pairs from the internet [1]. "
                      "The left lung mask covers 15320 pixels.") == []


def test_wrong_number_entity_side_and_unrelated_claims_are_flagged() -> None:
    for claim in ("CLIP was trained on 40 million image-caption pairs.",
                  "CLIP was released by Google.",
                  "The right lung mask covers 15320 pixels.",
                  "Diffusion models memorise their training images."):
        details = ungrounded(claim)
        assert len(details) == 1 and claim in details[0], claim


def test_greetings_offers_and_questions_are_not_claims() -> None:
    assert split_claims("Hello! I can help with that. Would you like more detail? CLIP uses text [1].") == [
        "CLIP uses text ."]


def test_no_evidence_means_every_claim_is_ungrounded() -> None:
    assert len(check_answer("CLIP matches images with text. SAM segments objects.", [], [])) == 2


@pytest.mark.slow
def test_stored_threshold_matches_a_fresh_calibration() -> None:
    result = calibrate()
    assert abs(result.threshold - GROUNDING_THRESHOLD) <= 0.03
    assert result.precision >= 0.9 and result.recall >= 0.8


DDIM = Snippet(text="DDIM is a way to sample from a diffusion model that is much faster than DDPM sampling and, in its "
                    "usual setting, fully deterministic. It needs no retraining.",
               source="knowledge/corpus/ddim.md", title="DDIM", score=0.8)


@pytest.mark.parametrize("claim,supported", [
    ("DDIM is deterministic in its usual setting.", True),
    ("DDIM is stochastic in its usual setting.", False),
    ("DDIM sampling is slower than DDPM sampling.", False),
    ("DDIM needs no retraining.", True),
    ("DDIM requires retraining.", False),
])
def test_a_claim_that_reverses_its_source_is_ungrounded(claim: str, supported: bool) -> None:
    flags = check_answer(claim, [DDIM], [])
    assert (flags == []) is supported, (claim, [f.detail for f in flags])


def test_contradiction_rules_need_a_shared_subject() -> None:
    from agent.guardrails.contradiction import contradiction

    assert contradiction("CycleGAN needs unpaired images.", "pix2pix needs training pairs.") is not None
    assert contradiction("No fracture is seen.", "A fracture of the left wrist is seen.") is not None
    assert contradiction("The lungs are clear.", "No pneumothorax, the lungs are clear.") is None
