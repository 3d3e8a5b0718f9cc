"""Managed RAG's domain (issue 16): parse files, chunk their text, embed the chunks with the local
model and keep them in a vector index per (store, generation).

Transport-free like core/domain/: no grpc, aiohttp or temporalio in here. The rag role's gRPC
service and Temporal activities translate around it; the edge and the core never import it (it
would load the parser and the embedding runtime into their processes).
"""
