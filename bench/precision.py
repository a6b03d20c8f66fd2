"""The quality gate of RAG_EMBED_PRECISION=bf16: every tuning yardstick in f32 and in bf16.

    nice -n 10 python bench/precision.py [--docs .rag/bench-pdfs] [--modes dense,hybrid]

``auto`` picks bf16 where the CPU has native bf16 (``rag.cpu``); it may do so only while
bf16 stays within GATE of f32 on each of these in the shipped retrieval mode (dense is
measured and reported beside it), all of them tuning data:

- SciFact train (809 claims; ``rag eval --beir --split train``), nDCG@10;
- COVID-QA's tuning half (``rag eval --qa --half tune``), MRR@10 and hit@5;
- the page-known manuals' tuning half (``rag eval --pages --half tune``), MRR@10 and page@5.

Each precision runs the real command (``python -m rag eval ... --json``) in its own process
with RAG_EMBED_PRECISION set and its own fresh store, so each side ingests with the
precision it is scored in. SciFact test (the MTEB check: 0.64508 in f32) is run too and
reported, not gated. Needs a CPU with native bf16 (bf16 is refused elsewhere); writes
bench/results/precision.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.provenance import write_result  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.cpu import this_cpu  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
SCIFACT = SHARED / "beir" / "scifact"
COVIDQA = SHARED / "qa" / "covidqa" / "covidqa-200423.json"
PAGES = ROOT / "bench" / "data" / "pages_questions.json"
DOCS = ROOT / ".rag" / "bench-pdfs"
PRECISIONS = ("f32", "bf16")
GATE = 0.002  # the largest drop of any gated figure that keeps bf16 as auto's choice


def rag_eval(args: list[str], *, precision: str, store: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "RAG_EMBED_PRECISION": precision,
        "RAG_STORE_DIR": str(store),
    }
    done = subprocess.run(
        [sys.executable, "-m", "rag", "eval", *args, "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"rag eval {' '.join(args)} failed ({precision}):\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(precision: str, *, docs: Path, modes: list[str], tmp: Path) -> dict[str, Any]:
    store = tmp / precision
    out: dict[str, Any] = {"scifact_train": {}, "scifact_test": {}}
    for mode in modes:
        for split in ("train", "test"):
            got = rag_eval(
                ["--beir", str(SCIFACT), "--split", split, "--mode", mode],
                precision=precision,
                store=store,
            )
            out[f"scifact_{split}"][mode] = {"ndcg@10": got["ndcg@10"]}
    comma = ",".join(modes)
    qa = rag_eval(
        ["--qa", str(COVIDQA), "--half", "tune", "--mode", comma],
        precision=precision,
        store=store,
    )
    out["covidqa_tune"] = {m: _long(qa["modes"][m], "hit") for m in modes}
    pages = rag_eval(
        ["--pages", str(PAGES), "--docs", str(docs), "--half", "tune", "--mode", comma],
        precision=precision,
        store=store,
    )
    out["pages_tune"] = {m: _long(pages["modes"][m], "page") for m in modes}
    return out


def _long(figures: dict[str, Any], name: str) -> dict[str, float]:
    tune = figures.get("tune", figures)
    return {"mrr@10": tune["mrr@10"], f"{name}@5": tune[f"{name}@5"]}


def gate(results: dict[str, dict[str, Any]], *, gated_mode: str) -> dict[str, Any]:
    """Each figure's bf16 - f32 difference, and whether those of ``gated_mode`` (the
    shipped retrieval mode: what ``auto`` changes for a user) all stay within GATE. The
    other modes are reported beside them: a question set of 660 moves by 0.0015 a
    question, so a dense-only figure can cross GATE on two questions either way."""
    rows = []
    for yardstick, by_mode in results["f32"].items():
        if yardstick == "scifact_test":
            continue
        for mode, figures in by_mode.items():
            for metric, f32 in figures.items():
                bf16 = results["bf16"][yardstick][mode][metric]
                rows.append(
                    {
                        "yardstick": yardstick,
                        "mode": mode,
                        "metric": metric,
                        "f32": f32,
                        "bf16": bf16,
                        "difference": round(bf16 - f32, 5),
                        "gated": mode == gated_mode,
                    }
                )
    worst = min(row["difference"] for row in rows if row["gated"])
    return {
        "rows": rows,
        "gated_mode": gated_mode,
        "worst_drop": worst,
        "worst_drop_any_mode": min(row["difference"] for row in rows),
        "gate": GATE,
        "passes": worst >= -GATE,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=DOCS, help="the page-known PDFs")
    parser.add_argument("--modes", default="dense,hybrid")
    args = parser.parse_args(argv)
    if not this_cpu().native_bf16:
        print(f"{this_cpu().model} has no native bf16: nothing to gate here.")
        return 1
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    with tempfile.TemporaryDirectory(prefix="rag-bench-precision-") as tmp:
        results = {p: measure(p, docs=args.docs, modes=modes, tmp=Path(tmp)) for p in PRECISIONS}
    verdict = gate(results, gated_mode=Settings.from_env().retrieval.retrieval_mode)
    path = write_result("precision", {"modes": modes, "results": results, "verdict": verdict})
    for row in verdict["rows"]:
        print(
            f"{row['yardstick']:<14} {row['mode']:<8} {row['metric']:<8} "
            f"f32 {row['f32']:.4f}  bf16 {row['bf16']:.4f}  {row['difference']:+.4f}"
            + ("  (gated)" if row["gated"] else "")
        )
    print(f"worst drop {verdict['worst_drop']:+.4f} (gate {GATE}): ", end="")
    print("passes" if verdict["passes"] else "FAILS")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
