"""Measured facts about an image, each with its value, unit and the tool that measured it.

Every statement's numbers are printed with `fmt`, the same formatting the value carries, so any
number in a description can be traced to exactly one fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from tools.perception.schemas import Fact

NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
MODALITY_NAMES = {"CR": "computed radiography", "DX": "digital radiography", "CT": "computed tomography",
                  "MR": "magnetic resonance", "US": "ultrasound", "OT": "other (non-DICOM picture)",
                  "PT": "positron emission tomography", "NM": "nuclear medicine", "XA": "X-ray angiography"}
CT_BINS = (("air", "air (below -950 HU)", -np.inf, -950.0), ("lung", "lung density (-950 to -400 HU)", -950.0, -400.0),
           ("soft_tissue", "soft tissue (-100 to 100 HU)", -100.0, 100.0), ("bone", "bone (above 300 HU)", 300.0, np.inf))


def fmt(value: float, digits: int = 1) -> str:
    """One formatting for numbers in statements and values: integers stay integers."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}f}"


def rounded(value: float, digits: int = 1) -> float | int:
    text = fmt(value, digits)
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


@dataclass
class FactSheet:
    facts: list[Fact] = field(default_factory=list)

    def add(self, id: str, statement: str, value=None, unit: str = "", source: str = "") -> Fact:
        fact = Fact(id=id, statement=statement, value=value, unit=unit, source=source)
        self.facts.append(fact)
        return fact

    def numbers(self) -> set[str]:
        """Every number written in any statement or value (as text, normalised)."""
        found: set[str] = set()
        for f in self.facts:
            found.update(_norm(n) for n in NUMBER.findall(f.statement))
            if isinstance(f.value, (int, float)) and not isinstance(f.value, bool):
                found.add(_norm(fmt(float(f.value), 3)))
                found.add(_norm(str(f.value)))
            elif isinstance(f.value, str):
                found.update(_norm(n) for n in NUMBER.findall(f.value))
        return found


def _norm(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        return text
    return fmt(value, 3).rstrip("0").rstrip(".") if "." in fmt(value, 3) else fmt(value, 3)


def numbers_not_in_facts(text: str, sheet: FactSheet) -> list[str]:
    """Numbers in `text` that no fact states: what the describer's own check flags."""
    known = sheet.numbers()
    return [n for n in NUMBER.findall(text) if _norm(n) not in known]


def intensity_facts(sheet: FactSheet, pixels: np.ndarray, modality: str) -> None:
    """CT: share of pixels in standard HU windows. Other modalities: percentiles of stored values."""
    values = np.asarray(pixels, np.float32).ravel()
    values = values[np.isfinite(values)]
    if modality.upper() == "CT":
        for key, label, lo, hi in CT_BINS:
            share = rounded(100.0 * float(((values >= lo) & (values < hi)).mean()))
            sheet.add(f"ct_fraction_{key}", f"{fmt(share)}% of pixels are in the {label} window.",
                      share, "%", "intensity statistics (Hounsfield units)")
        return
    p1, p50, p99 = (rounded(float(v)) for v in np.percentile(values, [1, 50, 99]))
    sheet.add("intensity_p1", f"The 1st percentile of stored pixel values is {fmt(p1)}.", p1, "", "intensity statistics (stored values)")
    sheet.add("intensity_p50", f"The median stored pixel value is {fmt(p50)}.", p50, "", "intensity statistics (stored values)")
    sheet.add("intensity_p99", f"The 99th percentile of stored pixel values is {fmt(p99)}.", p99, "", "intensity statistics (stored values)")
