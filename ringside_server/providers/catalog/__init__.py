"""Prices as data: one YAML file per provider (USD per 1M tokens, per priced token class)."""
