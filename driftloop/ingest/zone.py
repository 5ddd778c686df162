"""The landing zone on any fsspec file system: which files wait, confinement, hashing, moves.

The zone is one folder (a local path or an fsspec URL such as ``memory://z`` or ``s3://b/z``)
holding ``landing/``, ``processed/`` and ``quarantine/``. A batch is a file placed directly in
``landing/``. Files whose names start with ``.`` or end in a temporary suffix are still being
written (write to ``.name.tmp``, then rename), as are files changed less than
``settle_seconds`` ago. Moves are one rename on a local disk (atomic); on object stores fsspec
copies then deletes, which recovery completes if a crash falls between the two.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import time
from typing import Any, BinaryIO
from urllib.parse import unquote

import fsspec
from fsspec.implementations.local import LocalFileSystem

from driftloop.core.errors import IngestError
from driftloop.ingest.fingerprint import Fingerprint, fingerprint

IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")
NOTE_SUFFIX = ".reason.txt"


class Zone:
    """A landing zone: landing/, processed/ and quarantine/ under one fsspec URL."""

    def __init__(self, url: str, settle_seconds: float = 0.0) -> None:
        self.fs, root = fsspec.core.url_to_fs(url)
        self.local = isinstance(self.fs, LocalFileSystem)
        self.root = os.path.abspath(root) if self.local else posixpath.normpath(root)
        self.settle_seconds = settle_seconds
        self.landing = self._join(self.root, "landing")
        self.processed = self._join(self.root, "processed")
        self.quarantine = self._join(self.root, "quarantine")

    def _join(self, folder: str, name: str) -> str:
        return os.path.join(folder, name) if self.local else posixpath.join(folder, name)

    def _parent(self, path: str) -> str:
        return os.path.dirname(path) if self.local else posixpath.dirname(path)

    def ensure_dirs(self) -> None:
        """Create landing/, processed/ and quarantine/ if missing."""
        for folder in (self.landing, self.processed, self.quarantine):
            self.fs.makedirs(folder, exist_ok=True)

    def url(self, path: str) -> str:
        """The path as given to the flow: a plain path locally, else a full URL."""
        return path if self.local else self.fs.unstrip_protocol(path)

    def locate(self, path: str | os.PathLike[str]) -> str:
        """Normalise a batch path or URL; refuse anything not directly inside landing/."""
        text = os.fspath(path)
        raw = fsspec.core.url_to_fs(text)[1] if "://" in text else text
        norm = os.path.abspath(raw) if self.local else posixpath.normpath("/" + raw.lstrip("/"))
        if not self.local and not self.root.startswith("/"):
            norm = norm.lstrip("/")
        parent = os.path.dirname(norm) if self.local else posixpath.dirname(norm)
        if parent != self.landing:
            raise IngestError(
                f"{text}: outside the landing zone {self.landing}; driftloop only takes files "
                "placed directly in it (no '..', no sub-folders, no other folder). "
                "Move the file into the landing folder."
            )
        return norm

    def name(self, path: str) -> str:
        """File name of a zone path."""
        return posixpath.basename(path.replace(os.sep, "/"))

    def is_symlink(self, path: str) -> bool:
        """True for a symbolic link (only local zones have them)."""
        return self.local and os.path.islink(path)

    def escape_reason(self, path: str) -> str:
        """Why a waiting name must not be read (symlink, path traversal), or ""."""
        name = self.name(path)
        if self.is_symlink(path):
            target = os.readlink(path)
            real = os.path.realpath(path)
            where = "inside" if real.startswith(self.landing + os.sep) else "outside"
            return (
                f"{name}: is a symbolic link to {target!r}, {where} the landing zone; driftloop "
                "never follows links (they can reach files outside the zone). Copy the file "
                "into the landing folder instead of linking it."
            )
        decoded = unquote(unquote(name))
        if ".." in decoded.replace("\\", "/").split("/"):
            return (
                f"{name}: the file name holds a path traversal ('..' between separators, "
                "after URL-decoding); driftloop refuses names that could climb out of a folder. "
                "Rename the file without '..', '/' or '\\'."
            )
        return ""

    def _mtime(self, info: dict[str, Any]) -> float:
        for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
            value = info.get(key)
            if value is None:
                continue
            return value.timestamp() if hasattr(value, "timestamp") else float(value)
        return 0.0

    def _entries(self) -> list[tuple[str, float]]:
        if self.local:
            if not os.path.isdir(self.landing):
                return []
            with os.scandir(self.landing) as it:
                return [
                    (e.path, e.stat(follow_symlinks=False).st_mtime)
                    for e in it
                    if e.is_symlink() or e.is_file(follow_symlinks=False)
                ]
        if not self.fs.exists(self.landing):
            return []
        infos = self.fs.ls(self.landing, detail=True)
        return [(i["name"], self._mtime(i)) for i in infos if i.get("type") == "file"]

    def pending(self) -> list[str]:
        """Batches waiting in landing/, oldest first; files still being written are left alone."""
        now = time.time()
        waiting = [
            (mtime, self.name(path), path)
            for path, mtime in self._entries()
            if not self.name(path).startswith(".")
            and not self.name(path).lower().endswith(IGNORED_SUFFIXES)
            and now - mtime >= self.settle_seconds
        ]
        return [self.url(path) for _, _, path in sorted(waiting)]

    def exists(self, path: str) -> bool:
        """True when something (a link included) is at path."""
        return os.path.lexists(path) if self.local else bool(self.fs.exists(path))

    def size(self, path: str) -> int:
        """Size in bytes (of the link itself for a symlink)."""
        return os.lstat(path).st_size if self.local else int(self.fs.size(path))

    def open(self, path: str) -> BinaryIO:
        """Open a batch for binary reading."""
        return self.fs.open(path, "rb")  # type: ignore[no-any-return]

    def fingerprint(self, path: str, text: bool) -> Fingerprint:
        """Hash a batch (a symlink by its target text: it is never followed)."""
        if self.is_symlink(path):
            target = os.readlink(path).encode("utf-8", "surrogateescape")
            return Fingerprint(hashlib.sha256(b"symlink\0" + target).hexdigest(), len(target))
        with self.open(path) as fh:
            return fingerprint(fh, text)

    def free_name(self, folder: str, name: str, sha256: str) -> str:
        """A path in folder for name that nothing occupies (the hash is added on a clash)."""
        target = self._join(folder, name)
        if not self.exists(target):
            return target
        stem, suffix = os.path.splitext(name)
        return self._join(folder, f"{stem}.{sha256[:12]}{suffix}")

    def write_note(self, dest: str, reason: str) -> None:
        """Write the reason file beside a destination (whole or not at all)."""
        note = dest + NOTE_SUFFIX
        self.fs.makedirs(self._parent(note), exist_ok=True)
        data = (reason.rstrip() + "\n").encode("utf-8")
        if not self.local:
            self.fs.pipe_file(note, data)
            return
        tmp = os.path.join(os.path.dirname(note), "." + os.path.basename(note) + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, note)

    def quarantined(self) -> list[str]:
        """Batch files in quarantine/ (their .reason.txt notes and hidden files left out)."""
        if self.local:
            if not os.path.isdir(self.quarantine):
                return []
            with os.scandir(self.quarantine) as it:
                paths = [e.path for e in it if e.is_symlink() or e.is_file(follow_symlinks=False)]
        elif self.fs.exists(self.quarantine):
            infos = self.fs.ls(self.quarantine, detail=True)
            paths = [i["name"] for i in infos if i.get("type") == "file"]
        else:
            return []
        return sorted(
            p
            for p in paths
            if not self.name(p).startswith(".") and not self.name(p).endswith(NOTE_SUFFIX)
        )

    def remove_note(self, path: str) -> None:
        """Delete the reason file beside a batch, if there is one."""
        note = path + NOTE_SUFFIX
        if self.exists(note):
            self.fs.rm(note)

    def move(self, src: str, dest: str) -> None:
        """Move a batch to dest: one atomic rename locally, never overwriting anything."""
        if self.exists(dest):
            raise IngestError(f"{dest} already exists; driftloop never overwrites a batch")
        self.fs.makedirs(self._parent(dest), exist_ok=True)
        if not self.local:
            self.fs.mv(src, dest)
            return
        os.rename(src, dest)
        fd = os.open(os.path.dirname(dest), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
