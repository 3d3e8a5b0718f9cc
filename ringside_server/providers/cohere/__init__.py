"""Cohere v2 chat, translated to and from OpenAI Chat Completions."""
