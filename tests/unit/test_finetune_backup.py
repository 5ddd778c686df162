"""A fine-tune backup that a kill left half-written is removed, so the retry starts over."""

from __future__ import annotations

from pathlib import Path

from driftloop.models.finetune import _drop_torn_backup


def test_a_truncated_backup_is_removed_and_a_missing_one_is_left_alone(tmp_path: Path) -> None:
    _drop_torn_backup(tmp_path)  # no backup: nothing to do
    (tmp_path / "latest.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 88)  # eof = 96
    (tmp_path / "training_metadata.json").write_text('{"epoch": 3}')
    _drop_torn_backup(tmp_path)
    assert list(tmp_path.iterdir()) == []
