"""Webhook delivery: the outbox relay and one durable workflow per (event, endpoint)."""
