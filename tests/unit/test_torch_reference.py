from pathlib import Path

import numpy as np

from rag.embedding.runtimes import PROBES, torch_reference


def test_torch_vectors_of_the_probes_are_computed_once_per_versions(tmp_path: Path) -> None:
    calls: list[int] = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.full((len(PROBES), 3), float(len(calls)), dtype=np.float32)

    first = torch_reference(tmp_path, versions="torch 1", compute=compute)
    again = torch_reference(tmp_path, versions="torch 1", compute=compute)
    other = torch_reference(tmp_path, versions="torch 2", compute=compute)
    assert len(calls) == 2
    assert again.tolist() == first.tolist() == [[1.0] * 3] * len(PROBES)
    assert other.tolist() == [[2.0] * 3] * len(PROBES)
    assert len(list(tmp_path.glob("torch-probes-*.npy"))) == 2


def test_an_unreadable_cache_is_computed_again(tmp_path: Path) -> None:
    torch_reference(tmp_path, versions="v", compute=lambda: np.zeros((len(PROBES), 2)))
    for path in tmp_path.glob("torch-probes-*.npy"):
        path.write_bytes(b"not numpy")
    again = torch_reference(tmp_path, versions="v", compute=lambda: np.ones((len(PROBES), 2)))
    assert again.tolist() == [[1.0, 1.0]] * len(PROBES)
