"""Reading counts, seeds, steps, findings and edit direction straight from a request's wording."""

from __future__ import annotations

import pytest

from agent.planner_args import (condition_phrase, edit_direction, explicit_seed, explicit_steps, image_count,
                                mentions_domain, names_a_finding, tidy_condition)


@pytest.mark.parametrize("text, count", [
    ("Generate four chest images with a right-sided nodule", 4),
    ("make me 8 synthetic chest x-rays with the VAE", 8),
    ("gen 3 imgs w/ gan", 3),
    ("synthesize a single healthy chest image", 1),
    ("generate 5 with the gan", 5),
    ("generate chest x-rays with a 12 mm nodule", None),  # a size is not a count
    ("make a 12 mm nodule image", None),
    ("can you generate some synthetic scans for a demo?", None),
])
def test_image_count(text, count):
    assert image_count(text) == count


def test_seed_and_steps_need_their_own_words():
    assert explicit_seed("two images from the GAN using seed 42.") == 42
    assert explicit_seed("seed=7, 20 steps") == 7
    assert explicit_seed("a 12 mm nodule") is None
    assert explicit_steps("ddim with 50 sampling steps") == 50
    assert explicit_steps("steps: 30") == 30
    assert explicit_steps("seed 3, four images") is None


@pytest.mark.parametrize("text, condition", [
    ("Generate four chest images with a right-sided nodule", "right sided nodule"),
    ("generate 4 ddpm samples of a 12 mm nodule in the right lung", "12 mm nodule in the right lung"),
    ("produce five DDIM images of cardiomegaly with 50 sampling steps", "cardiomegaly"),
    ("16 images with a small nodule, diffusion model, seed 7", "small nodule"),
    ("Generate an example of what a 20 mm right lung mass might look like.", "20 mm right lung mass"),
    ("synthesize chest x-rays of healthy patients", "healthy"),
    ("make me 8 synthetic chest x-rays with the VAE", None),  # the generator, not a finding
    ("generate images of the chest", None),  # the body part, not a finding
    ("draw new samples from the variational autoencoder", None),
])
def test_condition_phrase(text, condition):
    assert condition_phrase(text) == condition


def test_generators_read_the_tidied_condition():
    from tools.generative.conditions import parse_condition

    assert tidy_condition("left-sided  nodule") == "left sided nodule"
    assert parse_condition(condition_phrase("four chest images with a right-sided nodule")).side == "right"
    assert not names_a_finding("the gan") and names_a_finding("no nodule")


@pytest.mark.parametrize("text, direction", [
    ("Make the nodule in img-1 bigger", 1), ("add a lesion to this healthy image", 1),
    ("shrink the nodule a lot", -1), ("remove the lesion from img-2", -1),
    ("make the disease milder", -1), ("move img-1 along the lesion size direction", None),
])
def test_edit_direction(text, direction):
    assert edit_direction(text) == direction


@pytest.mark.parametrize("text", [
    "what is the difference between DDPM and DDIM?", "explain score matching briefly", "define mode collapse",
    "privacy risks of training generative models on patient scans", "what is a U-Net", "wat is latent diffusion",
    "how does low-dose CT denoising work?", "is there regulatory guidance on AI-generated images?",
])
def test_domain_questions_are_recognised(text):
    assert mentions_domain(text)


def test_everyday_questions_are_not_in_the_domain():
    from pathlib import Path

    negatives = Path(__file__).resolve().parents[2] / "knowledge" / "calibration_negatives.txt"
    questions = [q for q in negatives.read_text().splitlines() if q.strip() and not q.startswith("#")]
    assert len(questions) > 20
    assert [q for q in questions if mentions_domain(q)] == []
    assert not mentions_domain("write me a haiku about autumn")


def test_healthy_needs_no_connector():
    assert condition_phrase("synthesize a single healthy chest image") == "healthy"
