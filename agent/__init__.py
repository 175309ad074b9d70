"""radagent's agent layer: settings, LLM runtime, agent graph, guardrails, review queue and the CLI."""
