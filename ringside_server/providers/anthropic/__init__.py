"""Anthropic Messages API, translated to and from OpenAI Chat Completions."""
