"""Ringside's own resources, hung off `Ringside` / `AsyncRingside` (`client.customers`, …)."""
