"""The landing zone: which files wait, their content hash, and moving each to its one end place."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")


def is_waiting(path: Path) -> bool:
    """True for a regular file a producer has finished writing (no dot prefix, no temp suffix)."""
    return (
        path.is_file()
        and not path.name.startswith(".")
        and not path.name.lower().endswith(IGNORED_SUFFIXES)
    )


def pending_batches(landing: Path) -> list[Path]:
    """Files waiting in the landing folder, oldest first (modification time, then name)."""
    if not landing.is_dir():
        return []
    files = [p for p in landing.iterdir() if is_waiting(p)]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _free_name(folder: Path, name: str, sha256: str) -> Path:
    target = folder / name
    if not target.exists():
        return target
    stem, suffix = os.path.splitext(name)
    return folder / f"{stem}.{sha256[:12]}{suffix}"


def move_batch(path: Path, folder: Path, sha256: str, reason: str = "") -> Path:
    """Move a batch into folder (atomic rename, never overwriting); write any reason beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, path.name, sha256)
    os.replace(path, target)
    if reason:
        note = target.with_name(target.name + ".reason.txt")
        tmp = note.with_name("." + note.name + ".tmp")
        tmp.write_text(reason.rstrip() + "\n", encoding="utf-8")
        os.replace(tmp, note)
    return target
