"""Promptable segmentation and the measurement-grounded describer."""
