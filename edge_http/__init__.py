"""The HTTP edge: OpenAI-compatible and Ringside routes, translated into calls to the core."""
