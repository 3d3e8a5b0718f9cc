"""Anthropic's Messages API as an ingress: its requests read as OpenAI chat requests (so every
provider can serve them and the metering sees one format), the chat answers written back in
Anthropic's shape. The provider side (OpenAI → Anthropic) is providers/anthropic/."""
