"""Keras-safe internal names for feature columns: any column name a file can carry works.

TensorFlow accepts only ``[A-Za-z0-9.][A-Za-z0-9_.\\-/>]*`` as a scope name, so a column such as
``Unnamed: 0``, ``price (€)`` or ``2nd-reading`` cannot name a layer. Each feature gets
``f<position>_<letters, digits and underscores of its name>``: unique (the position differs even
for names that differ only in case or in dropped characters), short, and still readable in a
model summary. The names users see (reports, signature, served frame) stay the columns' own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
READABLE_CHARS = 40


def input_names(columns: Sequence[str]) -> dict[str, str]:
    """Map each feature column to a unique Keras-safe input and layer name."""
    return {
        col: f"f{i}_{_UNSAFE.sub('_', col).strip('_')[:READABLE_CHARS]}".rstrip("_")
        for i, col in enumerate(columns)
    }
