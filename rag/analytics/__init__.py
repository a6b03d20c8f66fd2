"""Analytics over the stored vectors: topics, duplicates, classification."""
