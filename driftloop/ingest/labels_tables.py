"""The late-label tables of the ledger (same database, same ``driftloop_`` prefix).

* ``driftloop_label_files``: the manifest of label files, one row per file that reached its end
  place (``labels/processed/`` or ``labels/quarantine/``): hash, rows, status, reason.
* ``driftloop_label_moves``: write-ahead intents of label-file moves (as ``driftloop_moves``
  for batches); a row left by a crash is finished by ``recover_labels``.
* ``driftloop_labels``: every label row of every accepted file (model, id, label as JSON,
  the file's hash), written in the same transaction as the file's move intent, so a label
  file's rows are stored exactly when its move is on record. Rows are never deleted: a
  label whose batch is not seen yet waits here.
* ``driftloop_label_batches``: processed unlabelled batches whose rows are kept for the join
  (where the rows are, how many are labelled so far, how many label rows name their ids, whether
  it was tested).
* ``driftloop_label_records``: one `LabelRecord` per join that found new labels for a batch.
"""

from __future__ import annotations

import sqlalchemy as sa

from driftloop.ingest.ledger_tables import META, PREFIX

LABEL_FILES = sa.Table(
    PREFIX + "label_files",
    META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("file", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("destination", sa.Text, nullable=False, server_default=""),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sqlite_autoincrement=True,
)
LABEL_MOVES = sa.Table(
    PREFIX + "label_moves",
    META,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("file", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("destination", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)
LABELS = sa.Table(
    PREFIX + "labels",
    META,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("row_id", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Index(PREFIX + "labels_model_row", "model", "row_id"),
    sqlite_autoincrement=True,
)
LABEL_BATCHES = sa.Table(
    PREFIX + "label_batches",
    META,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("model", sa.String(100), nullable=False, index=True),
    sa.Column("batch", sa.Text, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("kept", sa.BigInteger, nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("joined", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("label_rows", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("challenged", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("kept_at", sa.String(40), nullable=False),
)
LABEL_RECORDS = sa.Table(
    PREFIX + "label_records",
    META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(100), nullable=False, index=True),
    sa.Column("batch_sha256", sa.String(64), nullable=False),
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sqlite_autoincrement=True,
)
