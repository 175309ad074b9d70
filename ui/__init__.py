"""The Gradio app: a thin door onto the same agent and tools as the CLI."""
