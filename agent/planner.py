"""The planner: one request in, one decision out (`{"tool": NAME or None, "args": {...}}`), nothing run.

One constrained llama.cpp call does the choosing: the JSON schema is a `oneOf` over the catalogue
(each branch fixes `tool` to one name and allows only that tool's arguments), so a small model
cannot invent a tool or an argument. The system prompt (tools with one-line descriptions and a
few examples) is byte-identical on every call, so its KV state is computed once and reused.

Everything a small model does badly is done in code: the image comes from the request text, the
`--image` argument or the session's latest image; a pasted report is cut out of the request;
arguments are validated with the tool's pydantic model and bad optional values are dropped; a
malformed reply is retried once and otherwise becomes "no tool" instead of an exception.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agent.llm.runtime import LLM, get_llm
from agent.planner_args import (NUMBER_WORDS, condition_phrase, edit_direction, explicit_seed, explicit_steps,
                                 image_count, mentions_domain, mentions_low_dose, named_attribute, named_generator,
                                 named_structure, names_a_finding, result_count, target_modality,
                                 tidy_condition)
from agent.planner_parse import parse_tool_call
from agent.prompts import load_prompt
from agent.text_input import clean_text
from tools.registry import CATALOGUE, TOOLS

PLAN_MAX_TOKENS = 96

# Arguments the code fills instead of the model (a small model copies ids and long text badly).
FILLED_BY_CODE = {"image", "report"}
# Arguments only ever read from the request's own words ("seed 42", "30 steps"), never offered
# to the model: it put measurements ("12 mm") and habit values (seed 1234) into them.
READ_FROM_TEXT = {"generate_images": ("seed", "steps")}
# The arguments the planner may write per tool: the catalogue's key arguments. Tools grow extra
# knobs (backends, output paths, simulation settings) that the doors set; a sentence does not.
PLANNER_ARGS: dict[str, tuple[str, ...]] = {
    "search_knowledge": ("query", "k"),
    "rewrite_report": ("target_grade",),
    "image_info": (),
    "generate_images": ("model", "condition", "n"),
    "edit_image": ("attribute", "strength"),
    "segment_image": ("target", "point", "box"),
    "describe_image": ("question",),
    "denoise_image": ("strength",),
    "reconstruct_mri": ("acceleration",),
    "translate_modality": ("target_modality",),
    "detect_anomaly": (),
}

_IMAGE_ID = re.compile(r"\bimg-\d+\b", re.IGNORECASE)
_IMAGE_PATH = re.compile(
    r"(?<![\w@])((?:~|\.{1,2})?/?(?:[\w.\-]+/)*[\w.\-]+\.(?:dcm|dicom|png|jpe?g|nii\.gz|nii|npz|npy|tiff?|zip|mha|nrrd))\b",
    re.IGNORECASE)


@dataclass
class Decision:
    """What to do with a request: a catalogue tool and its validated arguments, or no tool."""

    tool: str | None
    args: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # required arguments nobody supplied (e.g. image)
    raw: str = ""  # the model's reply, for traces
    repaired: bool = False  # the reply needed a retry or a fix-up

    def to_dict(self) -> dict[str, Any]:
        """The CLI/contract shape: exactly {"tool", "args"}."""
        return {"tool": self.tool, "args": self.args}


# -- the static prompt and the output schema ---------------------------------------------------

def _simplify(prop: dict[str, Any]) -> dict[str, Any]:
    """A property schema reduced to what the grammar needs (types, enums, tuple shapes)."""
    if "anyOf" in prop:
        options = [p for p in prop["anyOf"] if p.get("type") != "null"]
        if len(options) == 1:
            prop = options[0]
    out = {k: v for k, v in prop.items() if k in {"type", "enum", "const", "minItems", "maxItems"}}
    if "prefixItems" in prop:
        out["prefixItems"] = [_simplify(p) for p in prop["prefixItems"]]
    if "items" in prop and isinstance(prop["items"], dict):
        out["items"] = _simplify(prop["items"])
    return out


def model_args(tool: str) -> dict[str, dict[str, Any]]:
    """The arguments the model may write for `tool`, as simplified JSON-schema properties."""
    spec = TOOLS[tool]
    properties = spec.args_model.model_json_schema().get("properties", {})
    offered = PLANNER_ARGS.get(tool, ())
    return {name: _simplify(properties[name]) for name in offered if name in properties}


def needs_image(tool: str) -> bool:
    field_info = TOOLS[tool].args_model.model_fields.get("image")
    return field_info is not None and field_info.is_required()


def decision_schema(without_image_tools: bool = False) -> dict[str, Any]:
    """JSON schema of a decision: one branch per catalogue tool, plus the no-tool branch."""
    branches = [
        {"type": "object",
         "properties": {"tool": {"const": spec.name},
                        "args": {"type": "object", "properties": model_args(spec.name),
                                 "additionalProperties": False}},
         "required": ["tool", "args"], "additionalProperties": False}
        for spec in CATALOGUE if not (without_image_tools and needs_image(spec.name))
    ]
    branches.append({"type": "object",
                     "properties": {"tool": {"type": "null"},
                                    "args": {"type": "object", "properties": {}, "additionalProperties": False}},
                     "required": ["tool", "args"], "additionalProperties": False})
    return {"oneOf": branches}


def _describe_arg(name: str, prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return f"{name}: {'|'.join(str(v) for v in prop['enum'])}"
    if "prefixItems" in prop:
        labels = {2: "[x, y]", 4: "[x0, y0, x1, y1]"}
        return f"{name}: {labels.get(len(prop['prefixItems']), 'list')}"
    kind = {"string": "text", "integer": "int", "number": "number"}.get(prop.get("type", ""), "value")
    return f"{name}: {kind}"


def tool_lines() -> str:
    """One line per tool: name, the arguments the model may give, and the catalogue description."""
    lines = []
    for spec in CATALOGUE:
        args = ", ".join(_describe_arg(n, p) for n, p in model_args(spec.name).items())
        lines.append(f"- {spec.name}({args}): {spec.description}")
    return "\n".join(lines)


_static: str | None = None


def static_prompt() -> str:
    """The planner's system prompt: identical bytes on every call, so its KV state is reused."""
    global _static
    if _static is None:
        _static = load_prompt("planner").replace("{tools}", tool_lines())
    return _static


# -- filling in what the code knows ---------------------------------------------------------

def image_in_text(text: str) -> str | None:
    """A workspace id (img-2) or an image file path written in the request, if any (last one wins)."""
    ids = _IMAGE_ID.findall(text)
    if ids:
        return ids[-1].lower()
    paths = _IMAGE_PATH.findall(text)
    return paths[-1] if paths else None


def report_in_text(text: str) -> str | None:
    """The report pasted in a request: what follows the first ':' or line break, if long enough."""
    cuts = [i for i in (text.find(":"), text.find("\n")) if i != -1]
    for cut in sorted(cuts):
        rest = text[cut + 1:].strip()
        if len(rest) >= 40:
            return rest
    return text.strip() if len(text) >= 200 else None


_NUMBER = re.compile(r"(?<![A-Za-z])-?\d+(?:\.\d+)?")
_MEASUREMENT = re.compile(r"\d+(?:\.\d+)?\s*(?:mm|cm|millimet\w*|centimet\w*)\b", re.IGNORECASE)
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)\b")
# Values a model may infer from words ("shrink it a bit" -> strength -0.5); all other numbers
# must appear in the request, or they are the model's invention and are dropped.
INFERRED_NUMBERS = {"strength"}
# Enum values that count as stated when one of these words is in the request.
ENUM_WORDS = {("generate_images", "model"): {
    "vae": ("vae", "variational", "autoencoder", "auto-encoder"),
    "gan": ("gan", "adversarial"),
    "ddpm": ("ddpm", "diffusion"),
    "ddim": ("ddim", "diffusion"),
}}


def numbers_in(text: str) -> set[float]:
    """Numbers the request states as values; sizes ("12 mm") are findings, not argument values."""
    text = _MEASUREMENT.sub(" ", text)
    found = {float(m) for m in _NUMBER.findall(_ORDINAL.sub(r"\1", text))}
    words = re.findall(r"[a-z]+", text.lower())
    found |= {float(NUMBER_WORDS[w]) for w in words if w in NUMBER_WORDS}
    return found


def _grounded(value: Any, stated: set[float]) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return float(value) in stated or float(abs(value)) in stated
    if isinstance(value, (list, tuple)):
        return all(_grounded(v, stated) for v in value)
    return True


def ground_args(tool: str, args: dict[str, Any], request: str) -> dict[str, Any]:
    """Drop argument values the request does not support (invented seeds, boxes, step counts)."""
    stated = numbers_in(request)
    lowered = request.lower()
    kept = {}
    for key, value in args.items():
        if key not in INFERRED_NUMBERS and not isinstance(value, str) and not _grounded(value, stated):
            continue
        words = ENUM_WORDS.get((tool, key), {}).get(value) if isinstance(value, str) else None
        if words is not None and not any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in words):
            continue
        kept[key] = value
    return kept


_QUESTION = re.compile(r"^\W*(how|what|why|when|which|who|where|should|explain|define|tell me about|is it true|"
                       r"can you explain|what's|whats|difference)\b", re.IGNORECASE)
_POINTS_AT_IMAGE = re.compile(r"\b(this|these|that|my|the|attached|uploaded)\s+(image|scan|study|picture|x-?ray|ct|mri?|film|slice|series)\b|\bhere\b|\bin it\b",
                              re.IGNORECASE)


_REPORT_WORDS = re.compile(r"\b(findings?|impression|report|radiograph (shows|demonstrates)|recommend(ed)?)\b", re.IGNORECASE)


def has_report(text: str) -> bool:
    """Report text pasted into the request (it is about a report, not an image)."""
    return bool(_REPORT_WORDS.search(text)) and len(text) >= 60


def is_general_question(text: str) -> bool:
    """A question about a topic rather than about a particular image."""
    return bool(_QUESTION.search(text)) and not _POINTS_AT_IMAGE.search(text)


_CONTENT = re.compile(r"[a-z0-9]+")


def _words_stated(value: str, request: str) -> bool:
    """Whether most content words of a model-written phrase appear in the request."""
    words = [w for w in _CONTENT.findall(value.lower()) if len(w) > 2 or w.isdigit()]
    if not words:
        return False
    lowered = request.lower()
    return sum(w in lowered for w in words) / len(words) >= 0.75


def read_from_text(tool: str, args: dict[str, Any], request: str) -> dict[str, Any]:
    """Overrule the model where the request's wording is unambiguous (counts, seeds, findings, direction)."""
    args = dict(args)
    if tool == "search_knowledge":
        k = result_count(request)
        if k is not None:
            args["k"] = k
    elif tool == "segment_image":
        target = args.get("target")
        named = named_structure(request)
        if named and not (isinstance(target, str) and _words_stated(target, request)):
            args["target"] = named  # the model renamed the structure ("nodule" -> "lesion")
    elif tool == "describe_image":
        # The user's own question, not the model's paraphrase of it (names and dates masked).
        from agent.guardrails import mask_phi

        args["question"] = mask_phi(request)[0].strip()
    elif tool == "generate_images":
        generator = named_generator(request)
        if generator is not None:
            args["model"] = generator
        for key, reader in (("seed", explicit_seed), ("steps", explicit_steps), ("n", image_count)):
            value = reader(request)
            if value is not None:
                args[key] = value
            elif key in READ_FROM_TEXT[tool]:
                args.pop(key, None)
        stated = condition_phrase(request)  # the request's own words beat the model's paraphrase
        condition = args.get("condition")
        if stated:
            args["condition"] = stated
        elif isinstance(condition, str) and names_a_finding(condition) and _words_stated(condition, request):
            args["condition"] = tidy_condition(condition)
        else:
            args.pop("condition", None)
    elif tool == "edit_image":
        attribute = named_attribute(request) or str(args.get("attribute", "")).strip().lower().replace(" ", "_")
        if attribute:
            args["attribute"] = attribute
        direction = edit_direction(request)
        strength = args.get("strength")
        if direction is not None:
            size = abs(float(strength)) if isinstance(strength, (int, float)) and strength else 1.0
            args["strength"] = direction * size
    return args


_REWRITE_WORDS = re.compile(r"\b(patients?|plain|simple|simpler|lay|laym[ae]n|grade|reading|summar\w*|rewrit\w*|"
                            r"rephras\w*|radiolog\w*)\b", re.IGNORECASE)


_DESCRIBE = re.compile(r"\b(what (?:do|can|did) you see|describe|what(?:'s| is| are) (?:in|on|shown|visible)|"
                       r"what does .{0,40}\bshow|any(?:thing)? (?:abnormal|unusual|wrong)|findings?)\b", re.IGNORECASE)
_SEGMENT_WORDS = re.compile(r"\b(segment\w*|outline\w*|mask\w*|contour\w*|delineat\w*|trace|draw|"
                            r"highlight\w*|boundar\w*|area)\b", re.IGNORECASE)


def asks_for_description(request: str) -> bool:
    """An open question about an image, with no word that asks for a region."""
    return bool(_DESCRIBE.search(request)) and not _SEGMENT_WORDS.search(request)


def off_topic(tool: str | None, request: str, history_text: str) -> bool:
    """A tool choice the request cannot mean: a literature search on small talk or general
    knowledge, or a report rewrite with no report anywhere and no mention of one."""
    if tool == "search_knowledge":
        return not mentions_domain(request)
    if tool == "rewrite_report":
        return not (report_in_text(request) or _REPORT_WORDS.search(request) or _REWRITE_WORDS.search(request)
                    or (history_text and report_in_text(history_text)))
    return False


def _tidy_value(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return value


def _finish(tool: str | None, args: dict[str, Any], request: str, image: str | None,
            history_text: str, raw: str, repaired: bool) -> Decision:
    """Validate against the tool's model, fill image/report, drop invalid optional values."""
    if tool is None:
        return Decision(None, {}, raw=raw, repaired=repaired)
    spec = TOOLS[tool]
    model = spec.args_model
    fields = model.model_fields
    clean = {k: _tidy_value(v) for k, v in args.items()
             if k in fields and k not in FILLED_BY_CODE and v not in (None, "", [], {})}
    clean = ground_args(tool, clean, request)
    clean = read_from_text(tool, clean, request)
    if tool == "translate_modality" and isinstance(clean.get("target_modality"), str):
        clean["target_modality"] = {"MRI": "MR"}.get(clean["target_modality"].upper(), clean["target_modality"].upper())
    if "image" in fields:
        chosen = image_in_text(request) or image
        if chosen:
            clean["image"] = chosen
    if "report" in fields:
        report = report_in_text(request) or (report_in_text(history_text) if history_text else None)
        if report:
            clean["report"] = report
    missing: list[str] = []
    for _ in range(len(clean) + 1):
        try:
            validated = model.model_validate(clean)
            break
        except ValidationError as exc:
            bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
            required_missing = {str(err["loc"][0]) for err in exc.errors()
                                if err["type"] == "missing" and err["loc"]}
            missing = sorted(required_missing)
            droppable = (bad - required_missing) & set(clean)
            if not droppable:
                # Only required arguments are missing (an image nobody attached): keep the decision.
                return Decision(tool, clean, missing=missing, raw=raw, repaired=repaired)
            for key in droppable:
                clean.pop(key)
            repaired = True
    else:  # pragma: no cover - the loop always breaks or returns
        return Decision(tool, clean, missing=missing, raw=raw, repaired=True)
    explicit = validated.model_dump(exclude_unset=True)
    return Decision(tool, {k: v for k, v in explicit.items() if v is not None}, raw=raw, repaired=repaired)


# -- the model call -------------------------------------------------------------------------

def previous_request(history: list[dict[str, Any]] | None) -> str | None:
    """The user's last request, for follow-ups such as "now at 8x" or "same for img-3".

    Earlier decisions are deliberately not shown: a small model copies them, so one wrong
    routing would repeat for the rest of the conversation.
    """
    for item in reversed(history or []):
        content = item.get("content")
        if item.get("role") == "user" and isinstance(content, str) and content.strip():
            return " ".join(content.split())[:300]
    return None


def user_message(request: str, has_image: bool, previous: str | None = None) -> str:
    context = f"Previous request (context only): {previous}\n" if previous else ""
    return f"{context}Image attached: {'yes' if has_image else 'no'}\nRequest: {request}"


_prefilled: set[int] = set()
_prefill_lock = threading.Lock()


def warm(llm: LLM | None = None) -> None:
    """Make the static prompt's KV state ready (from disk when a previous run saved it)."""
    llm = llm or get_llm()
    with _prefill_lock:
        if id(llm) in _prefilled:
            return
        llm.prefill([{"role": "system", "content": static_prompt()}], persist=True)
        _prefilled.add(id(llm))


def plan(request: str, image: str | None = None, history: list[dict[str, Any]] | None = None,
         *, llm: LLM | None = None) -> Decision:
    """Decide which tool (if any) serves `request`; nothing is executed.

    `image` is the image the request is about when the text does not name one (the `--image`
    argument, or the session's most recent image). `history` is the conversation so far as chat
    messages; only the last user request is used, as context for follow-ups.
    """
    from agent.guardrails import check_scope, mask_phi

    text = clean_text(request)
    if check_scope(text) is not None:  # a diagnosis or treatment request: refused, no tool
        return Decision(None, {}, raw="scope")
    llm = llm or get_llm()
    warm(llm)
    has_image = bool(image or image_in_text(text))
    previous = previous_request(history)
    masked, _ = mask_phi(text)  # the model never sees names, dates or record numbers
    masked_previous = mask_phi(previous)[0] if previous else None
    messages = [{"role": "system", "content": static_prompt()},
                {"role": "user", "content": user_message(masked, has_image, masked_previous)}]
    history_text = previous or ""
    schema = decision_schema()
    raw = llm.chat(messages, max_tokens=PLAN_MAX_TOKENS, temperature=0.0, json_schema=schema)
    call = parse_tool_call(raw)
    repaired = False
    if call is None or (call[0] is not None and call[0] not in TOOLS):
        repaired = True
        retry = [*messages, {"role": "assistant", "content": raw[:400]},
                 {"role": "user", "content": load_prompt("planner_retry")}]
        raw = llm.chat(retry, max_tokens=PLAN_MAX_TOKENS, temperature=0.0, json_schema=schema)
        call = parse_tool_call(raw)
        if call is None or (call[0] is not None and call[0] not in TOOLS):
            return Decision(None, {}, raw=raw, repaired=True)
    tool, args = call
    if tool is not None and needs_image(tool) and not has_image and (is_general_question(text) or has_report(text)):
        # "How does anomaly detection work?" or a pasted report is not a request to run an image
        # tool: with no image anywhere, ask again with only the tools that need none.
        retry_raw = llm.chat(messages, max_tokens=PLAN_MAX_TOKENS, temperature=0.0,
                             json_schema=decision_schema(without_image_tools=True))
        retry = parse_tool_call(retry_raw)
        if retry is not None and (retry[0] is None or retry[0] in TOOLS):
            (tool, args), raw, repaired = retry, retry_raw, True
    if off_topic(tool, text, history_text):
        return Decision(None, {}, raw=raw, repaired=True)
    if tool == "segment_image" and asks_for_description(text):
        # "What do you see in img-2?" right after a segmentation: the small model copies the
        # previous request's tool; an open question about an image is a description.
        tool, args, repaired = "describe_image", {}, True
    if (tool == "translate_modality" and str(args.get("target_modality", "")).upper() == "CT"
            and mentions_low_dose(text)):
        # "make this low-dose CT look like a normal-dose one": CT to CT is denoising, not translation.
        tool, args, repaired = "denoise_image", {}, True
    if tool == "generate_images" and has_image and target_modality(text):
        # New images are never made from an attached one: "this ... as a CT" is a translation.
        tool, args, repaired = "translate_modality", {"target_modality": target_modality(text)}, True
    return _finish(tool, args, text, image, history_text, raw, repaired)


def decision_message(decision: Decision) -> str:
    """How a decision is written back into planner history."""
    args = {k: v for k, v in decision.args.items() if k not in FILLED_BY_CODE}
    return json.dumps({"tool": decision.tool, "args": args})
