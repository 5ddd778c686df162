"""Names and temporary files driftloop derives from incoming batch names, safely.

Every name driftloop makes from a batch's name (its destination on a clash, its reason file)
must fit the file system's limit (255 bytes on most) for any incoming name, and every
temporary file is created exclusively, never through a symbolic link someone planted.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

HASH_TAG = 12  # hex digits of the whole name's hash kept in a shortened name
MAX_SUFFIX = 16  # bytes: a longer "extension" is treated as part of the stem


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def fit_name(name: str, limit: int) -> str:
    """The name itself if it fits `limit` bytes, else its start, `~` and a hash, and its suffix.

    The suffix (``.csv``) is kept so that the format is still known; the hash of the whole
    name keeps two long names that share their start apart.
    """
    raw = _bytes(name)
    if len(raw) <= limit:
        return name
    stem, suffix = os.path.splitext(name)
    if len(_bytes(suffix)) > MAX_SUFFIX:
        stem, suffix = name, ""
    tag = "~" + hashlib.sha256(raw).hexdigest()[:HASH_TAG]
    keep = max(0, limit - len(tag) - len(_bytes(suffix)))
    head = _bytes(stem)[:keep].decode("utf-8", "ignore")  # never half a character
    return head + tag + suffix


def write_new(folder: str, final: str, data: bytes) -> None:
    """Write data to `final` in folder whole or not at all, through an exclusive temp file."""
    fd, tmp = tempfile.mkstemp(prefix=".driftloop-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), 0o644)
            os.fsync(fh.fileno())
        os.replace(tmp, final)  # replaces a link at `final` itself, never its target
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
