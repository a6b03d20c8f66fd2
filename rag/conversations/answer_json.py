"""An ``Answer`` as JSON and back: what a stored conversation and a feedback row keep, so a
reopened answer shows its text, citations and retrieved passages as it did live.

A citation is written as its number, its passage's chunk id and its quotes; its passage is
the answer's hit of that chunk id (written once, in ``hits``), or written with the citation
where the answer does not hold that hit. Reading is forgiving about the shape (fields a
later version adds are ignored, fields it lacks take their defaults) and strict about the
kind: anything that is not an answer record is refused with a ``StoreError``.

Answers stored before citations held their hit and quotes (a citation as flat fields:
``source``, ``page``, ``chunk_id``, ``locator``, ``ocr``, and no ``quotes``) are read into
the same shape: the hit by chunk id from the answer's hits (from the flat fields where it
is missing), and an extractive answer's quotes read once from its text
(``_quotes_in_text``).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, fields
from typing import Any

from rag.errors import StoreError
from rag.types import Answer, Citation, Hit


def dump_answer(answer: Answer) -> str:
    """The answer as one JSON object (values JSON cannot hold are written as strings)."""
    by_id = {h.chunk_id: h for h in answer.hits}
    record = {
        "text": answer.text,
        "mode": answer.mode,
        "citations": [_citation_record(c, by_id) for c in answer.citations],
        "hits": [asdict(h) for h in answer.hits],
        "timings": answer.timings,
        "metadata": answer.metadata,
    }
    return json.dumps(record, ensure_ascii=False, default=str)


def load_answer(raw: str) -> Answer:
    """The ``Answer`` that ``dump_answer`` (or the version before it) wrote."""
    try:
        data = json.loads(raw)
        text, mode = str(data["text"]), str(data["mode"])
        hits = tuple(_hit(h) for h in data.get("hits", ()))
        by_id = {h.chunk_id: h for h in hits}
        stored = [dict(c) for c in data.get("citations", ())]
        # the previous version kept no quotes: an extractive answer's are in its text
        old = {} if mode != "extractive" else _quotes_in_text(text)
        return Answer(
            text=text,
            mode=mode,
            citations=tuple(_citation(c, by_id, old) for c in stored),
            hits=hits,
            timings={str(k): float(v) for k, v in dict(data.get("timings", {})).items()},
            metadata=dict(data.get("metadata", {})),
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise StoreError(
            f"A stored answer cannot be read ({type(exc).__name__}: {exc}); the "
            "conversations file may have been edited by hand."
        ) from exc


def _citation_record(citation: Citation, by_id: dict[str, Hit]) -> dict[str, object]:
    record: dict[str, object] = {
        "n": citation.n,
        "chunk_id": citation.chunk_id,
        "quotes": list(citation.quotes),
    }
    if by_id.get(citation.chunk_id) != citation.hit:
        record["hit"] = asdict(citation.hit)
    return record


def _citation(data: dict[str, Any], by_id: dict[str, Hit], old: dict[int, list[str]]) -> Citation:
    n = int(data["n"])
    if "hit" in data:
        hit = _hit(data["hit"])
    elif str(data["chunk_id"]) in by_id:
        hit = by_id[str(data["chunk_id"])]
    else:  # a previous version's citation of a passage the answer did not keep
        hit = Hit(
            chunk_id=str(data["chunk_id"]),
            text="",
            source=str(data["source"]),
            page=int(data["page"]),
            score=0.0,
            locator=str(data.get("locator", "")),
            ocr=bool(data.get("ocr", False)),
        )
    quotes = data["quotes"] if "quotes" in data else old.get(n, ())
    return Citation(n=n, hit=hit, quotes=tuple(str(q) for q in quotes))


def _hit(data: Any) -> Hit:
    known = {f.name for f in fields(Hit)}
    return Hit(**{k: v for k, v in dict(data).items() if k in known})


# Migration only: how answers stored before citations kept their quotes are read. A quote
# as ``rag.answers.extractive.render`` wrote it then: its text, " [n]" and its end mark, one per
# paragraph, after its section's heading in italics (older answers: several on a line).
_RENDERED = re.compile(r"(?:^| )(.+?) \[(\d+)\][.!?]")
_LEAD = re.compile(r"^\*[^*\n]+:\* ")


def _quotes_in_text(answer_text: str) -> dict[int, list[str]]:
    """The units an extractive answer of the previous version quotes from each passage
    ``[n]``, read back from its text (without their heading, their end mark or a clipped
    unit's ellipsis)."""
    out: dict[int, list[str]] = {}
    for paragraph in answer_text.split("\n\n"):
        for sentence, n in _RENDERED.findall(_LEAD.sub("", paragraph.strip())):
            out.setdefault(int(n), []).append(sentence.removesuffix(" …").strip())
    return out
