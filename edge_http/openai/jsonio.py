"""JSON in and out, as the edge's handlers import it: the kernel's (ringside_server/jsonio.py), which
the worker shares."""

from __future__ import annotations

from ringside_server.jsonio import dumps, parse_model_body, parse_object

__all__ = ["dumps", "parse_model_body", "parse_object"]
