"""The index: the Chroma collection, its contract and manifest, the writer's lock and lease."""
