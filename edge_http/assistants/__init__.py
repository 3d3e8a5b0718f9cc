"""The Assistants API (kept for compatibility; docs/assistants.md): request checks and objects."""
