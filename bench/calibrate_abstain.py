"""Calibrate RAG_ABSTAIN_THRESHOLD: best-hit cosine for questions R-intro.pdf answers
versus questions it does not, with the bundled model.

    .venv/bin/python bench/calibrate_abstain.py [STORE_DIR]

Without STORE_DIR, R-intro.pdf is ingested into a temporary store first. Prints one row
per question and a JSON summary with the suggested threshold (the midpoint of the gap
between the highest out-of-corpus score and the lowest in-corpus score).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.pipeline import Ingestor  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embeddings import SentenceTransformerEmbedder  # noqa: E402
from rag.index import open_index  # noqa: E402
from rag.retriever import Retriever  # noqa: E402

IN_CORPUS = [
    "How do I read a data frame from an external file with read.table?",
    "How are missing values represented in R?",
    "How can I generate regular sequences such as 1:30 or with seq()?",
    "How do I execute commands stored in an external file?",
    "What does tapply do with ragged arrays?",
    "How do I fit a linear regression model?",
    "How do I attach a data frame to the search path?",
    "What is a factor in R?",
    "How do I write my own function?",
    "How can I plot a histogram of my data?",
    "How do I get help on a function?",
    "What is the difference between a list and a vector?",
    "How do I multiply two matrices?",
    "How do I quit an R session and save the workspace?",
    "What are the arithmetic operators for vectors?",
]

OUT_OF_CORPUS = [
    "What is the capital of Australia?",
    "How do I bake sourdough bread?",
    "Who won the football World Cup in 2018?",
    "How do I configure a Kubernetes ingress controller?",
    "What are the symptoms of influenza?",
    "How many moons does Jupiter have?",
    "What is the best way to learn to play the guitar?",
    "How do I change a flat tyre on a bicycle?",
    "Who painted the Mona Lisa?",
    "What is the boiling point of water on Mount Everest?",
]


def best_scores(retriever: Retriever, questions: list[str]) -> list[float]:
    return [retriever.retrieve(q, k=1)[0].score for q in questions]


def main() -> int:
    embedder = SentenceTransformerEmbedder(device="cpu")
    if len(sys.argv) > 1:
        settings = Settings.default(Path(sys.argv[1]).resolve(), device="cpu")
    else:
        settings = Settings.default(Path(tempfile.mkdtemp()) / "store", device="cpu")
        with open_index(settings, writing=True, model=embedder) as index:
            Ingestor(index).run([ROOT / "data" / "R-intro.pdf"])
    retriever = Retriever(
        index=open_index(settings, writing=False, model=embedder), settings=settings.retrieval
    )
    inside = best_scores(retriever, IN_CORPUS)
    outside = best_scores(retriever, OUT_OF_CORPUS)
    print(f"{'score':>6}  {'kind':<7} question")
    rows = [(s, "in", q) for s, q in zip(inside, IN_CORPUS, strict=True)]
    rows += [(s, "out", q) for s, q in zip(outside, OUT_OF_CORPUS, strict=True)]
    for score, kind, question in sorted(rows, reverse=True):
        print(f"{score:6.3f}  {kind:<7} {question}")
    low_in, high_out = min(inside), max(outside)
    summary = {
        "in_corpus": {"n": len(inside), "min": round(low_in, 3), "max": round(max(inside), 3)},
        "out_of_corpus": {
            "n": len(outside),
            "min": round(min(outside), 3),
            "max": round(high_out, 3),
        },
        "separable": low_in > high_out,
        "suggested_threshold": round((low_in + high_out) / 2, 2),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
