"""What an ingestion run did: files added, updated, unchanged, removed, failed, skipped,
chunks written and deleted; the CLI prints it, ``--json`` and the API return ``as_dict``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FileError:
    path: str
    reason: str


@dataclass
class Report:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unsupported file types
    chunks_written: int = 0
    chunks_deleted: int = 0
    deduplicated: int = 0  # chunks left out as near-copies of another file's (RAG_DEDUP)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "failed": len(self.errors),
            "skipped": len(self.skipped),
            "chunks_written": self.chunks_written,
            "chunks_deleted": self.chunks_deleted,
            "deduplicated": self.deduplicated,
            "errors": [{"path": e.path, "reason": e.reason} for e in self.errors],
            "seconds": round(self.seconds, 3),
            "dry_run": self.dry_run,
        }
        if self.dry_run:
            data["paths"] = {
                "added": self.added,
                "updated": self.updated,
                "removed": self.removed,
            }
        return data
