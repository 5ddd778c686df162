"""A batch move between two file systems (a landing folder on another mount or volume).

``rename`` cannot cross file systems (EXDEV), so the batch is copied to an exclusive
temporary file beside its destination, synced, checked against the source (same bytes,
source unchanged meanwhile), linked into place (which refuses to overwrite anything), and only
then removed from landing. A crash before the link leaves the batch waiting (plus a hidden
``.driftloop-*.tmp``); a crash after it leaves the batch in both places with the same content,
which recovery settles by removing the landing copy.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

from driftloop.core.errors import IngestError

CHUNK = 1 << 20


def _sync_dir(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(src: str, out: int) -> str:
    digest = hashlib.sha256()
    with open(src, "rb") as inp:
        while chunk := inp.read(CHUNK):
            digest.update(chunk)
            os.write(out, chunk)
    os.fsync(out)
    return digest.hexdigest()


def _hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def move_across(src: str, dest: str) -> None:
    """Copy, verify, link into place, then remove the source; never overwrites dest."""
    folder = os.path.dirname(dest)
    if os.path.islink(src):  # a quarantined link moves as a link, its target untouched
        os.symlink(os.readlink(src), dest)
        _sync_dir(folder)
        os.unlink(src)
        return
    before = os.stat(src)
    fd, tmp = tempfile.mkstemp(prefix=".driftloop-", suffix=".tmp", dir=folder)
    try:
        copied = _copy(src, fd)
        os.close(fd)
        fd = -1
        after = os.stat(src)
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            raise IngestError(
                f"{os.path.basename(src)}: changed while it was copied to {folder}; left "
                "waiting (let the producer finish writing, then run again)."
            )
        if _hash(tmp) != copied:
            raise IngestError(f"{dest}: the copy does not match {src}; left waiting")
        os.link(tmp, dest)  # FileExistsError rather than overwrite
    finally:
        if fd >= 0:
            os.close(fd)
        os.unlink(tmp)
    _sync_dir(folder)
    os.unlink(src)
    _sync_dir(os.path.dirname(src))
