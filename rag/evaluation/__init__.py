"""Yardsticks: BEIR, long documents, answers graded against their golds."""
