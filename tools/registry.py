"""The tool catalogue, registered in one place, and `run_tool`, the one way any door calls a tool.

Specs name their argument model and function by import path so that listing the catalogue
(for the agent prompt, `--help`, the UI) never imports torch or loads a checkpoint.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from agent.errors import InvalidInputError, RadagentError, ToolNotAvailableError
from tools.schemas import ToolArgs, ToolResult


@dataclass(frozen=True)
class ToolSpec:
    """One catalogue entry. `description` is what the LLM reads when choosing a tool."""

    name: str
    description: str
    args_path: str  # "package.module:ArgsModel"
    func_path: str  # "package.module:function"
    informs_care: bool = False  # output enters the review queue as pending
    confirm_before_run: bool = False  # high-impact: an expert must approve before it runs

    @property
    def args_model(self) -> type[ToolArgs]:
        return _import(self.args_path)

    def load_function(self) -> Callable[[Any], ToolResult]:
        try:
            return _import(self.func_path)
        except (ModuleNotFoundError, AttributeError) as exc:
            module = self.func_path.split(":")[0]
            if isinstance(exc, ModuleNotFoundError) and exc.name and not module.startswith(exc.name):
                raise  # a missing third-party dependency is a bug, not an unbuilt tool
            raise ToolNotAvailableError(
                f"The tool '{self.name}' is not available yet in this version of radagent.",
                "Use another tool, or ask a question the knowledge base can answer.",
            ) from exc

    @property
    def available(self) -> bool:
        module, _, attr = self.func_path.partition(":")
        try:
            spec = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            return False
        return spec is not None


def _import(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


CATALOGUE: tuple[ToolSpec, ...] = (
    ToolSpec(
        "search_knowledge",
        "Search the knowledge base of guideline and literature snippets about generative AI in medical imaging; returns snippets with their sources.",
        "knowledge.schemas:SearchKnowledgeArgs", "knowledge.search:search_knowledge",
    ),
    ToolSpec(
        "rewrite_report",
        "Rewrite a radiology report in plain, patient-friendly language at a target reading grade, and check the rewrite for dropped or changed findings.",
        "tools.reports.schemas:RewriteReportArgs", "tools.reports.rewrite:rewrite_report",
        informs_care=True,
    ),
    ToolSpec(
        "image_info",
        "Show the modality, size, pixel spacing and de-identified metadata of a loaded image or study.",
        "tools.imaging.schemas:ImageInfoArgs", "tools.imaging.info:image_info",
    ),
    ToolSpec(
        "generate_images",
        "Generate synthetic medical images with a trained generator (vae, gan, ddpm, ddim), optionally conditioned, e.g. 'nodule in right lung, 12 mm'.",
        "tools.generative.schemas:GenerateImagesArgs", "tools.generative.generate:generate_images",
        confirm_before_run=True,
    ),
    ToolSpec(
        "edit_image",
        "Edit an image through its latent (inversion): change an attribute such as lesion size or presence by a strength; returns a SYNTHETIC edited image.",
        "tools.generative.schemas:EditImageArgs", "tools.generative.edit:edit_image",
        informs_care=True, confirm_before_run=True,
    ),
    ToolSpec(
        "segment_image",
        "Segment (outline) a structure in an image from a point, a box or a named structure such as 'left lung'; returns a mask with its area.",
        "tools.perception.schemas:SegmentImageArgs", "tools.perception.segment:segment_image",
        informs_care=True,
    ),
    ToolSpec(
        "describe_image",
        "Describe what is in an image, or answer a question about it, from measured facts (modality, structures, lesion findings).",
        "tools.perception.schemas:DescribeImageArgs", "tools.perception.describe:describe_image",
        informs_care=True,
    ),
    ToolSpec(
        "denoise_image",
        "Denoise a low-dose CT image.",
        "tools.restoration.schemas:DenoiseImageArgs", "tools.restoration.denoise:denoise_image",
        informs_care=True,
    ),
    ToolSpec(
        "reconstruct_mri",
        "Reconstruct an MRI image from undersampled k-space (e.g. 4x or 8x acceleration).",
        "tools.restoration.schemas:ReconstructMRIArgs", "tools.restoration.reconstruct:reconstruct_mri",
        informs_care=True,
    ),
    ToolSpec(
        "translate_modality",
        "Translate an image to another modality, e.g. synthesize a CT from an MR image.",
        "tools.restoration.schemas:TranslateModalityArgs", "tools.restoration.translate:translate_modality",
        informs_care=True,
    ),
    ToolSpec(
        "detect_anomaly",
        "Find anomalies in an image as a map of where a generative model fails to reconstruct it.",
        "tools.generative.schemas:DetectAnomalyArgs", "tools.generative.anomaly:detect_anomaly",
        informs_care=True,
    ),
)

TOOLS: dict[str, ToolSpec] = {spec.name: spec for spec in CATALOGUE}


def get_tool(name: str) -> ToolSpec:
    if name not in TOOLS:
        raise InvalidInputError(
            f"Unknown tool '{name}'.", f"Valid tools: {', '.join(sorted(TOOLS))}."
        )
    return TOOLS[name]


def validate_args(name: str, args: dict[str, Any] | BaseModel) -> ToolArgs:
    """Turn raw arguments into the tool's Args model, with a readable error on failure."""
    spec = get_tool(name)
    model = spec.args_model
    if isinstance(args, model):
        return args
    raw = args.model_dump() if isinstance(args, BaseModel) else dict(args)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidInputError(f"Invalid arguments for {name}: {problems}.",
                                f"Expected fields: {', '.join(model.model_fields)}.") from exc


@dataclass
class ToolRun:
    """A finished call, for traces: what ran, with what, how long, and what came back."""

    name: str
    args: dict[str, Any]
    result: ToolResult | None
    error: RadagentError | None
    seconds: float


def run_tool(name: str, args: dict[str, Any] | BaseModel, *, user: str | None = None,
             require_approval: bool = False, role: str = "viewer") -> ToolResult:
    """Validate, run, and put care-relevant outputs in the review queue as pending.

    Every door (agent, CLI, UI) calls this, so review and audit happen in exactly one place.
    With `require_approval`, a `confirm_before_run` tool runs only after an expert approved
    this exact call (`agent.review.require_approval`); otherwise ReviewRequiredError names
    the queued request.
    """
    spec = get_tool(name)
    parsed = validate_args(name, args)
    if require_approval and spec.confirm_before_run:
        from agent import review

        review.require_approval(name, parsed.model_dump(mode="json"), user=user, role=role)
    func = spec.load_function()
    started = time.perf_counter()
    result = func(parsed)
    elapsed = time.perf_counter() - started
    from agent import review  # local: the review store opens the database

    if spec.informs_care:
        result.review = "pending"
        result.review_id = review.submit(tool=name, args=parsed.model_dump(mode="json"),
                                         result=result.model_dump(mode="json"), user=user)
    review.audit(actor=user, action="tool_run", target=name,
                 detail={"args": parsed.model_dump(mode="json"), "seconds": round(elapsed, 4),
                         "review_id": result.review_id,
                         "result_sha256": review._digest(result.model_dump(mode="json")),
                         "flags": [f.model_dump() for f in result.flags]})
    return result
