"""Billing on Temporal: the period rollover and the Stripe usage sync, each on a named schedule."""
