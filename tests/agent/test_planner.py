"""Planner post-processing with a scripted model: validation, filling, grounding and repair."""

from __future__ import annotations

import json

import pytest

from agent.errors import InvalidInputError
from agent.planner import decision_schema, image_in_text, plan, report_in_text, static_prompt
from tools.registry import TOOLS


def test_image_comes_from_argument_when_text_names_none(fake_llm):
    fake_llm(lambda r: {"tool": "segment_image", "args": {"target": "left lung"}})
    decision = plan("outline the left lung in this image", image="scan.dcm")
    assert decision.to_dict() == {"tool": "segment_image", "args": {"image": "scan.dcm", "target": "left lung"}}


def test_image_named_in_text_wins_and_model_ids_are_ignored(fake_llm):
    fake_llm(lambda r: {"tool": "segment_image", "args": {"image": "img-9", "target": "left lung"}})
    decision = plan("seg L lung on img-2", image="img-1")
    assert decision.args["image"] == "img-2"


def test_missing_image_is_reported_not_invented(fake_llm):
    fake_llm(lambda r: {"tool": "denoise_image", "args": {}})
    decision = plan("denoise it")
    assert decision.tool == "denoise_image" and decision.missing == ["image"] and "image" not in decision.args


def test_invented_numbers_are_dropped_and_stated_ones_kept(fake_llm):
    fake_llm(lambda r: {"tool": "generate_images", "args": {"model": "ddpm", "n": 4, "seed": 12345, "steps": 50}})
    decision = plan("generate 4 ddpm samples of a nodule")
    assert decision.args == {"model": "ddpm", "n": 4, "condition": "nodule"}
    fake_llm(lambda r: {"tool": "segment_image", "args": {"box": [10, 10, 50, 50], "target": "heart"}})
    assert plan("segment the heart", image="img-1").args == {"image": "img-1", "target": "heart"}


def test_unstated_generator_is_dropped(fake_llm):
    fake_llm(lambda r: {"tool": "generate_images", "args": {"model": "gan", "n": 2}})
    assert plan("make two synthetic CTs").args == {"n": 2}


def test_invalid_optional_value_is_dropped_not_fatal(fake_llm):
    fake_llm(lambda r: {"tool": "denoise_image", "args": {"strength": 7}})
    decision = plan("denoise with strength 7", image="img-1")
    assert decision.args == {"image": "img-1"} and decision.repaired


def test_report_is_cut_from_the_request(fake_llm):
    fake_llm(lambda r: {"tool": "rewrite_report", "args": {"target_grade": 6}})
    request = "please rewrite at grade 6: IMPRESSION: Mild cardiomegaly. No acute cardiopulmonary process."
    decision = plan(request)
    assert decision.args == {"report": "IMPRESSION: Mild cardiomegaly. No acute cardiopulmonary process.",
                             "target_grade": 6.0}


def test_modality_synonym_is_normalised(fake_llm):
    fake_llm(lambda r: {"tool": "translate_modality", "args": {"target_modality": "mri"}})
    assert plan("turn img-1 into an MRI").args == {"image": "img-1", "target_modality": "MR"}


def test_malformed_output_is_retried_once(fake_llm):
    replies = iter(["I think you want segmentation", '{"tool": "segment_image", "args": {"target": "heart"}}'])
    llm = fake_llm(lambda r: next(replies))
    decision = plan("segment the heart", image="img-1")
    assert decision.tool == "segment_image" and decision.repaired
    assert len(llm.calls) == 2


def test_twice_malformed_output_becomes_no_tool(fake_llm):
    llm = fake_llm(lambda r: "no idea")
    decision = plan("segment the heart", image="img-1")
    assert decision.to_dict() == {"tool": None, "args": {}}
    assert len(llm.calls) == 2


def test_unknown_tool_name_is_not_passed_through(fake_llm):
    fake_llm(lambda r: {"tool": "delete_everything", "args": {}})
    assert plan("hello").tool is None


@pytest.mark.parametrize("bad, message", [
    ("", "empty"), ("   \n ", "empty"), ("x" * 100_000, "too long"),
    ("\x00\x01\x02\x03garbage\x04\x05\x06\x07\x08\x0b\x0c", "binary"),
    (bytes(range(256)).decode("latin-1"), "binary"),
])
def test_bad_requests_are_refused_before_the_model(fake_llm, bad, message):
    llm = fake_llm()
    with pytest.raises(InvalidInputError, match=message):
        plan(bad)
    assert llm.calls == []


def test_schema_allows_exactly_the_catalogue():
    names = [branch["properties"]["tool"].get("const") for branch in decision_schema()["oneOf"]]
    assert sorted(n for n in names if n) == sorted(TOOLS) and None in names
    prompt = static_prompt()
    assert all(name in prompt for name in TOOLS)
    assert static_prompt() == prompt  # byte-identical across calls: the KV prefix cache depends on it


def test_history_reaches_the_model(fake_llm):
    llm = fake_llm(lambda r: {"tool": "reconstruct_mri", "args": {"acceleration": 8}})
    history = [{"role": "user", "content": "reconstruct img-1 at 4x"},
               {"role": "assistant", "content": json.dumps({"tool": "reconstruct_mri", "args": {"acceleration": 4}})}]
    decision = plan("now 8x", image="img-1", history=history)
    assert decision.args == {"image": "img-1", "acceleration": 8}
    sent = llm.calls[0]["messages"]
    assert len(sent) == 2  # earlier decisions are not replayed: a small model would copy them
    assert "Previous request (context only): reconstruct img-1 at 4x" in sent[-1]["content"]
    assert sent[-1]["content"].endswith("Request: now 8x")


def test_helpers():
    assert image_in_text("segment the heart in /data/a/chest_01.dcm please") == "/data/a/chest_01.dcm"
    assert image_in_text("compare IMG-3 and img-4") == "img-4"
    assert image_in_text("segment the heart") is None
    assert report_in_text("simplify") is None


def test_topic_question_without_image_is_replanned_without_image_tools(fake_llm):
    from agent.llm.runtime import CallStats

    llm = fake_llm()
    offered: list[set] = []

    def stream(messages, *, json_schema=None, **kwargs):
        names = {b["properties"]["tool"].get("const") for b in json_schema["oneOf"]}
        offered.append(names)
        llm.last_stats = CallStats()
        choice = "detect_anomaly" if "detect_anomaly" in names else "search_knowledge"
        args = {} if choice == "detect_anomaly" else {"query": "anomaly detection"}
        yield json.dumps({"tool": choice, "args": args})

    llm.stream = stream
    decision = plan("how does anomaly detection with generative models work")
    assert decision.to_dict() == {"tool": "search_knowledge", "args": {"query": "anomaly detection"}}
    assert "detect_anomaly" in offered[0] and "detect_anomaly" not in offered[1]
    # With an image attached the same kind of question keeps the image tool.
    offered.clear()
    assert plan("what is unusual here?", image="img-1").tool == "detect_anomaly" and len(offered) == 1
    # A request to act on an image that is not there keeps the tool and reports what is missing.
    offered.clear()
    decision = plan("find anomalies in this scan")
    assert decision.tool == "detect_anomaly" and decision.missing == ["image"] and len(offered) == 1


@pytest.mark.parametrize("request_text, model_args, expected", [
    # the count in words, the finding the model dropped, a hyphenated side the generators can read
    ("Generate four chest images with a right-sided nodule", {"n": 1, "seed": 1234},
     {"n": 4, "condition": "right sided nodule"}),
    # a size is a finding, not a seed or a count
    ("generate two chest x-rays showing a 12 mm nodule in the left lung", {"n": 12, "seed": 12},
     {"n": 2, "condition": "12 mm nodule in the left lung"}),
    ("make chest x-rays of a 12 mm nodule", {"n": 12}, {"condition": "12 mm nodule"}),
    # seed and steps only from their own words
    ("sample 3 ddim images, seed 42, 25 steps", {"model": "ddim", "n": 3},
     {"model": "ddim", "n": 3, "seed": 42, "steps": 25}),
    ("produce five images with the gan", {"model": "gan", "condition": "gan"}, {"model": "gan", "n": 5}),
])
def test_generation_arguments_are_read_from_unambiguous_wording(fake_llm, request_text, model_args, expected):
    fake_llm(lambda r: {"tool": "generate_images", "args": model_args})
    assert plan(request_text).args == expected


def test_seed_and_steps_are_not_offered_to_the_model():
    branch = next(b for b in decision_schema()["oneOf"] if b["properties"]["tool"].get("const") == "generate_images")
    assert set(branch["properties"]["args"]["properties"]) == {"model", "condition", "n"}


@pytest.mark.parametrize("request_text, model_args, expected", [
    ("Make the nodule in img-1 bigger", {"attribute": "lesion size"}, {"attribute": "lesion_size", "strength": 1.0}),
    ("shrink the nodule a lot", {"attribute": "lesion_size", "strength": 1.5},
     {"attribute": "lesion_size", "strength": -1.5}),
    ("remove the lesion", {"attribute": "lesion"}, {"attribute": "lesion_presence", "strength": -1.0}),
    ("move it along the lesion size direction with strength 1.5", {"attribute": "lesion_size", "strength": 1.5},
     {"attribute": "lesion_size", "strength": 1.5}),
])
def test_edit_direction_follows_the_request(fake_llm, request_text, model_args, expected):
    fake_llm(lambda r: {"tool": "edit_image", "args": model_args})
    decision = plan(request_text, image="img-1")
    assert decision.tool == "edit_image"
    assert {k: v for k, v in decision.args.items() if k != "image"} == expected


@pytest.mark.parametrize("request_text, tool", [
    ("what's the capital of France?", "search_knowledge"),
    ("write me a haiku about autumn", "rewrite_report"),
    ("how do I bake sourdough bread?", "search_knowledge"),
])
def test_off_topic_requests_get_no_tool(fake_llm, request_text, tool):
    fake_llm(lambda r: {"tool": tool, "args": {"query": r} if tool == "search_knowledge" else {}})
    assert plan(request_text).to_dict() == {"tool": None, "args": {}}


@pytest.mark.parametrize("request_text, tool", [
    ("what is the difference between DDPM and DDIM?", "search_knowledge"),
    ("explain score matching briefly", "search_knowledge"),
    ("put this in plain words for my patient: IMPRESSION: small hiatal hernia, no acute findings.", "rewrite_report"),
])
def test_in_domain_requests_keep_their_tool(fake_llm, request_text, tool):
    fake_llm(lambda r: {"tool": tool, "args": {"query": "x"} if tool == "search_knowledge" else {}})
    assert plan(request_text).tool == tool


def test_named_generator_and_result_count_come_from_the_text(fake_llm):
    fake_llm(lambda r: {"tool": "generate_images", "args": {"model": "gan", "n": 4}})
    assert plan("generate 4 ddpm samples of a nodule").args["model"] == "ddpm"
    assert "model" not in plan("generate 4 samples of a nodule").args  # none named: the tool's default
    fake_llm(lambda r: {"tool": "search_knowledge", "args": {"query": "compressed sensing MRI"}})
    assert plan("look up papers on compressed sensing MRI, top 3").args == {"query": "compressed sensing MRI", "k": 3}


def test_named_edit_attribute_beats_the_model(fake_llm):
    fake_llm(lambda r: {"tool": "edit_image", "args": {"attribute": "lesion_presence", "strength": 2}})
    assert plan("edit this image to increase severity by 2", image="img-1").args == {
        "image": "img-1", "attribute": "severity", "strength": 2.0}


def test_describe_question_is_the_users_own(fake_llm):
    fake_llm(lambda r: {"tool": "describe_image", "args": {"question": "what is the size of the lesion?"}})
    assert plan("how large is the lesion in this image?", image="img-1").args["question"] == \
        "how large is the lesion in this image?"


def test_low_dose_ct_to_ct_is_denoising(fake_llm):
    fake_llm(lambda r: {"tool": "translate_modality", "args": {"target_modality": "CT"}})
    assert plan("make this low dose ct look like a normal dose one", image="img-1").tool == "denoise_image"
    assert plan("turn this MR into a synthetic CT", image="img-1").tool == "translate_modality"


def test_treatment_question_about_a_patient_is_not_a_literature_search(fake_llm):
    fake_llm(lambda r: {"tool": "search_knowledge", "args": {"query": "fever antibiotic"}})
    assert plan("my patient has a fever, which antibiotic do I start?").tool is None


def test_an_attached_image_as_another_modality_is_a_translation(fake_llm):
    fake_llm(lambda r: {"tool": "generate_images", "args": {"n": 1}})
    decision = plan("what would this look like as a CT? generate it", image="img-1")
    assert decision.to_dict() == {"tool": "translate_modality", "args": {"image": "img-1", "target_modality": "CT"}}
    assert plan("generate 2 chest x-rays").tool == "generate_images"  # no image: really new images


def test_segment_target_keeps_the_users_word(fake_llm):
    fake_llm(lambda r: {"tool": "segment_image", "args": {"target": "lesion"}})
    assert plan("can you draw a mask around the nodule?", image="img-1").args["target"] == "nodule"
    fake_llm(lambda r: {"tool": "segment_image", "args": {"target": "right kidney"}})
    assert plan("seg R kidney", image="img-1").args["target"] == "right kidney"


@pytest.mark.parametrize("request_text, expected", [
    ("What do you see in img-2?", "describe_image"),
    ("describe img-2 for me", "describe_image"),
    ("outline what you see in img-2", "segment_image"),
    ("what is the area of the left lung in img-2?", "segment_image"),
])
def test_an_open_question_after_a_segmentation_is_a_description(fake_llm, request_text, expected):
    fake_llm(lambda r: {"tool": "segment_image", "args": {"target": "left lung"}})
    history = [{"role": "user", "content": "outline the left lung in img-1"}]
    decision = plan(request_text, image="img-2", history=history)
    assert decision.tool == expected and decision.args["image"] == "img-2"
