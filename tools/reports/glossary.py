"""Plain meanings of report terms, so the glossary does not depend on what the LLM remembers.

Only terms that occur in the report are listed; an LLM-proposed entry is kept only when its
term occurs in the report too.
"""

from __future__ import annotations

import re

GLOSSARY: dict[str, str] = {
    "pleural effusion": "fluid in the space between the lung and the chest wall",
    "pericardial effusion": "fluid in the sac around the heart",
    "pneumothorax": "air between the lung and the chest wall, which can make the lung collapse",
    "consolidation": "part of the lung filled with fluid or infection instead of air",
    "atelectasis": "part of the lung that is partly collapsed or not fully inflated",
    "cardiomegaly": "an enlarged heart",
    "nodule": "a small round spot",
    "mass": "a lump or growth larger than about 3 cm",
    "lesion": "an area that looks different from normal tissue",
    "cyst": "a fluid-filled sac, usually harmless",
    "calculus": "a stone", "renal": "to do with the kidney", "hepatic": "to do with the liver",
    "hydronephrosis": "swelling of the kidney because urine cannot drain",
    "emphysema": "damage to the small air sacs of the lungs",
    "lymphadenopathy": "enlarged lymph nodes (glands)",
    "ascites": "fluid in the belly", "steatosis": "fat in the liver", "haemorrhage": "bleeding",
    "hemorrhage": "bleeding", "infarct": "tissue damaged because its blood supply was blocked",
    "oedema": "swelling caused by fluid", "edema": "swelling caused by fluid",
    "stenosis": "narrowing", "enhancing": "lights up after contrast dye is given",
    "enhancement": "lighting up after contrast dye is given", "opacity": "an area that looks whiter than normal",
    "embolism": "a blood clot that has travelled and blocks a blood vessel",
    "thrombus": "a blood clot", "metastasis": "cancer that has spread from another place",
    "fracture": "a broken bone (a crack or a break)", "bilateral": "on both sides",
    "contralateral": "on the other side", "ipsilateral": "on the same side", "benign": "not cancer",
    "malignant": "cancerous", "hypodense": "darker than the tissue around it on CT",
    "hyperintense": "brighter than the tissue around it on MRI", "hypoechoic": "darker on ultrasound",
    "echogenic": "brighter on ultrasound", "unremarkable": "normal", "lobe": "a section of an organ",
    "mediastinal": "in the middle of the chest", "hilar": "where the airways and vessels enter the lung",
    "degenerative": "wear-and-tear", "herniation": "a disc bulging out of place",
    "diverticulosis": "small pouches in the wall of the bowel", "cholecystitis": "an inflamed gallbladder",
    "appendicitis": "an inflamed appendix", "fibroid": "a non-cancerous growth in the womb muscle",
    "haemangioma": "a harmless cluster of blood vessels", "hemangioma": "a harmless cluster of blood vessels",
}


def glossary_for(report: str, proposed: list[dict[str, str]] | None = None, limit: int = 8) -> list[dict[str, str]]:
    """Curated meanings of the report's terms, then LLM-proposed ones whose term is in the report."""
    lowered = (report or "").lower()
    entries: list[dict[str, str]] = []
    seen: set[str] = set()
    for term, meaning in GLOSSARY.items():
        if re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", lowered) and term not in seen:
            entries.append({"term": term, "meaning": meaning})
            seen.add(term)
    for item in proposed or []:
        term = str(item.get("term", "")).strip()
        meaning = str(item.get("meaning", "")).strip()
        if term and meaning and term.lower() not in seen and term.lower() in lowered:
            entries.append({"term": term, "meaning": meaning})
            seen.add(term.lower())
    return entries[:limit]
