"""One streaming pass over a batch's bytes: SHA-256, size, UTF-8 check, NUL bytes, last byte."""

from __future__ import annotations

import codecs
import hashlib
import os
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 1 << 20


@dataclass(frozen=True)
class Fingerprint:
    """What one read of the bytes tells: content hash and whether it looks like finished text."""

    sha256: str
    size: int
    utf8_error: str = ""  # "invalid start byte at byte 7", empty when the text is valid UTF-8
    nul_offset: int = -1  # offset of the first NUL byte (binary content), -1 when none
    ends_with_newline: bool = True


def fingerprint(fh: BinaryIO, text: bool) -> Fingerprint:
    """Hash a binary stream in 1 MiB chunks; for text formats also check UTF-8 and NUL bytes."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size, utf8_error, nul, last = 0, "", -1, b"\n"
    while block := fh.read(CHUNK):
        digest.update(block)
        if text and nul < 0 and (at := block.find(b"\0")) >= 0:
            nul = size + at
        if text and not utf8_error:
            try:
                decoder.decode(block)
            except UnicodeDecodeError as err:
                utf8_error = f"{err.reason} at byte {size + err.start}"
        size += len(block)
        last = block[-1:]
    if text and not utf8_error:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as err:
            utf8_error = f"{err.reason} at byte {size - len(err.object) + err.start}"
    return Fingerprint(digest.hexdigest(), size, utf8_error, nul, last == b"\n" or size == 0)


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a local file's bytes, read in chunks."""
    with open(path, "rb") as fh:
        return fingerprint(fh, text=False).sha256
