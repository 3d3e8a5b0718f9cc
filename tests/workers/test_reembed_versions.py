"""A migration's (or a rebuild's) re-embedded points carry their file's attributes_version, as an
ingest's do (issue 16's lost update, tests/rag/test_attribute_versions.py): a late attribute write
of an older update must not replace the attributes the re-embed copied from the core's newer row.
Real local model (ONNX), real embedded engine; unbilled path, so no core is needed."""

from __future__ import annotations

import pathlib
from typing import cast

from rag.embedder import LOCAL_MODEL_REF, LocalEmbedder
from rag.index import index_name, open_indexes
from rag.server import RagServicer
from ringside_server.core_client import CoreClient
from ringside_server.metering.gateway import Gateway
from ringside_server.providers.catalog.load import load_catalog
from workers.rag_ingest.embedding import IngestEmbedding
from workers.rag_ingest.reembed import Reembedder, Target

STORE = "vs_reembedded"
FILE = "file-reembedded"
TEXT = "The lighthouse keeper logs the tides at dawn and files the harbour report before noon. " * 40


async def test_a_late_older_attribute_write_does_not_undo_what_the_re_embed_copied(tmp_path: pathlib.Path) -> None:
    indexes = open_indexes(path=tmp_path / "index")
    servicer = RagServicer(LocalEmbedder(threads=1), indexes, "internal-token")
    try:
        embedding = IngestEmbedding(servicer, cast(Gateway, None))  # the local model needs no gateway
        reembedder = Reembedder(cast(CoreClient, None), servicer, load_catalog(), embedding)
        model = reembedder.model(LOCAL_MODEL_REF)
        chunks, _ = reembedder.chunks(TEXT, "", model)
        assert len(chunks) > 1
        target = Target(STORE, 2, LOCAL_MODEL_REF, False, "", "")
        # The core's row is at update 3 ({"label": "new"}) when the migration reads it.
        await reembedder.embed_file(target, FILE, "a.txt", chunks, {"label": "new"}, 3, billed=False)
        name = index_name(STORE, 2)
        indexes.set_attributes(name, FILE, {"label": "stale"}, 2)  # update 2's edge write, arriving late
        vector = (await servicer.embed(["lighthouse tides"])).vectors[0].tolist()
        hits = indexes.search(name, vector, limit=50)
        assert len(hits) == len(chunks)
        assert {str(hit.attributes.get("label")) for hit in hits} == {"new"}
        indexes.set_attributes(name, FILE, {"label": "newer"}, 4)  # a newer update still applies
        hits = indexes.search(name, vector, limit=50)
        assert {str(hit.attributes.get("label")) for hit in hits} == {"newer"}
    finally:
        servicer.close()
        indexes.close()
