"""Ringside's OpenAPI document (openapi.yaml beside this module), loaded once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DOCUMENT_PATH = Path(__file__).with_name("openapi.yaml")


def load_document() -> dict[str, Any]:
    """The document as a JSON-ready dict (read from the package's openapi.yaml)."""
    document = yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{DOCUMENT_PATH} does not hold an OpenAPI document")
    return document
