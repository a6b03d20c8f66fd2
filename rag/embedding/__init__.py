"""The embedders: the bundled models, their prefixes and runtimes, the embedder protocol."""
