"""describe_image: facts traceable to measurements, LLM wording with facts attached, fallbacks."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from agent.errors import ModelUnavailableError
from tools.perception.facts import NUMBER, FactSheet, numbers_not_in_facts
from tools.registry import run_tool


@pytest.fixture(autouse=True)
def fast_models(monkeypatch, tmp_path):
    """A random-weight finding classifier and the classical segmenter keep these tests fast and
    independent of the committed checkpoints' quality."""
    import tools.perception.findings as findings
    from tools.perception.checkpoints import save_checkpoint

    torch.manual_seed(0)
    path = tmp_path / "findings.pt"
    save_checkpoint(path, findings.FindingsNet().state_dict(), config={"width": 16}, seed=0, metrics={})
    monkeypatch.setattr(findings, "_MODEL", findings.FindingsModel(path))
    import tools.perception.lesions as lesions

    lesion_path = tmp_path / "lesions.pt"
    save_checkpoint(lesion_path, lesions.LesionNet().state_dict(), config={"width": 16}, seed=0, metrics={})
    monkeypatch.setattr(lesions, "_MODEL", lesions.LesionModel(lesion_path))
    monkeypatch.setenv("RADAGENT_PERCEPTION__SEGMENTER_BACKEND", "classical")
    yield
    from agent.llm.runtime import set_llm

    set_llm(None)


@pytest.fixture
def chest_dicom(inputs: Path) -> Path:
    from tools.phantoms.dataset import phantom_split
    from tools.phantoms.export import write_phantom_dicoms

    phantom = phantom_split("chest", "test", 1, size=128)[0]
    return inputs / write_phantom_dicoms("chest", [phantom], inputs)[0]


class FakeLLM:
    """Stands in for the local LLM: records the messages and answers with a fixed text."""

    def __init__(self, reply: str | None = None, fail: bool = False) -> None:
        self.reply, self.fail, self.calls = reply, fail, []

    def chat(self, messages, **kwargs):
        self.calls.append(messages)
        if self.fail:
            raise RuntimeError("model file missing")
        return self.reply if self.reply is not None else "The image was measured."


def _numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


def test_facts_only_text_when_the_llm_fails_and_every_number_is_a_fact(chest_dicom):
    from agent.llm.runtime import set_llm

    set_llm(FakeLLM(fail=True))
    result = run_tool("describe_image", {"image": str(chest_dicom), "question": "What do you see?"})
    assert result.review == "pending"
    assert result.worded_by == "facts" and result.text == result.facts_text
    assert any("LLM was unavailable" in f.detail for f in result.flags)
    ids = {f.id for f in result.facts}
    assert {"modality", "size", "spacing", "lesion_present"} <= ids
    sheet = FactSheet(result.facts)
    assert _numbers(result.text) and numbers_not_in_facts(result.text, sheet) == []
    for fact in result.facts:
        assert fact.source and fact.statement


def test_llm_wording_gets_the_facts_fenced_and_is_checked_against_them(chest_dicom):
    from agent.llm.runtime import set_llm

    fake = FakeLLM(reply="This is a DX image; the lesion measures 42 mm.")
    set_llm(fake)
    result = run_tool("describe_image", {"image": str(chest_dicom), "question": "Any nodule?"})
    prompt = fake.calls[0][-1]["content"]
    assert "<<<UNTRUSTED DATA" in prompt and "Any nodule?" in prompt and '"lesion_present"' in prompt
    assert result.worded_by == "llm" and result.text.startswith("This is a DX image")
    flagged = [f for f in result.flags if f.type == "ungrounded"]
    assert flagged and "42" in flagged[0].detail  # a number no fact states


def test_ct_facts_report_hounsfield_windows(inputs):
    from tools.imaging.derived import write_derived
    from tools.phantoms.dataset import phantom_split

    phantom = phantom_split("head", "test", 1, size=64)[0]
    derived = write_derived(phantom.ct_hu, tool="test", model="head-phantom", source=None, out_dir=inputs,
                            modality="CT", spacing_mm=phantom.spacing_mm, register=False)
    from agent.llm.runtime import set_llm

    set_llm(FakeLLM(fail=True))
    result = run_tool("describe_image", {"image": str(derived.dicom_path)})
    shares = {f.id: f.value for f in result.facts if f.id.startswith("ct_fraction_")}
    assert set(shares) == {"ct_fraction_air", "ct_fraction_lung", "ct_fraction_soft_tissue", "ct_fraction_bone"}
    assert all(0 <= v <= 100 for v in shares.values())
    assert shares["ct_fraction_air"] > 10  # the head sits in air
    assert numbers_not_in_facts(result.text, FactSheet(result.facts)) == []


def test_numbers_not_in_facts_catches_changed_numbers():
    from tools.perception.schemas import Fact

    sheet = FactSheet([Fact(id="a", statement="The left lung measures 123.4 cm².", value=123.4, unit="cm²")])
    assert numbers_not_in_facts("The left lung is 123.4 cm².", sheet) == []
    assert numbers_not_in_facts("The left lung is 124 cm².", sheet) == ["124"]


def test_vlm_backend_without_paths_is_a_clear_error(chest_dicom):
    with pytest.raises(ModelUnavailableError, match="No multimodal model is configured"):
        run_tool("describe_image", {"image": str(chest_dicom), "backend": "vlm"})
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        run_tool("describe_image", {"image": str(chest_dicom), "backend": "vlm",
                                    "vlm_model": "/nonexistent/model.gguf", "vlm_mmproj": "/nonexistent/mmproj.gguf"})


def test_vlm_messages_carry_the_image_and_question():
    from tools.perception.vlm import build_messages

    messages = build_messages(np.random.default_rng(0).random((300, 200)).astype(np.float32), "Which side?")
    content = messages[-1]["content"]
    assert content[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert content[1]["text"] == "Which side?"
