"""Temporal workers: one folder per workflow family (workflows.py, activities.py, shared.py)."""
