"""Patient-friendly rewriting of radiology reports and the deterministic fidelity checker."""
