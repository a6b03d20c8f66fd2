"""Ingestion: files -> pages -> chunks -> embeddings -> the store."""
