"""Seeded procedural phantoms with ground truth: the embedded training and evaluation data.

- `generate_chest(n, size, seed)`: PA chest radiographs with lung/heart/rib/nodule/effusion masks.
- `generate_head(n, size, seed)`: paired head CT (HU) and MR with skull/brain/ventricle/lesion masks.
- `phantom_split(family, split, n, size, seed)`: fixed, disjoint train/val/test splits.

Sides are always the PATIENT's: the patient's left is on the IMAGE RIGHT (PA chest, axial head).
"""

from tools.phantoms.chest import ChestPhantom, generate_chest
from tools.phantoms.dataset import phantom_split, save_dataset
from tools.phantoms.head import HeadPhantom, generate_head

__all__ = ["ChestPhantom", "HeadPhantom", "generate_chest", "generate_head", "phantom_split", "save_dataset"]
