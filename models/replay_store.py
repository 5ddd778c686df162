"""The live replay buffer in the work folder: every labelled batch joins it exactly once.

Each model version stores the buffer it was trained with; between versions, labelled
batches that did not trigger a retrain still join the reservoir here, so the next challenger
replays rows from all batches. A state is a folder (rows + counts + the batch hashes already
included) published by an atomic rename of the `CURRENT` pointer, so a crash leaves either
the old state or the new one. After a promoted concept change the buffer starts again from
that batch: the earlier rows carry the old rule's labels.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pandas as pd

from driftloop.models.champion import Champion
from driftloop.models.options import ReplayOptions
from driftloop.models.replay import ReplayBuffer
from driftloop.models.serving import is_classifier


def load_live(root: Path, champion: Champion) -> tuple[ReplayBuffer, list[str]]:
    """The live buffer in `root` and the batch hashes in it; the champion's own if none yet."""
    pointer = root / "CURRENT"
    if not pointer.is_file():
        return champion.replay_buffer, []
    state = root / pointer.read_text(encoding="utf-8").strip()
    meta = json.loads((state / "state.json").read_text(encoding="utf-8"))
    frame = pd.read_parquet(state / "rows.parquet")
    return ReplayBuffer.from_json(frame, json.dumps(meta["seen"])), list(meta["batches"])


def add_batch(
    opts: ReplayOptions, target: str, champion: Champion, frame: pd.DataFrame, sha256: str
) -> ReplayBuffer:
    """Reservoir-merge a labelled batch into the live buffer, once per content hash."""
    buffer, batches = load_live(opts.root, champion)
    if sha256 in batches:
        return buffer
    seed = opts.seed + len(batches) + 1
    merged = buffer.add(frame, target, opts.rows, seed, is_classifier(champion.meta))
    _publish(opts.root, merged, [*batches, sha256])
    return merged


def restart_live(
    opts: ReplayOptions, target: str, champion: Champion, frame: pd.DataFrame, sha256: str
) -> ReplayBuffer:
    """Start the live buffer again from this batch alone (after a concept change)."""
    empty = ReplayBuffer(frame.iloc[0:0])
    fresh = empty.add(frame, target, opts.rows, opts.seed + 1, is_classifier(champion.meta))
    _publish(opts.root, fresh, [sha256])
    return fresh


def reset_live(root: Path, version: Champion) -> ReplayBuffer:
    """Make a version's own stored buffer the live one (that version serves again)."""
    _publish(root, version.replay_buffer, [])
    return version.replay_buffer


def _publish(root: Path, buffer: ReplayBuffer, batches: list[str]) -> None:
    """Write a new state folder and point CURRENT at it atomically; drop the old state."""
    name = f"state-{uuid.uuid4().hex[:12]}"
    (root / name).mkdir(parents=True)
    buffer.frame.to_parquet(root / name / "rows.parquet", index=False)
    state = {"seen": buffer.seen, "batches": batches}
    (root / name / "state.json").write_text(json.dumps(state), encoding="utf-8")
    old = (
        (root / "CURRENT").read_text(encoding="utf-8").strip()
        if (root / "CURRENT").is_file()
        else ""
    )
    (root / "CURRENT.tmp").write_text(name, encoding="utf-8")
    os.replace(root / "CURRENT.tmp", root / "CURRENT")
    if old:
        shutil.rmtree(root / old, ignore_errors=True)
