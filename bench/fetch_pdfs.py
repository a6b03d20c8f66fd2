"""Put the PDFs of the page-known questions (bench/data/pages_questions.json) in
.rag/bench-pdfs/, each checked against its sha256.

    .venv/bin/python bench/fetch_pdfs.py            # fetch what is missing
    .venv/bin/python bench/fetch_pdfs.py --verify   # and check every answer is on its pages

A document's ``origin`` says where it comes from: ``shared`` (the project's ``data/`` or
``../shared/data/pdfs/``; its ``fallback`` is used when neither has it) or
``apt:PACKAGE=VERSION:PATH``, a file inside a pinned Debian package, downloaded with
``apt-get download`` (no root needed; run ``apt-get update`` once first) and unpacked with
``dpkg-deb`` or, where that is missing, by this script. Offline, put the ``.deb`` files in a
folder and pass ``--deb-dir``.

``--verify`` is a check of the question file against the real PDFs, not a CI test: for every
question, each ``' ... '``-separated part of its ``answer`` must be on one of its ``pages``
(case, whitespace, quotes and dashes normalised), read with pypdfium2.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "bench" / "data" / "pages_questions.json"
DEST = ROOT / ".rag" / "bench-pdfs"
SHARED_DIRS = (ROOT / "data", ROOT.parent / "shared" / "data" / "pdfs")
_PUNCT = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "—": "-", "–": "-", "−": "-", "‐": "-", "‑": "-"}
)


class FetchError(Exception):
    """A document could not be fetched or failed its check; the message says how to fix it."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parse_apt(origin: str) -> tuple[str, str, str]:
    """``apt:PACKAGE=VERSION:PATH`` -> (package, version, path inside the package)."""
    match = re.fullmatch(r"apt:([a-z0-9.+-]+)=([^:]+):(.+)", origin)
    if not match:
        raise FetchError(f"origin {origin!r} is not 'shared' or 'apt:PACKAGE=VERSION:PATH'")
    return match.group(1), match.group(2), match.group(3)


def download_deb(package: str, version: str, *, workdir: Path, deb_dir: Path | None) -> Path:
    """The .deb of package=version: from ``deb_dir`` if given, else ``apt-get download``."""
    pattern = f"{package}_{version.split(':')[-1]}_*.deb"
    if deb_dir is not None:
        found = sorted(deb_dir.glob(pattern))
        if not found:
            raise FetchError(f"no {pattern} in {deb_dir}: download {package}={version} there")
        return found[0]
    if shutil.which("apt-get") is None:
        raise FetchError(
            f"apt-get is not available to download {package}={version}: fetch that .deb "
            "from a Debian mirror into a folder and pass --deb-dir FOLDER"
        )
    run = subprocess.run(
        ["apt-get", "download", f"{package}={version}"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    found = sorted(workdir.glob(pattern))
    if run.returncode != 0 or not found:
        last = (run.stderr.strip().splitlines() or ["no message"])[-1]
        raise FetchError(
            f"apt-get download {package}={version} failed ({last}). Run 'apt-get update' "
            "first; if the version has left the archive, fetch that .deb by hand and pass "
            "--deb-dir FOLDER"
        )
    return found[0]


def extract_member(deb: Path, member: str) -> bytes:
    """The bytes of ``member`` (a path inside the package) from a .deb file."""
    if shutil.which("dpkg-deb") is not None:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True, capture_output=True)
            path = Path(tmp, member)
            if not path.is_file():
                raise FetchError(f"{member} is not in {deb.name}")
            return path.resolve().read_bytes()
    return _extract_with_python(deb, member)


def _extract_with_python(deb: Path, member: str) -> bytes:
    """A .deb is an ar archive holding data.tar.{xz,gz,bz2}; read it without dpkg."""
    blob = deb.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        raise FetchError(f"{deb} is not a Debian package")
    offset = 8
    while offset < len(blob):
        name = blob[offset : offset + 16].decode().strip().rstrip("/")
        size = int(blob[offset + 48 : offset + 58].decode().strip())
        body = blob[offset + 60 : offset + 60 + size]
        offset += 60 + size + (size % 2)
        if name.startswith("data.tar"):
            try:
                with tarfile.open(fileobj=io.BytesIO(body)) as archive:
                    for info in archive.getmembers():
                        data = archive.extractfile(info) if info.isfile() else None
                        if data is not None and info.name.lstrip("./") == member:
                            return data.read()
            except tarfile.ReadError as exc:
                raise FetchError(f"cannot read {name} of {deb.name}: install dpkg") from exc
            raise FetchError(f"{member} is not in {deb.name}")
    raise FetchError(f"{deb.name} has no data.tar member")


def fetch(documents: list[dict[str, object]], *, dest: Path, deb_dir: Path | None) -> list[str]:
    """Put every document in ``dest``; the list of failures (empty when all are there)."""
    dest.mkdir(parents=True, exist_ok=True)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for doc in documents:
            name, want = str(doc["file"]), str(doc["sha256"])
            target = dest / name
            if target.is_file() and sha256(target) == want:
                print(f"ok       {name}")
                continue
            try:
                source = _fetch_one(doc, workdir=Path(tmp), deb_dir=deb_dir)
            except (FetchError, subprocess.CalledProcessError, OSError) as exc:
                failures.append(f"{name}: {exc}")
                print(f"FAILED   {name}: {exc}", file=sys.stderr)
                continue
            got = hashlib.sha256(source).hexdigest()
            if got != want:
                failures.append(f"{name}: sha256 {got[:12]}… is not the expected {want[:12]}…")
                print(f"FAILED   {name}: wrong sha256 (a different version?)", file=sys.stderr)
                continue
            target.write_bytes(source)
            print(f"fetched  {name} ({len(source) // 1024} KiB)")
    return failures


def _fetch_one(doc: dict[str, object], *, workdir: Path, deb_dir: Path | None) -> bytes:
    name, origin = str(doc["file"]), str(doc["origin"])
    if origin == "shared":
        for folder in SHARED_DIRS:
            if (folder / name).is_file() and sha256(folder / name) == doc["sha256"]:
                return (folder / name).read_bytes()
        if "fallback" not in doc:
            raise FetchError(f"not in {' or '.join(map(str, SHARED_DIRS))}")
        origin = str(doc["fallback"])
    package, version, member = parse_apt(origin)
    deb = download_deb(package, version, workdir=workdir, deb_dir=deb_dir)
    return extract_member(deb, member)


def normalise(text: str) -> str:
    """Case, whitespace, curly quotes, dashes and PDF hyphenation marks made uniform."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\ufffe\u00ad]\s*", "", text).translate(_PUNCT)
    return re.sub(r"\s+", " ", text).strip().lower()


def answer_on_pages(answer: str, pages: list[str]) -> bool:
    """Whether every ``' ... '``-separated part of ``answer`` is on one of ``pages``."""
    parts = [normalise(part) for part in answer.split(" ... ")]
    return any(all(part in page for part in parts) for page in pages)


def verify(data: dict[str, Any], *, dest: Path) -> list[str]:
    """Every question's answer on one of its pages; the list of those that are not."""
    import pypdfium2 as pdfium  # only this mode reads the PDFs

    texts: dict[str, list[str]] = {}
    failed = []
    for doc in data["documents"]:
        pdf = pdfium.PdfDocument(dest / doc["file"])
        texts[doc["file"]] = [
            normalise(pdf[i].get_textpage().get_text_range()) for i in range(len(pdf))
        ]
        if len(pdf) != doc["pages"]:
            failed.append(f"{doc['file']}: {len(pdf)} pages, the JSON says {doc['pages']}")
    for q in data["questions"]:
        pages = [texts[q["file"]][p - 1] for p in q["pages"]]
        if not answer_on_pages(q["answer"], pages):
            failed.append(f"{q['id']}: {q['answer']!r} is not on page(s) {q['pages']}")
    return failed


def summary(questions: list[dict[str, object]]) -> str:
    counts = Counter((str(q["file"]), str(q["kind"]), str(q["half"])) for q in questions)
    head = ("tune/table", "tune/prose", "rep/table", "rep/prose")
    rows = [f"{'document':26} " + " ".join(f"{h:>10}" for h in head)]
    for name in dict.fromkeys(str(q["file"]) for q in questions):
        cells = [counts[(name, k, h)] for h in ("tune", "report") for k in ("table", "prose")]
        rows.append(f"{name:26} " + " ".join(f"{c:>10}" for c in cells))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=DEST, help="where the PDFs go")
    parser.add_argument("--deb-dir", type=Path, help="take the .deb files from here (offline)")
    parser.add_argument("--verify", action="store_true", help="check every answer's page")
    args = parser.parse_args(argv)
    data = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    failures = fetch(data["documents"], dest=args.dest, deb_dir=args.deb_dir)
    if failures:
        print(f"{len(failures)} document(s) missing; see the messages above.", file=sys.stderr)
        return 1
    if args.verify:
        wrong = verify(data, dest=args.dest)
        print(summary(data["questions"]))
        for line in wrong:
            print(f"FAILED   {line}")
        print(f"{len(data['questions']) - len(wrong)} of {len(data['questions'])} answers found")
        return 1 if wrong else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
