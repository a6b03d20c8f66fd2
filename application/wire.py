"""The one wire shape of answers and hits: what ``rag ask --json`` and ``rag search --json``
print, the API's ``/v1/search`` and chat completions' ``rag`` field return, and the MCP
tools give. Kept here, below every edge, so that no edge imports another for it."""

from __future__ import annotations

from rag.types import Answer, Hit


def answer_json(answer: Answer) -> dict[str, object]:
    return {
        "answer": answer.text,
        "mode": answer.mode,
        "citations": [
            {
                "n": c.n,
                "source": c.source,
                "page": c.page,
                "locator": c.hit.locator,
                "ocr": c.hit.ocr,
                "chunk_id": c.chunk_id,
                # the units an extractive answer quotes from the passage; [] from an LLM
                "quotes": list(c.quotes),
            }
            for c in answer.citations
        ],
        "timings": answer.timings,
    }


def hit_json(hit: Hit) -> dict[str, object]:
    return {
        "source": hit.source,
        "page": hit.page,
        "locator": hit.locator,
        "ocr": hit.ocr,
        "score": round(hit.score, 6),
        "text": hit.text,
        "chunk_id": hit.chunk_id,
    }
