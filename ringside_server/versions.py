"""Installed releases, as `ringside status` and /healthz report them."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def distribution_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"
