"""Model providers: the price catalog, the built-in test model and OpenAI-compatible upstreams."""
