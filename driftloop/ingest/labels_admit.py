"""Late label files: admitted like batches, with the same write-ahead guarantees.

A label file (CSV, Parquet or JSON Lines holding `[model] id_column` and the target) is
placed directly in the zone's ``labels/`` folder. It ends in exactly one of
``labels/processed/`` (its rows stored in the ledger's ``driftloop_labels``) or
``labels/quarantine/`` (beside a ``.reason.txt``) by the steps of batches: hash -> record
intent (the label rows go into the ledger in the same transaction) -> move (one rename) ->
record outcome. A kill between two steps leaves the file waiting (nothing stored) or its
intent on record, which `recover_labels` completes at the start of the next join.
"""

from __future__ import annotations

import logging
import os
import posixpath
import stat
from dataclasses import dataclass, replace

import pandas as pd

from driftloop.core.errors import IngestError
from driftloop.core.killpoints import checkpoint
from driftloop.core.labels import canonical_labels
from driftloop.core.records import Status
from driftloop.ingest.fingerprint import Fingerprint
from driftloop.ingest.labels_join import id_text
from driftloop.ingest.labels_store import LabelFileEntry, LabelStore
from driftloop.ingest.read import TEXT_FORMATS, batch_format, iter_chunks, require_format
from driftloop.ingest.zone import IGNORED_SUFFIXES, Zone

log = logging.getLogger(__name__)
STEPS = ("label-hashed", "label-intent", "label-noted", "label-moved", "label-recorded")
"""The named crash points of a label file's admission (driftloop/core/killpoints.py)."""
PROCESSED, QUARANTINED, MISSING = Status.PROCESSED, Status.QUARANTINED, Status.MISSING


@dataclass(frozen=True)
class LabelSpec:
    """What a label file must hold, and whose labels they are."""

    model: str
    id_column: str
    target: str
    block_mib: int = 16


@dataclass(frozen=True)
class LabelFolders:
    """labels/ (files waiting) and its processed/ and quarantine/ sub-folders."""

    waiting: str
    processed: str
    quarantine: str


def label_folders(zone: Zone) -> LabelFolders:
    """The zone's label folders (``labels/``, ``labels/processed/``, ``labels/quarantine/``)."""
    join = os.path.join if zone.local else posixpath.join
    waiting = join(zone.root, "labels")
    return LabelFolders(waiting, join(waiting, "processed"), join(waiting, "quarantine"))


def _is_file(zone: Zone, path: str) -> bool:
    if zone.local:
        return stat.S_ISREG(os.lstat(path).st_mode)
    return bool(zone.fs.isfile(path))


def pending_labels(zone: Zone, folders: LabelFolders) -> list[str]:
    """Label files waiting in labels/, by name (hidden and temporary names left alone)."""
    if not zone.fs.exists(folders.waiting):
        return []
    names = [zone.name(p) for p in zone.fs.ls(folders.waiting, detail=False)]
    join = os.path.join if zone.local else posixpath.join
    paths = [
        join(folders.waiting, n)
        for n in sorted(names)
        if not n.startswith(".") and not n.lower().endswith(IGNORED_SUFFIXES)
    ]
    return [p for p in paths if _is_file(zone, p)]


def _broken(name: str, column: str, what: str, spec: LabelSpec) -> IngestError:
    key = "[model] id_column" if column == spec.id_column else "[model] target"
    return IngestError(
        f"{name}: {what} (column {column!r}, {key}); a label file holds one row per labelled "
        f"id with columns {spec.id_column!r} and {spec.target!r}. Fix the file and drop it "
        "into the labels folder again."
    )


def _labels_of(name: str, chunk: pd.DataFrame, spec: LabelSpec) -> pd.DataFrame:
    chunk = chunk.set_axis([str(c) for c in chunk.columns], axis=1)
    for col in (spec.id_column, spec.target):
        if col not in chunk.columns:
            raise _broken(name, col, f"no column {col!r} (it has {list(chunk.columns)[:10]})", spec)
        empty = int(chunk[col].isna().sum())
        if empty:
            raise _broken(name, col, f"{empty} row(s) with an empty {col!r}", spec)
    return pd.DataFrame({"row_id": id_text(chunk[spec.id_column]), "label": chunk[spec.target]})


def read_labels(zone: Zone, source: str, fp: Fingerprint, spec: LabelSpec) -> pd.DataFrame:
    """A label file's rows as `row_id` and `label` (canonical text), or an IngestError."""
    name = zone.name(source)
    fmt = require_format(name)
    chunks = iter_chunks(name, fmt, lambda: zone.open(source), fp, spec.block_mib)
    parts = [_labels_of(name, chunk, spec) for chunk in chunks]
    if not parts or not sum(len(p) for p in parts):
        raise _broken(name, spec.id_column, "no rows", spec)
    labels = pd.concat(parts, ignore_index=True)
    labels["label"] = canonical_labels(labels["label"]).astype("str").to_numpy()
    return labels


def finish_label(
    zone: Zone,
    store: LabelStore,
    folders: LabelFolders,
    source: str,
    entry: LabelFileEntry,
    labels: tuple[str, pd.DataFrame] | None = None,
) -> LabelFileEntry:
    """Move a label file to its one end place: intent (and its label rows), move, outcome."""
    folder = folders.processed if entry.status == PROCESSED else folders.quarantine
    entry = replace(entry, destination=zone.free_name(folder, entry.file, entry.sha256))
    model, rows = labels if labels is not None else ("", None)
    store.intend(source, entry, model, rows)
    checkpoint("label-intent")
    if entry.status != PROCESSED:
        zone.write_note(entry.destination, entry.reason)
        checkpoint("label-noted")
    zone.move(source, entry.destination)
    checkpoint("label-moved")
    done = store.settle(source)
    checkpoint("label-recorded")
    if done.status != PROCESSED:
        log.warning("%s: label file %s -> %s", done.file, done.status, done.reason)
    return done


def admit_labels(
    zone: Zone, store: LabelStore, folders: LabelFolders, source: str, spec: LabelSpec
) -> LabelFileEntry:
    """Store a waiting label file's rows and move it to processed, or quarantine it (why)."""
    name = zone.name(source)
    fp = zone.fingerprint(source, text=batch_format(name) in TEXT_FORMATS)
    checkpoint("label-hashed")
    entry = LabelFileEntry(name, fp.sha256, PROCESSED)
    prior = store.find_done(fp.sha256)
    if prior is not None:
        reason = (
            f"{name}: duplicate: same content (sha256 {fp.sha256[:12]}) as label file "
            f"{prior.file}, recorded at {prior.recorded_at}; its labels are stored already"
        )
        return finish_label(
            zone, store, folders, source, replace(entry, status=Status.DUPLICATE, reason=reason)
        )
    try:
        labels = read_labels(zone, source, fp, spec)
    except IngestError as err:
        bad = replace(entry, status=QUARANTINED, reason=str(err))
        return finish_label(zone, store, folders, source, bad)
    entry = replace(entry, rows=len(labels))
    return finish_label(zone, store, folders, source, entry, (spec.model, labels))


def _finish_move(
    zone: Zone, store: LabelStore, source: str, entry: LabelFileEntry
) -> LabelFileEntry:
    dest = entry.destination
    same = zone.exists(source) and zone.fingerprint(source, text=False).sha256 == entry.sha256
    if zone.exists(dest):
        if same:  # copied but not yet deleted (object store)
            zone.remove(source)
        return store.settle(source)
    if same:
        if entry.status != PROCESSED:
            zone.write_note(dest, entry.reason)
        zone.move(source, dest)
        return store.settle(source)
    reason = (
        f"{entry.file}: was being moved to {dest} but is neither there nor in the labels "
        "folder (someone removed or replaced it); its labels were not kept. Drop it in again."
    )
    log.error(reason)
    return store.settle(source, status=MISSING, reason=reason)


def recover_labels(zone: Zone, store: LabelStore) -> list[LabelFileEntry]:
    """Finish every label-file move a crash interrupted; return the records it completed."""
    done = []
    for source, entry in store.moves():
        try:
            done.append(_finish_move(zone, store, source, entry))
            log.warning("%s: interrupted label-file move finished: %s", entry.file, entry.status)
        except (OSError, IngestError) as err:
            log.error(
                "%s: cannot finish its move to %s yet: %s", entry.file, entry.destination, err
            )
    return done


def admit_waiting_labels(zone: Zone, store: LabelStore, spec: LabelSpec) -> list[LabelFileEntry]:
    """Finish interrupted label-file moves, then admit every label file waiting; their records."""
    folders = label_folders(zone)
    done = recover_labels(zone, store)
    return done + [
        admit_labels(zone, store, folders, p, spec) for p in pending_labels(zone, folders)
    ]
