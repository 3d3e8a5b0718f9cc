"""Builders of Ringside's model refs (API.md "Model calls"), returning plain `str`.

A ref is what goes in `model=`: `fc:<provider>/<model>`, `slot:<name>` or
`match:<provider>/<family>>=<major>`. The builders check the same shapes the server checks, so a
typo fails where it is written rather than as a 400 at the first call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MatchBuilder", "Model"]

MAX_REF_LENGTH = 300  # the server's bound on a model ref
MAX_SLOT_NAME_LENGTH = 100
MAX_MAJOR_VERSION = 9999  # the server reads at most four digits
_IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def _identifier(value: str, what: str) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise ValueError(f"{what} must be lowercase letters, digits, '_', '.' or '-' (1..64), got {value!r}")
    return value


def _checked(ref: str) -> str:
    if len(ref) > MAX_REF_LENGTH:
        raise ValueError(f"a model ref is at most {MAX_REF_LENGTH} characters")
    return ref


@dataclass(frozen=True, slots=True)
class MatchBuilder:
    """`Model.match(provider, family)`: the newest catalog model of a family, resolved per request."""

    provider: str
    family: str
    major_version: int = 0

    def min_version(self, major: int) -> MatchBuilder:
        """Only models of this major version or newer (`>=major`)."""
        if isinstance(major, bool) or not isinstance(major, int) or not 0 <= major <= MAX_MAJOR_VERSION:
            raise ValueError(f"the major version must be an integer 0..{MAX_MAJOR_VERSION}, got {major!r}")
        return MatchBuilder(self.provider, self.family, major)

    def build(self) -> str:
        """The ref string, e.g. `match:anthropic/sonnet>=4`."""
        return _checked(f"match:{self.provider}/{self.family}>={self.major_version}")

    def __str__(self) -> str:
        return self.build()


class Model:
    """Namespace of the ref builders: `Model.fc(...)`, `Model.slot(...)`, `Model.match(...)`."""

    @staticmethod
    def fc(provider: str, model: str) -> str:
        """A fixed model: `fc:openai/gpt-4o-mini`. The model name is passed on as given."""
        _identifier(provider, "provider")
        if not isinstance(model, str) or not model or not model.isprintable() or any(c.isspace() for c in model):
            raise ValueError(f"model must be a non-empty name without spaces, got {model!r}")
        return _checked(f"fc:{provider}/{model}")

    @staticmethod
    def slot(name: str) -> str:
        """An account's slot (an alias with fallbacks, `/v1/slots`): `slot:chat-default`."""
        valid = isinstance(name, str) and 1 <= len(name) <= MAX_SLOT_NAME_LENGTH and ":" not in name
        if not valid or not name.isprintable() or name.startswith("slot_"):
            raise ValueError(f"a slot name is 1..{MAX_SLOT_NAME_LENGTH} characters without ':', got {name!r}")
        return f"slot:{name}"

    @staticmethod
    def match(provider: str, family: str) -> MatchBuilder:
        """Start a `match:` selector; finish it with `.min_version(n).build()`."""
        return MatchBuilder(_identifier(provider, "provider"), _identifier(family, "family"))
