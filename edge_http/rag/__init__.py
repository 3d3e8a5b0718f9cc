"""Managed RAG's wire checks and model resolution at the edge (issue 16)."""
