"""Metrics (Prometheus), request logs and traces (OpenTelemetry) for every role (docs/observability.md)."""
