"""docs/operations.md shows what core/domain/retention.py keeps, how long and why."""

from __future__ import annotations

from core.domain.retention import KEPT
from tests.harness import ROOT


def test_the_operations_guide_lists_every_kept_kind_as_the_code_says() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    for kept in KEPT:
        assert f"| {kept.what} | {kept.how_long} |" in guide, kept.what
