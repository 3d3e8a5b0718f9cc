"""OpenAI's wire format: JSON rendering, the error envelope, SSE relay, usage and estimates."""
