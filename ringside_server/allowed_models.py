"""`allowed_models` (API.md "Governance"): which models a key, tier or customer may call.

An entry is an `fc:` ref with `*` patterns (`fc:openai/*`, `fc:anthropic/claude-sonnet-*`), a
`slot:<name>` (every current target of that slot) or a `match:<provider>/<family>>=<major>` (every
catalog model that selector could pick). A model is allowed when it passes every list that applies
(the key's and the customer's effective one); a null list allows everything. An entry matches the
resolved ref; a dated snapshot (`gpt-4o-2024-08-06`) also matches every entry its catalog model
matches. Pure functions over the catalog: the edge resolves with them, and the vector-store code
checks an embedding model with `allows`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ringside_server.errors import RingsideError
from ringside_server.providers.catalog.load import CatalogModel
from ringside_server.providers.refs import MATCH_SELECTOR, Refs

MAX_ENTRIES = 100
MAX_ENTRY = 300
_SLOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$")
_FC_PATTERN = re.compile(r"^fc:\S+$")
# A date suffix of a provider's snapshot names: -2024-08-06 (OpenAI), -20250929 (Anthropic).
_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")


def validate(value: object, param: str = "allowed_models") -> tuple[str, ...] | None:
    """A list as given on the wire → its entries (duplicates dropped, order kept); None for null.
    400 for anything else, naming the bad entry."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise RingsideError("invalid_request", f"{param} must be an array of model entries or null.", param)
    if len(value) > MAX_ENTRIES:
        raise RingsideError("invalid_request", f"{param} may hold at most {MAX_ENTRIES} entries.", param)
    entries: dict[str, None] = {}
    for entry in value:
        if not isinstance(entry, str) or not _valid_entry(entry):
            shown = entry[:100] if isinstance(entry, str) else type(entry).__name__
            raise RingsideError(
                "invalid_request",
                f"{param}: {shown!r} is not an entry: use fc:<provider>/<model> (with * patterns, e.g. "
                "fc:openai/*), slot:<name> or match:<provider>/<family>>=<major>.",
                param,
            )
        entries[entry] = None
    return tuple(entries)


def _valid_entry(entry: str) -> bool:
    if not 1 <= len(entry) <= MAX_ENTRY or not entry.isprintable():
        return False
    if entry.startswith("fc:"):
        return _FC_PATTERN.match(entry) is not None
    if entry.startswith("slot:"):
        return _SLOT_NAME.match(entry[5:]) is not None
    return MATCH_SELECTOR.match(entry) is not None


@lru_cache(maxsize=4096)
def _pattern(entry: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", entry)))


def entry_allows(entry: str, ref: str, refs: Refs) -> bool:
    """Whether one entry (slot entries already replaced by their targets) allows `ref`."""
    if entry.startswith("fc:"):
        return ref == entry or ("*" in entry and _pattern(entry).fullmatch(ref) is not None)
    if entry.startswith("match:"):
        return any(model.ref == ref for model in refs.candidates(entry))
    return False


def _refs_of(ref: str) -> tuple[str, ...]:
    """The ref, and for a dated snapshot also its catalog model's ref."""
    undated = _DATED.sub("", ref)
    return (ref,) if undated == ref else (ref, undated)


def allows(lists: Sequence[Iterable[str]], ref: str, refs: Refs) -> bool:
    """Whether `ref` (`fc:<provider>/<model>`) passes every list (slot entries replaced by their
    targets, as ModelPolicy answers them). No list: everything is allowed.

    The check for anything that names a model outside a call (a vector store's embedding model at
    create and migrate): pass the calling key's list and the owner's effective list."""
    candidates = _refs_of(ref)
    return all(any(entry_allows(entry, c, refs) for entry in entries for c in candidates) for entries in lists)


def not_allowed(model_ref: str) -> RingsideError:
    return RingsideError(
        "model_not_allowed",
        f"'{model_ref[:200]}' is not among the models this key or customer may call (allowed_models).",
        "model",
    )


@dataclass(frozen=True, slots=True)
class Policy:
    """The lists one caller's calls must pass; empty: every model."""

    lists: tuple[tuple[str, ...], ...] = ()

    def allows(self, model: CatalogModel, refs: Refs) -> bool:
        return not self.lists or allows(self.lists, model.ref, refs)


EVERYTHING = Policy()
