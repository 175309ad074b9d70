"""Seeded procedural phantoms with ground truth: the embedded training and evaluation data."""
