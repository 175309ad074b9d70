"""Prompts for promptable segmentation: validated points (with labels) and a box, in pixel units.

Every backend receives the same `Prompt`, already checked against the image: points inside it,
a non-empty box clipped to it, labels that are 1 (inside the structure) or 0 (outside). Problems
a user can fix raise `InvalidInputError`; tolerable ones (a box running off the image) come back
as warnings so the caller can show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agent.errors import InvalidInputError

POSITIVE, NEGATIVE = 1, 0


@dataclass(frozen=True)
class Prompt:
    """Points (N, 2) as (x, y) with labels (N,), and an optional (x0, y0, x1, y1) box, in pixels."""

    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    box: np.ndarray | None = None

    @property
    def positive_points(self) -> np.ndarray:
        return self.points[self.labels == POSITIVE]

    @property
    def negative_points(self) -> np.ndarray:
        return self.points[self.labels == NEGATIVE]

    @property
    def kind(self) -> str:
        """'box', 'point', 'points', 'box+points': what the user gave, for reports and warnings."""
        if self.box is not None:
            return "box+points" if len(self.points) else "box"
        return "point" if len(self.points) == 1 else "points"

    def scaled(self, scale_x: float, scale_y: float) -> "Prompt":
        """The same prompt in another pixel grid (e.g. the model's input size)."""
        factor = np.array([scale_x, scale_y], np.float32)
        box = None if self.box is None else (self.box.reshape(2, 2) * factor).reshape(4)
        return Prompt(self.points * factor, self.labels.copy(), box)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if len(self.points):
            out["points"] = [[round(float(x), 1), round(float(y), 1)] for x, y in self.points]
            out["labels"] = [int(v) for v in self.labels]
        if self.box is not None:
            out["box"] = [round(float(v), 1) for v in self.box]
        return out


def build_prompt(
    *,
    height: int,
    width: int,
    point: tuple[float, float] | None = None,
    points: list[tuple[float, float]] | None = None,
    labels: list[int] | None = None,
    box: tuple[float, float, float, float] | None = None,
) -> tuple[Prompt, list[str]]:
    """Check the raw prompt against an image of `height` x `width`; return it and any warnings."""
    warnings: list[str] = []
    coords: list[tuple[float, float]] = []
    labs: list[int] = []
    if point is not None:
        coords.append(tuple(point))
        labs.append(POSITIVE)
    if points:
        if labels is not None and len(labels) != len(points):
            raise InvalidInputError(
                f"{len(points)} points were given with {len(labels)} labels.",
                "Give one label per point: 1 inside the structure, 0 outside it.",
            )
        coords.extend(tuple(p) for p in points)
        labs.extend(labels if labels is not None else [POSITIVE] * len(points))
    elif labels:
        raise InvalidInputError("Labels were given without points.", "Pass `points` with one label each.")
    bad = [v for v in labs if v not in (POSITIVE, NEGATIVE)]
    if bad:
        raise InvalidInputError(f"Point labels must be 1 (inside) or 0 (outside); got {bad}.",
                                "Use 1 for a point on the structure and 0 for a point to exclude.")
    for x, y in coords:
        if not (np.isfinite(x) and np.isfinite(y)):
            raise InvalidInputError(f"Point ({x}, {y}) is not a number.", "Give pixel coordinates x, y.")
        if not (0 <= x <= width - 1 and 0 <= y <= height - 1):
            raise InvalidInputError(
                f"Point ({x:g}, {y:g}) lies outside the image ({width} x {height} pixels).",
                f"Use x in 0..{width - 1} and y in 0..{height - 1} (x is the column, y the row).",
            )
    clipped_box = None if box is None else _check_box(box, height, width, warnings)
    if clipped_box is None and POSITIVE not in labs:
        if coords:
            raise InvalidInputError(
                "Only negative (outside) points were given, so there is nothing to segment.",
                "Add a positive point on the structure, or a box around it.",
            )
        raise InvalidInputError(
            "No prompt was given.", "Give a point (--point x,y), a box (--box x0,y0,x1,y1) or a target name."
        )
    prompt = Prompt(
        points=np.asarray(coords, np.float32).reshape(-1, 2),
        labels=np.asarray(labs, np.int64),
        box=clipped_box,
    )
    return prompt, warnings


def _check_box(box: tuple[float, float, float, float], height: int, width: int,
               warnings: list[str]) -> np.ndarray:
    x0, y0, x1, y1 = (float(v) for v in box)
    if not all(np.isfinite(v) for v in (x0, y0, x1, y1)):
        raise InvalidInputError(f"Box {box} has a value that is not a number.", "Give x0,y0,x1,y1 in pixels.")
    if x1 <= x0 or y1 <= y0:
        raise InvalidInputError(
            f"Box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) is empty: x1 must exceed x0 and y1 must exceed y0.",
            "Give the top-left corner first, then the bottom-right corner: x0,y0,x1,y1.",
        )
    cx0, cy0 = max(x0, 0.0), max(y0, 0.0)
    cx1, cy1 = min(x1, width - 1.0), min(y1, height - 1.0)
    if cx1 - cx0 < 2 or cy1 - cy0 < 2:
        raise InvalidInputError(
            f"Box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) does not overlap the image ({width} x {height} pixels).",
            f"Keep the box inside x 0..{width - 1}, y 0..{height - 1}.",
        )
    if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1):
        warnings.append(
            f"The box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) runs past the image ({width} x {height}); "
            f"it was clipped to ({cx0:g}, {cy0:g}, {cx1:g}, {cy1:g})."
        )
    if (cx1 - cx0) * (cy1 - cy0) >= 0.95 * width * height:
        warnings.append("The box covers almost the whole image, so it does not say which structure is meant; "
                        "a tighter box or a point gives a more reliable mask.")
    return np.array([cx0, cy0, cx1, cy1], np.float32)
