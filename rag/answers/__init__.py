"""A question to an answer: the LLM's, or the extractive one with its quotes."""
