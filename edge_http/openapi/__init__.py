"""Ringside's OpenAPI 3.1 document: the YAML, its loader, and the scripts that keep it current."""
