"""The landing zone on any fsspec file system: which files wait, confinement, hashing, moves.

The zone is one folder (a local path or an fsspec URL such as ``memory://z`` or ``s3://b/z``)
holding ``landing/``, ``processed/`` and ``quarantine/`` (and ``labels/``, for late labels:
ingest/labels_admit.py). A batch is a file placed directly in ``landing/``. Files whose names
start with ``.`` or end in a temporary suffix are still being written (write to ``.name.tmp``,
then rename), as are files changed less than ``settle_seconds`` ago. Moves are one rename on a
local disk (atomic); across two local file systems (EXDEV) and on object stores they copy, then
delete, which recovery completes if a crash falls between the two. Names derived from a batch's
name fit the file system's limit.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import logging
import os
import posixpath
import stat
import time
from typing import Any, BinaryIO
from urllib.parse import unquote

import fsspec
from fsspec.implementations.local import LocalFileSystem

from driftloop.core.errors import IngestError
from driftloop.ingest.cross_move import move_across
from driftloop.ingest.fingerprint import Fingerprint, fingerprint
from driftloop.ingest.names import fit_name, write_new

log = logging.getLogger(__name__)
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")
NOTE_SUFFIX = ".reason.txt"
NAME_MAX = 255  # bytes: ext4, xfs, btrfs, tmpfs, NTFS (UTF-16 units), most object stores


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device or special file"


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

    def safe_source(self, path: str) -> tuple[str, str]:
        """A landing file whose name is not UTF-8, renamed to its escaped form; else as is.

        Returns the path to use and the original name escaped ("" when it was fine). The
        ledger stores names as text, so such a name could not be recorded (every run would
        fail on it); renamed, the batch can be quarantined with a reason like any other.
        """
        name = self.name(path)
        try:
            name.encode("utf-8")
            return path, ""
        except UnicodeEncodeError:
            pass
        escaped = os.fsencode(name).decode("utf-8", "backslashreplace")
        folder = self._parent(path)
        target = self._join(folder, fit_name(escaped, self.name_max(folder) - len(NOTE_SUFFIX)))
        if self.exists(target):
            raise IngestError(f"{escaped}: not UTF-8, and {target} is taken; rename the file")
        os.rename(path, target)
        log.warning("%s: the name is not UTF-8; renamed to %s", escaped, self.name(target))
        return target, escaped

    def _mtime(self, info: dict[str, Any]) -> float:
        for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
            value = info.get(key)
            if value is None:
                continue
            return value.timestamp() if hasattr(value, "timestamp") else float(value)
        return 0.0

    def _left_alone(self, path: str, kind: str) -> str:
        """The warning for something in landing/ that is not a batch file: what to do with it."""
        name = self.name(path)
        if name.lower() == "labels":  # late labels put where batches go
            where = (os.path.join if self.local else posixpath.join)(self.root, "labels")
            return (
                f"{name}: {kind} in the landing folder, left alone: late-label files go in "
                f"{where} (beside landing/, not in it); move them there"
            )
        return (
            f"{name}: {kind} in the landing folder, left alone: driftloop takes only files "
            "placed directly in it (move the files it holds up into landing/)"
        )

    def _entries(self) -> list[tuple[str, float]]:
        if self.local:
            if not os.path.isdir(self.landing):
                return []
            with os.scandir(self.landing) as it:
                found = [(e.path, e.stat(follow_symlinks=False)) for e in it]
            batches = []
            for path, st in found:
                if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                    batches.append((path, st.st_mtime))
                    continue
                log.warning(self._left_alone(path, _kind(st.st_mode)))
            return batches
        if not self.fs.exists(self.landing):
            return []
        infos = self.fs.ls(self.landing, detail=True)
        for i in infos:
            if i.get("type") != "file":
                log.warning(self._left_alone(i["name"], "a folder"))
        return [(i["name"], self._mtime(i)) for i in infos if i.get("type") == "file"]

    def _waits(self, name: str, mtime: float, now: float) -> bool:
        """Whether a landing file is a batch to take now (else: one log line, why not)."""
        traversal = ".." in unquote(unquote(name)).replace("\\", "/").split("/")
        if traversal:
            return True  # quarantined as a path traversal, even when hidden
        if name.startswith(".") or name.lower().endswith(IGNORED_SUFFIXES):
            log.info("%s: hidden or temporary name (still being written); left alone", name)
            return False
        if now - mtime < self.settle_seconds:
            log.info("%s: changed under [ingest] settle_seconds ago; left for later", name)
            return False
        return True

    def pending(self) -> list[str]:
        """Batches waiting in landing/, oldest first; files still being written are left alone."""
        now = time.time()
        waiting = [
            (mtime, self.name(path), path)
            for path, mtime in self._entries()
            if self._waits(self.name(path), mtime, now)
        ]
        return [self.url(path) for _, _, path in sorted(waiting)]

    def exists(self, path: str) -> bool:
        """True when something (a link included) is at path."""
        return os.path.lexists(path) if self.local else bool(self.fs.exists(path))

    def size(self, path: str) -> int:
        """Size in bytes (of the link itself for a symlink)."""
        return os.lstat(path).st_size if self.local else int(self.fs.size(path))

    def remove(self, path: str) -> None:
        """Delete a file (a link itself, never its target)."""
        if self.local:
            os.unlink(path)
        else:
            self.fs.rm(path)

    def stamp(self, path: str) -> tuple[int, int]:
        """Size and modification time (ns) of a file, to tell whether it changed since."""
        if self.local:
            st = os.lstat(path)
            return st.st_size, st.st_mtime_ns
        info = self.fs.info(path)
        return int(info.get("size") or 0), int(self._mtime(info) * 1e9)

    def open(self, path: str) -> BinaryIO:
        """Open a batch for binary reading."""
        return self.fs.open(path, "rb")

    def fingerprint(self, path: str, text: bool) -> Fingerprint:
        """Hash a batch (a symlink by its target text: it is never followed)."""
        if self.is_symlink(path):
            target = os.readlink(path).encode("utf-8", "surrogateescape")
            return Fingerprint(hashlib.sha256(b"symlink\0" + target).hexdigest(), len(target))
        with self.open(path) as fh:
            return fingerprint(fh, text)

    def name_max(self, folder: str) -> int:
        """The longest file name (in bytes) the folder's file system takes."""
        if not self.local:
            return NAME_MAX
        try:
            return min(NAME_MAX, os.pathconf(folder, "PC_NAME_MAX"))
        except (OSError, ValueError):
            return NAME_MAX

    def free_name(self, folder: str, name: str, sha256: str) -> str:
        """A path in folder for name that nothing occupies (the hash is added on a clash).

        The name is shortened (a hash of the whole name keeps it unique) so that it and its
        reason file fit the file system's name limit, whatever the incoming name's length.
        """
        budget = self.name_max(folder) - len(NOTE_SUFFIX)
        stem, suffix = os.path.splitext(name)
        for candidate in (name, f"{stem}.{sha256[:12]}{suffix}"):
            target = self._join(folder, fit_name(candidate, budget))
            if not self.exists(target) and not self.exists(target + NOTE_SUFFIX):
                return target
        for n in itertools.count(2):
            target = self._join(folder, fit_name(f"{stem}.{sha256[:12]}-{n}{suffix}", budget))
            if not self.exists(target) and not self.exists(target + NOTE_SUFFIX):
                return target
        raise AssertionError("unreachable")  # pragma: no cover

    def write_note(self, dest: str, reason: str) -> None:
        """Write the reason file beside a destination (whole or not at all).

        Locally the text goes to a fresh temporary file (``mkstemp``: created exclusively,
        never through a link planted in its place), then one rename puts it in place.
        """
        note = dest + NOTE_SUFFIX
        self.fs.makedirs(self._parent(note), exist_ok=True)
        data = (reason.rstrip() + "\n").encode("utf-8", "surrogateescape")
        if not self.local:
            self.fs.pipe_file(note, data)
            return
        write_new(os.path.dirname(note), note, data)

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
        try:
            os.rename(src, dest)
        except OSError as err:
            if err.errno != errno.EXDEV:
                raise
            move_across(src, dest)  # landing/ is on another file system
            return
        fd = os.open(os.path.dirname(dest), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
