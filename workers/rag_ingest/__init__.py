"""The ingest of a file attached to a vector store (issue 16), run by the rag role on its own task
queue: the workflow here, its activities in activities.py (imported by the rag role only)."""
