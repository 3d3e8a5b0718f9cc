"""Ringside's kernel: what every role (core, edge, workers) shares — the settings, the core's
gRPC client, JSON and money helpers, the API error codes. It imports no role and not the
launcher (`ringside_cli`)."""
