"""Validate a batch chunk by chunk with pandera and explain every failure in one message.

Per-row checks (types, infinities, nullability, categories, ranges, unknown columns) are the
pandera schema of ``schema.py``; their failure cases are counted over the whole file, so the
message says how many rows are affected. Whole-file facts (no rows, a column empty in every
row, too few rows) are totals over the chunks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pandera.pandas as pa

from driftloop.core.errors import SchemaError
from driftloop.core.labels import canonical_labels
from driftloop.core.text import as_text
from driftloop.ingest.sample import RowSample
from driftloop.ingest.schema import Rules, build_schema

ORDER = (
    "missing",
    "target_name",
    "extra",
    "nested",
    "type",
    "finite",
    "target",
    "null",
    "category",
    "range",
    "other",
)
MAX_SEEN = 1000  # column names remembered for near-miss hints
NESTED = (list, tuple, dict, np.ndarray)


def _kind(check: str, column: str, target: str) -> str:
    if check == "column_in_dataframe":
        return "missing"
    if check == "column_in_schema":
        return "extra"
    if check.startswith(("coerce_dtype", "dtype")):
        return "type"
    if check == "not_nullable":
        return "target" if column == target else "null"
    return check if check in ORDER else "other"


class BatchChecker:
    """Feed chunks of one batch; `finish` raises a SchemaError naming every problem found.

    Valid rows are kept whole, or (``sample_rows``) as a seeded uniform sample of at most that
    many rows, so memory stays bounded whatever the batch size; ``keep=False`` keeps none.
    """

    def __init__(
        self,
        name: str,
        rules: Rules,
        keep: bool = True,
        sample_rows: int | None = None,
        seed: int = 0,
    ) -> None:
        self.name, self.rules, self.keep = name, rules, keep
        self.schema = build_schema(rules)
        self.rows = 0
        self.filled = dict.fromkeys(rules.numeric, 0)
        self.failures: dict[tuple[str, str], list] = {}  # (kind, column) -> [rows, examples]
        self.sample = RowSample(sample_rows, seed)
        self.chunks = 0
        self.absent = dict.fromkeys(rules.features, 0)  # feature -> chunks without it
        self.target_seen = False
        self.target_absent_rows = 0
        self.seen: set[str] = set()

    def feed(self, chunk: pd.DataFrame) -> pd.DataFrame | None:
        """Validate one chunk; return it with the model's columns and types when it passes."""
        chunk = chunk.set_axis([str(c) for c in chunk.columns], axis=1)
        chunk.index = pd.RangeIndex(self.rows, self.rows + len(chunk))
        self.rows += len(chunk)
        chunk = self._nested(self._complete(chunk))
        try:
            valid = self.schema.validate(chunk, lazy=True)
        except pa.errors.SchemaErrors as errs:
            self._count(errs.failure_cases)
            return None
        out = self._model_columns(valid)
        for col in self.rules.numeric:
            self.filled[col] += int(out[col].notna().sum())
        if self.keep:
            self.sample.add(out)
        return out

    def _complete(self, chunk: pd.DataFrame) -> pd.DataFrame:
        """Give a chunk the features it lacks as empty cells (a JSON key absent from a block)."""
        self.chunks += 1
        present = set(chunk.columns)
        if len(self.seen) < MAX_SEEN:
            self.seen.update(sorted(present)[: MAX_SEEN - len(self.seen)])
        if self.rules.target in present:
            self.target_seen = True
        else:
            self.target_absent_rows += len(chunk)
        absent = [c for c in self.rules.features if c not in present]
        for col in absent:
            self.absent[col] += 1
        return chunk.assign(**dict.fromkeys(absent, None)) if absent else chunk

    def _nested(self, chunk: pd.DataFrame) -> pd.DataFrame:
        """Count and blank cells holding lists or objects in the model's columns."""
        for col in [*self.rules.features, self.rules.target]:
            if col not in chunk.columns or chunk[col].dtype != object:
                continue
            mask = chunk[col].map(lambda v: isinstance(v, NESTED)).astype(bool)
            if not mask.any():
                continue
            entry = self.failures.setdefault(("nested", col), [0, []])
            entry[0] += int(mask.sum())
            for value in chunk.loc[mask, col].head(100):
                text = json_like(value)
                if len(entry[1]) < 3 and text not in entry[1]:
                    entry[1].append(text)
            chunk = chunk.assign(**{col: chunk[col].where(~mask, None)})
        return chunk

    def near(self, col: str) -> str:
        """A column of the batch whose name differs from col only in case or spaces, or ""."""
        key = col.strip().casefold()
        close = sorted(c for c in self.seen if c != col and c.strip().casefold() == key)
        return close[0] if close else ""

    def _derived(self) -> dict[tuple[str, str], list]:
        """The failures, plus what only the whole file shows: missing columns, a near-miss
        target, and rows of a labelled batch without the target key."""
        out = dict(self.failures)
        r = self.rules
        missing = [c for c in r.features if self.chunks and self.absent[c] == self.chunks]
        out = {k: v for k, v in out.items() if k[1] not in missing}
        for col in missing:
            out[("missing", col)] = [0, []]
        if self.target_seen and self.target_absent_rows:
            entry = out.setdefault(("target", r.target), [0, []])
            out[("target", r.target)] = [entry[0] + self.target_absent_rows, entry[1]]
        elif not self.target_seen and self.near(r.target):
            out[("target_name", self.near(r.target))] = [0, []]
        return out

    def _count(self, cases: pd.DataFrame) -> None:
        columns = cases["column"].fillna("").astype(str)
        kinds = [
            _kind(str(c), col, self.rules.target)
            for c, col in zip(cases["check"], columns, strict=True)
        ]
        cases = cases.assign(kind=kinds, col=columns)
        for (kind, column), group in cases.groupby(["kind", "col"], sort=False):
            if kind in ("missing", "extra"):
                for col in group["failure_case"].astype(str):
                    self.failures.setdefault((kind, col), [0, []])
                continue
            entry = self.failures.setdefault((str(kind), str(column)), [0, []])
            idx = group["index"].dropna()
            entry[0] += int(idx.nunique()) if len(idx) else len(group)
            for value in group["failure_case"].drop_duplicates().head(3).tolist():
                if len(entry[1]) < 3:
                    entry[1].append(value)

    def _model_columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, pd.Series] = {c: frame[c].astype("float64") for c in self.rules.numeric}
        for col in self.rules.categorical:
            out[col] = pd.Series(as_text(frame[col]), index=frame.index, dtype=object)
        target = self.rules.target
        out[target] = frame[target] if target in frame.columns else pd.Series(None, frame.index)
        ident = self.rules.id_column
        if ident:
            out[ident] = frame[ident].astype("str").astype("object")
        return pd.DataFrame(out, index=frame.index)

    def problems(self) -> list[str]:
        """Every problem found so far, most fundamental first, each with its fix."""
        name, rows, r = self.name, self.rules, self.rules
        if self.rows == 0:
            return [
                f"{name}: a header but no rows; the producer wrote the column names only. "
                "Re-send the batch with its rows."
            ]
        found = sorted(self._derived().items(), key=lambda kv: ORDER.index(kv[0][0]))
        msgs: list[str] = []
        ident = r.id_column
        if ("missing", ident) in dict(found):
            msgs.append(
                f"{name}: no id column {ident!r} ([model] id_column), by which late labels are "
                f'joined; add the column to the batch, or set [model] id_column = "" in '
                "driftloop.toml."
            )
        missing = [c for (k, c), _ in found if k == "missing" and c != ident]
        if missing:
            hint = self._hint(missing)
            msgs.append(
                f"{name}: missing column(s) {missing} (absent from all {self.rows} rows){hint}; "
                f"the model reads {r.features}. Add the columns to the batch, or update "
                "[features] in driftloop.toml and bootstrap a new model."
            )
        for (kind, col), (n, examples) in found:
            if kind == "target_name":  # before 'unexpected': it explains that column
                msgs.extend(self._message(kind, col, n, examples))
        extra = [c for (k, c), _ in found if k == "extra"]
        if extra:
            msgs.append(
                f"{name}: unexpected column(s) {extra}; drop them from the batch, "
                'or set [ingest] extra_columns = "ignore" in driftloop.toml.'
            )
        for (kind, col), (n, examples) in found:
            if kind != "target_name":
                msgs.extend(self._message(kind, col, n, examples))
        if not msgs:
            for col, filled in self.filled.items():
                if filled == 0:
                    msgs.append(
                        f"{name}: column {col!r} is empty in all {self.rows} rows; the producer "
                        "lost this column's values. Fix the export and re-send the batch."
                    )
        if not msgs and self.rows < rows.min_rows:
            msgs.append(
                f"{name}: {self.rows} row(s), fewer than [ingest] min_rows = {rows.min_rows}; "
                "send larger batches or lower min_rows."
            )
        return msgs

    def _hint(self, missing: list[str]) -> str:
        close = [(c, self.near(c)) for c in missing if self.near(c)]
        if not close:
            return ""
        pairs = ", ".join(f"{near!r} (did you mean {col!r}?)" for col, near in close)
        return (
            f"; the batch has {pairs}: names are matched exactly, case and spaces included, "
            "so rename the column(s)"
        )

    def _message(self, kind: str, col: str, n: int, examples: list) -> list[str]:
        name, total, eg = self.name, self.rows, ", ".join(repr(v) for v in examples)
        target = self.rules.target
        if kind == "target_name":
            return [
                f"{name}: no target column {target!r}, but the batch has {col!r}: did you mean "
                f"{target!r}? Names are matched exactly (case and spaces included), so the "
                f"batch would silently count as unlabelled. Rename the column to {target!r}, "
                "or drop it to send an unlabelled batch."
            ]
        if kind == "nested":
            return [
                f"{name}: column {col!r} holds lists or objects (JSON arrays or objects, "
                f"Parquet lists) in {n} of {total} row(s) (e.g. {', '.join(examples)}); each "
                "cell must hold one value. Flatten the column in the export."
            ]
        if kind == "type":
            return [
                f"{name}: column {col!r} must be numeric, but {n} of {total} row(s) are not "
                f"numbers (e.g. {eg}). Fix the values, or list the column under [features] "
                "categorical and bootstrap a new model."
            ]
        if kind == "finite":
            return [
                f"{name}: column {col!r} holds {n} infinite value(s) in {total} row(s); "
                "replace them with real numbers or leave the cells empty."
            ]
        if kind == "target":
            return [
                f"{name}: target column {col!r} is empty in {n} row(s); send every row with its "
                "label, or drop the target column entirely (then drift is tested but the model "
                "is not fine-tuned)."
            ]
        if kind == "null" and col == self.rules.id_column:
            return [
                f"{name}: id column {col!r} ([model] id_column) is empty in {n} of {total} "
                "row(s); every row needs its id for its late label to be joined. Fill the ids."
            ]
        if kind == "null":
            return [
                f"{name}: column {col!r} is empty in {n} of {total} row(s), but [ingest] not_null "
                f"requires a value; fill the cells, or remove {col!r} from not_null."
            ]
        if kind == "category":
            return [
                f"{name}: column {col!r} holds {n} of {total} row(s) with values outside "
                f"[ingest] categories (e.g. {eg}); fix the values, or add them to "
                f"categories.{col} in driftloop.toml."
            ]
        if kind == "range":
            return [
                f"{name}: column {col!r} holds {n} of {total} row(s) outside [ingest] ranges "
                f"{col} = {self.rules.ranges[col]} (e.g. {eg}); fix the values or widen the range."
            ]
        if kind in ("missing", "extra"):
            return []
        return [f"{name}: column {col!r} fails a check in {n} row(s) (e.g. {eg}); fix the values."]

    def finish(self) -> pd.DataFrame:
        """Raise a SchemaError for the problems found, else return the validated rows kept."""
        msgs = self.problems()
        if msgs:
            extra = f" (and {len(msgs) - 3} more problem(s))" if len(msgs) > 3 else ""
            raise SchemaError(" Also: ".join(msgs[:3]) + extra)
        frame = self.sample.frame()
        if not self.target_seen:
            frame = frame.drop(columns=[self.rules.target], errors="ignore")
        elif self.rules.target in frame.columns:
            frame[self.rules.target] = canonical_labels(frame[self.rules.target])
        return frame


def json_like(value: object) -> str:
    """A short text of a nested cell for a message (a list as JSON, at most 60 characters)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate_chunks(
    chunks: Iterable[pd.DataFrame],
    name: str,
    rules: Rules,
    keep: bool = True,
    sample_rows: int | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, int]:
    """Validate every chunk of a batch; return the model-typed rows kept and the batch's rows.

    The rows kept: all of them, or a seeded uniform sample of ``sample_rows`` (none if keep
    is False).
    """
    checker = BatchChecker(name, rules, keep, sample_rows, seed)
    for chunk in chunks:
        checker.feed(chunk)
    return checker.finish(), checker.rows


def validate_batch(
    frame: pd.DataFrame,
    name: str,
    numeric: Sequence[str],
    categorical: Sequence[str],
    target: str,
    extra_columns: str = "ignore",
    min_rows: int = 1,
) -> pd.DataFrame:
    """Return the batch's schema columns (plus the target if present) with the model's types."""
    rules = Rules(list(numeric), list(categorical), target, extra_columns, min_rows)
    return validate_chunks([frame], name, rules)[0]
