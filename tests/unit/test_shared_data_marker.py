"""The ``shared_data`` marker (tests/conftest.py): tests that read ../shared/data skip with
the reason where it is missing, and fail the run instead when CI requires the data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import conftest


class Item:
    """What the collection hook reads of a test item: its marker, and the marks it adds."""

    def __init__(self, marked: bool) -> None:
        self.marked = marked
        self.added: list[pytest.MarkDecorator] = []

    def get_closest_marker(self, name: str) -> object | None:
        return object() if self.marked and name == "shared_data" else None

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self.added.append(marker)


def collect(items: list[Item]) -> None:
    conftest.pytest_collection_modifyitems(None, items)  # type: ignore[arg-type]


def test_a_missing_folder_skips_only_the_marked_tests_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conftest, "SHARED", tmp_path / "absent")
    monkeypatch.delenv(conftest.REQUIRE_SHARED, raising=False)
    marked, plain = Item(marked=True), Item(marked=False)
    collect([marked, plain])
    assert [m.mark.name for m in marked.added] == ["skip"]
    assert str(tmp_path / "absent") in marked.added[0].mark.kwargs["reason"]
    assert plain.added == []


def test_ci_turns_a_missing_folder_into_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conftest, "SHARED", tmp_path / "absent")
    monkeypatch.setenv(conftest.REQUIRE_SHARED, "1")
    with pytest.raises(pytest.UsageError, match="absent is missing"):
        collect([Item(marked=True)])


def test_a_present_folder_skips_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "SHARED", tmp_path)
    monkeypatch.delenv(conftest.REQUIRE_SHARED, raising=False)
    marked = Item(marked=True)
    collect([marked])
    assert marked.added == []
