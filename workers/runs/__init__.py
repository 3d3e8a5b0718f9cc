"""Assistants runs (kept for compatibility; docs/assistants.md): one workflow per run."""
