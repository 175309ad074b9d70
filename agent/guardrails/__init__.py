"""Guardrails that do not rely on the LLM's judgement: grounding, scope, PHI masking, injection.

Each check returns `tools.schemas.Flag`s so every door shows them the same way.
"""
