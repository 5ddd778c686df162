"""Ingest of a large CSV in bounded memory: hash, read, validate and summarise chunk by chunk.

Usage (writes the file under /tmp once, then measures in a fresh process):

    .venv/bin/python bench/ingest_bench.py --size-gb 2

What is measured is the streaming part of ingest: SHA-256 + UTF-8 check of the bytes
(`Zone.fingerprint`), the pyarrow block reader (`iter_chunks`), pandera validation of every
block (`BatchChecker(keep=False)`), and the statistics the drift tests need (per-column
null counts, category counts, and a uniform reservoir sample of rows for the KS tests).
It does NOT run `process_batch`: the Keras model and fine-tuning take the whole frame in
memory, so the full flow still loads an accepted batch completely (see bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def generate(path: Path, size: int, seed: int = 0) -> None:
    """Write a CSV of the demo schema of at least `size` bytes, in 1M-row pieces."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    with pacsv.CSVWriter(
        str(tmp),
        pa.schema([(c, pa.float64()) for c in ["x1", "x2", "x3"]])
        .append(pa.field("c1", pa.string()))
        .append(pa.field("c2", pa.string()))
        .append(pa.field("label", pa.int64())),
    ) as writer:
        while tmp.stat().st_size < size:
            n = 1_000_000
            frame = pd.DataFrame(
                {
                    "x1": rng.normal(0, 1, n),
                    "x2": rng.normal(0, 1, n),
                    "x3": rng.uniform(-2, 2, n),
                    "c1": rng.choice(["a", "b", "c", "d"], n),
                    "c2": rng.choice(["low", "mid", "high"], n),
                    "label": rng.integers(0, 2, n),
                }
            )
            writer.write_table(pa.Table.from_pandas(frame, preserve_index=False))
    os.replace(tmp, path)


def measure(path: Path, sample_rows: int, block_mib: int) -> dict[str, float]:
    """Stream the file through fingerprint, read, validation and drift statistics."""
    from driftloop.ingest.read import iter_chunks
    from driftloop.ingest.schema import Rules
    from driftloop.ingest.validate import BatchChecker
    from driftloop.ingest.zone import Zone

    base = _rss("VmRSS")
    zone = Zone(str(path.parent))
    t0 = time.perf_counter()
    fp = zone.fingerprint(str(path), text=True)
    t_hash = time.perf_counter() - t0
    rules = Rules(["x1", "x2", "x3"], ["c1", "c2"], "label", min_rows=20)
    checker = BatchChecker(path.name, rules, keep=False)
    rng = np.random.default_rng(0)
    sample: pd.DataFrame | None = None
    counts: dict[str, pd.Series] = {}
    for chunk in iter_chunks(
        path.name, "csv", lambda: zone.open(str(path)), fp, block_mib, rules.numeric
    ):
        valid = checker.feed(chunk)
        if valid is None:
            continue
        for col in rules.categorical:
            vc = valid[col].value_counts(dropna=False)
            counts[col] = vc if col not in counts else counts[col].add(vc, fill_value=0)
        keyed = valid.assign(_key=rng.random(len(valid)))  # reservoir: keep the smallest keys
        pool = keyed if sample is None else pd.concat([sample, keyed], ignore_index=True)
        sample = pool.nsmallest(sample_rows, "_key")
    checker.finish()
    total = time.perf_counter() - t0
    return {
        "file_bytes": float(fp.size),
        "rows": float(checker.rows),
        "hash_s": t_hash,
        "total_s": total,
        "rss_after_imports": float(base),
        "peak_rss": float(_rss("VmHWM")),
        "sample_rows": float(0 if sample is None else len(sample)),
    }


def main() -> None:
    """Generate the file if needed, then measure in a fresh process and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-gb", type=float, default=2.0)
    ap.add_argument("--path", default="/tmp/driftloop-bench/big.csv")
    ap.add_argument("--sample-rows", type=int, default=50_000)
    ap.add_argument("--block-mib", type=int, default=16)
    ap.add_argument("--measure", action="store_true", help="(internal) measure only")
    args = ap.parse_args()
    path = Path(args.path)
    if args.measure:
        for k, v in measure(path, args.sample_rows, args.block_mib).items():
            print(f"{k}={v:.0f}" if v > 100 else f"{k}={v:.2f}")
        return
    size = int(args.size_gb * 1e9)
    if not path.is_file() or path.stat().st_size < size:
        t0 = time.perf_counter()
        generate(path, size)
        print(
            f"generated {path} ({path.stat().st_size / 1e9:.2f} GB) in "
            f"{time.perf_counter() - t0:.0f} s"
        )
    cmd = [
        sys.executable,
        __file__,
        "--measure",
        "--path",
        str(path),
        "--sample-rows",
        str(args.sample_rows),
        "--block-mib",
        str(args.block_mib),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    got = dict(line.split("=", 1) for line in out.split())
    gib = 1 << 20
    print(f"file           {float(got['file_bytes']) / 1e9:.2f} GB, {float(got['rows']):.0f} rows")
    print(f"hash + UTF-8   {float(got['hash_s']):.1f} s")
    print(f"whole scan     {float(got['total_s']):.1f} s")
    print(f"RSS after imports {float(got['rss_after_imports']) / gib:.0f} MiB")
    print(
        f"peak RSS          {float(got['peak_rss']) / gib:.0f} MiB "
        f"({float(got['peak_rss']) / float(got['file_bytes']):.1%} of the file)"
    )


if __name__ == "__main__":
    main()
