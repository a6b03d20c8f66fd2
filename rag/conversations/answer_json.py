"""An ``Answer`` as JSON and back: what a stored conversation and a feedback row keep, so a
reopened answer shows its text, citations and retrieved passages as it did live.

Reading is forgiving about the shape (fields a later version adds are ignored, fields it
lacks take their defaults) and strict about the kind: anything that is not an answer
record is refused with a ``StoreError``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any, TypeVar

from rag.errors import StoreError
from rag.types import Answer, Citation, Hit

T = TypeVar("T", Citation, Hit)


def dump_answer(answer: Answer) -> str:
    """The answer as one JSON object (values JSON cannot hold are written as strings)."""
    return json.dumps(asdict(answer), ensure_ascii=False, default=str)


def load_answer(raw: str) -> Answer:
    """The ``Answer`` that ``dump_answer`` wrote, with its ``Citation`` and ``Hit`` values."""
    try:
        data = json.loads(raw)
        return Answer(
            text=str(data["text"]),
            mode=str(data["mode"]),
            citations=tuple(_value(Citation, c) for c in data.get("citations", ())),
            hits=tuple(_value(Hit, h) for h in data.get("hits", ())),
            timings={str(k): float(v) for k, v in dict(data.get("timings", {})).items()},
            metadata=dict(data.get("metadata", {})),
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise StoreError(
            f"A stored answer cannot be read ({type(exc).__name__}: {exc}); the "
            "conversations file may have been edited by hand."
        ) from exc


def _value(kind: type[T], data: Any) -> T:
    known = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in dict(data).items() if k in known})
