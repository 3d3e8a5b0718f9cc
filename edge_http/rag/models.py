"""A vector store's embedding model, resolved once at create and pinned as an fc: ref (API.md
"Managed RAG"): `fc:` and `match:` refs, `slot:<name>` (one model: a slot with fallbacks is
refused, since queries must embed in the index's own space), and a bare name as OpenAI's
(DECISIONS.md, the bare-name rule's fourth exception)."""

from __future__ import annotations

from edge_http.context import Edge
from ringside_server.errors import RingsideError
from ringside_server.providers.catalog.load import CatalogModel

PARAM = "embedding_model"


async def embedding_model_of(edge: Edge, api_key: str, requested: object, customer_ref: str = "") -> CatalogModel:
    """The catalog embedding model `requested` names, among those the key and the store's owner may
    call (allowed_models: 403 model_not_allowed); 400 (param `embedding_model`) otherwise."""
    if not isinstance(requested, str) or not requested.strip():
        raise RingsideError("invalid_request", "embedding_model must be a model ref.", PARAM)
    ref = requested.strip()
    if ":" not in ref:
        ref = f"fc:openai/{ref}"
    try:
        policy = await edge.policy(api_key, customer_ref=customer_ref)
        models = await edge.resolve_model(ref, api_key, policy)
    except RingsideError as error:
        raise RingsideError(error.code, error.message, PARAM) from None
    if len(models) != 1:
        raise RingsideError(
            "invalid_request", "A slot with fallbacks cannot be a store's embedding model: it must be one model.", PARAM
        )
    model = models[0]
    if model.kind != "embedding":
        raise RingsideError("invalid_request", f"'{model.ref}' is not an embedding model.", PARAM)
    return model
