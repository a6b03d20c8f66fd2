"""What this CPU can do, read from ``/proc/cpuinfo``: the flags that decide the embedding
precision (``RAG_EMBED_PRECISION``) and that every benchmark figure names.

The project runs on unlike machines (an AMD with AVX2 and no VNNI; an AMD or Intel with
AVX-512, VNNI and bf16; an Intel Xeon with AMX), and a speed figure or a native build from
one says little about another, so the choice here is pure logic over the flags.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rag.errors import ConfigError

PRECISIONS = ("auto", "f32", "bf16")
# flags that run bf16 arithmetic natively; without them OpenVINO would emulate it slowly
NATIVE_BF16 = ("amx_bf16", "avx512_bf16")
# the flags that change what a build runs or how fast: named in every results file
NOTABLE = (
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_bf16",
    "amx_int8",
)


@dataclass(frozen=True)
class CPU:
    model: str
    cores: int
    flags: frozenset[str]

    @property
    def native_bf16(self) -> bool:
        return any(flag in self.flags for flag in NATIVE_BF16)

    @property
    def notable_flags(self) -> list[str]:
        return [flag for flag in NOTABLE if flag in self.flags]

    def as_dict(self) -> dict[str, object]:
        return {"cpu": self.model, "cores": self.cores, "flags": self.notable_flags}


def parse_cpuinfo(text: str) -> tuple[str, frozenset[str]]:
    """The first processor's model name and flags in ``/proc/cpuinfo``'s text."""
    model, flags = "", frozenset[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = frozenset(value.split())
    return model, flags


@cache
def this_cpu() -> CPU:
    try:
        model, flags = parse_cpuinfo(Path("/proc/cpuinfo").read_text(errors="replace"))
    except OSError:  # not Linux: no flags known, so nothing native is assumed
        model, flags = "", frozenset()
    return CPU(
        model=model or platform.processor() or "unknown", cores=os.cpu_count() or 1, flags=flags
    )


def resolve_precision(setting: str, cpu: CPU) -> str:
    """``RAG_EMBED_PRECISION`` on ``cpu``: ``auto`` is bf16 where the CPU has native bf16
    (AMX or AVX512-BF16), f32 elsewhere; an explicit ``bf16`` without it is refused."""
    if setting not in PRECISIONS:
        raise ConfigError(f"RAG_EMBED_PRECISION={setting!r} is not one of {', '.join(PRECISIONS)}.")
    if setting == "auto":
        return "bf16" if cpu.native_bf16 else "f32"
    if setting == "bf16" and not cpu.native_bf16:
        raise ConfigError(
            f"RAG_EMBED_PRECISION=bf16 but this CPU ({cpu.model}) has no native bf16 "
            f"({' or '.join(NATIVE_BF16)} in /proc/cpuinfo's flags), so it would run slower "
            "than f32. Set RAG_EMBED_PRECISION=auto or f32."
        )
    return setting
