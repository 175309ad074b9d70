"""One look at an image for the describer and named-structure prompts: family, structures, lesions.

The localiser finds the lung fields (or the brain); the lesion classifier then looks inside each
lung, or each half of the brain, so the region it fires in names the patient's side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agent.errors import RadagentError
from tools.perception.findings import FindingsPrediction, get_findings_model
from tools.perception.lesions import RegionFinding, get_lesion_model, head_halves


@dataclass
class Analysis:
    family: str
    prediction: FindingsPrediction
    regions: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    lesions: list[RegionFinding] = field(default_factory=list)

    @property
    def best_lesion(self) -> RegionFinding | None:
        return max(self.lesions, key=lambda f: f.prob) if self.lesions else None


def analyse(image: np.ndarray, family: str | None = None) -> Analysis:
    """`image` is model-normalised 2-D; `family` (from the header) overrides the classifier's guess."""
    from tools.perception.targets import locate_target

    prediction = get_findings_model().predict(image)
    family = family or prediction.family
    height, width = image.shape
    regions: dict[str, tuple[float, float, float, float]] = {}
    names = {"right": "right lung", "left": "left lung"} if family == "chest" else {}
    for side, name in names.items():
        try:
            box = locate_target(name, prediction, height, width).prompt.box
            regions[side] = tuple(float(v) + (1.0 if i >= 2 else 0.0) for i, v in enumerate(box))
        except RadagentError:
            continue
    if family == "head":
        try:
            box = locate_target("brain", prediction, height, width).prompt.box
            regions = head_halves(tuple(float(v) + (1.0 if i >= 2 else 0.0) for i, v in enumerate(box)))
        except RadagentError:
            pass
    lesions = get_lesion_model().predict(image, regions) if regions else []
    return Analysis(family=family, prediction=prediction, regions=regions, lesions=lesions)
