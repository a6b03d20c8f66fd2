"""``python -m rag ask QUESTION [--label L] [--json]``: stream an answer, then its sources."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from application.queries import ask, check_label
from application.wire import answer_json
from rag.answers.llm import make_llm
from rag.config import Settings
from rag.store.index import open_index
from rag.types import Answer


def register(sub: Any) -> None:
    ask = sub.add_parser("ask", help="answer a question with citations")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print one JSON object at the end")
    ask.add_argument("--label", default=None, help="only documents so labelled (classify)")
    ask.set_defaults(func=cmd_ask)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    # the contract is checked on open, before the models load; the answer is assembled as
    # the app's and the servers' are (application.queries). One question per process: no
    # shared resources to keep (application.resources), and their imports not paid for
    index = open_index(settings, writing=False)
    llm = make_llm(settings.answers)
    check_label(index, args.label, drop="--label")
    stream = ask(index, args.question, llm=llm, label=args.label)
    if args.json:
        answer = stream.answer
        print(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
    else:
        for delta in stream:
            print(delta, end="", flush=True)
        print()
        answer = stream.answer
        print_sources(answer)
    notice = answer.metadata.get("notice")
    if notice:
        print(f"note: {notice}", file=sys.stderr)
    return 0


CLOSEST = 3  # places named when the answer abstains, as the app offers its passages


def print_sources(answer: Answer) -> None:
    if not answer.citations:
        if answer.hits:  # abstained: where to look, so the user can judge for themselves
            print("\nClosest passages (not an answer):")
            named = [f"{Path(h.source).name} {h.place(short=True)}".strip() for h in answer.hits]
            for line in list(dict.fromkeys(named))[:CLOSEST]:  # two chunks of a page: one line
                print(f"  {line}")
        return
    print("\nSources:")
    for c in answer.citations:
        place = f" {c.place(short=True)}" if c.place() else ""
        print(f"  [{c.n}] {Path(c.source).name}{place}")
