"""Imaging I/O and the imaging tools, each a typed function with an `Args` model in and a `Result` model out."""
