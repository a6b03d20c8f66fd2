"""RAG_EMBED_PRECISION over CPU flags, and the CPU as /proc/cpuinfo describes it: pure
logic, so every kind of machine is tested on whichever one runs the tests."""

import pytest

from rag.cpu import CPU, parse_cpuinfo, resolve_precision
from rag.embedding.models import cpu_precision, precision_in_use
from rag.errors import ConfigError

AVX2_ONLY = CPU("AMD EPYC 7B12", 2, frozenset({"avx2", "fma", "f16c"}))
AVX512_BF16 = CPU("AMD EPYC 9B14", 2, frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}))
AMX = CPU(
    "Intel(R) Xeon(R) Platinum 8481C",
    2,
    frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_fp16", "amx_bf16", "amx_int8"}),
)
VNNI_NO_BF16 = CPU(
    "Intel(R) Xeon(R) CPU @ 2.80GHz", 2, frozenset({"avx2", "avx512f", "avx512_vnni"})
)


@pytest.mark.parametrize(
    ("cpu", "expected"),
    [(AVX2_ONLY, "f32"), (VNNI_NO_BF16, "f32"), (AVX512_BF16, "bf16"), (AMX, "bf16")],
)
def test_auto_is_bf16_exactly_where_the_cpu_has_native_bf16(cpu: CPU, expected: str) -> None:
    assert resolve_precision("auto", cpu) == expected


@pytest.mark.parametrize("cpu", [AVX2_ONLY, VNNI_NO_BF16, AVX512_BF16, AMX])
def test_f32_is_f32_everywhere(cpu: CPU) -> None:
    assert resolve_precision("f32", cpu) == "f32"


def test_bf16_is_refused_without_native_bf16_with_the_fix() -> None:
    assert resolve_precision("bf16", AMX) == "bf16"
    with pytest.raises(ConfigError) as caught:
        resolve_precision("bf16", AVX2_ONLY)
    message = str(caught.value)
    assert "AMD EPYC 7B12" in message and "avx512_bf16" in message
    assert "RAG_EMBED_PRECISION=auto or f32" in message


def test_an_unknown_precision_is_refused() -> None:
    with pytest.raises(ConfigError, match="'fp8' is not one of auto, f32, bf16"):
        resolve_precision("fp8", AMX)


CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8

processor\t: 1
model name\t: ignored: the first processor names the machine
flags\t\t: fpu
"""


def test_cpuinfo_gives_the_first_processors_model_and_flags() -> None:
    model, flags = parse_cpuinfo(CPUINFO)
    assert model == "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz"
    assert {"avx2", "avx512_bf16", "amx_bf16", "amx_int8"} <= flags and "fpu" in flags
    cpu = CPU(model, 2, flags)
    assert cpu.native_bf16
    assert cpu.as_dict() == {
        "cpu": model,
        "cores": 2,
        "flags": ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"],
    }


def test_no_flags_known_means_nothing_native() -> None:
    model, flags = parse_cpuinfo("")
    assert (model, flags) == ("", frozenset())
    assert resolve_precision("auto", CPU("unknown", 1, flags)) == "f32"


def test_bf16_is_for_openvino_on_the_cpu_only() -> None:
    """auto quietly keeps f32 for torch, ONNX Runtime and a GPU; an explicit bf16 there
    is refused with the settings to change (checked on whatever CPU runs the test)."""
    for backend, device in (("torch", "cpu"), ("onnx", "cpu"), ("auto", "cuda")):
        assert cpu_precision("auto", backend=backend, device=device) == "f32"
        assert cpu_precision("f32", backend=backend, device=device) == "f32"
    from rag.cpu import this_cpu

    if this_cpu().native_bf16:
        assert cpu_precision("auto", backend="auto", device="cpu") == "bf16"
        with pytest.raises(ConfigError, match="RAG_EMBED_BACKEND=openvino"):
            cpu_precision("bf16", backend="torch", device="cpu")
    else:
        assert cpu_precision("auto", backend="auto", device="cpu") == "f32"


def test_stats_reports_the_precision_the_settings_resolve_to() -> None:
    from rag.config import Settings
    from rag.cpu import this_cpu

    def of(env: dict[str, str]) -> str:
        return precision_in_use(Settings.from_env(env).embedding)

    assert of({"RAG_EMBED_PRECISION": "f32"}) == "f32"
    assert of({"RAG_EMBED_BACKEND": "torch"}) == "f32"
    assert of({}) == ("bf16" if this_cpu().native_bf16 else "f32")
    assert of({"RAG_EMBED_PROVIDER": "openai", "OPENAI_API_KEY": "sk-x"}) == "the server's"
