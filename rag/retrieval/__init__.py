"""A query to ranked passages: dense, BM25, fusion, MMR, rerank."""
