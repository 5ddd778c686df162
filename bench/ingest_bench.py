"""A large CSV in bounded memory: the ingest scan alone, and the whole `driftloop run`.

Usage (writes the file under /tmp once, then measures in fresh processes):

    .venv/bin/python bench/ingest_bench.py --size-gb 2            # the ingest scan alone
    .venv/bin/python bench/ingest_bench.py --size-gb 2 --flow     # the whole `driftloop run`

The scan: SHA-256 + UTF-8 check of the bytes (`Zone.fingerprint`), the pyarrow block reader
(`iter_chunks`), pandera validation of every block (`BatchChecker(keep=False)`), and the
statistics the drift tests need (null counts, category counts, a uniform reservoir sample).

`--flow`: a project under /tmp/driftloop-bench/project is bootstrapped on a small file whose
x1 is shifted (so the big batch drifts and the champion is fine-tuned), the big file is
hard-linked into landing/, and `driftloop run --json` runs under `/usr/bin/time -v` while
/proc is polled for the whole process tree (driftloop plus Prefect's embedded server). It
reports the peak RSS of the driftloop process and of the tree, against the file size.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
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


def _frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    """Rows of the demo schema; the label follows x1 + x2 with 10% noise."""
    x1, x2 = rng.normal(shift, 1, n), rng.normal(0, 1, n)
    label = ((x1 + x2 > shift) ^ (rng.random(n) < 0.1)).astype(np.int64)
    return pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "x3": rng.uniform(-2, 2, n),
            "c1": rng.choice(["a", "b", "c", "d"], n),
            "c2": rng.choice(["low", "mid", "high"], n),
            "label": label,
        }
    )


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
            frame = _frame(rng, 1_000_000)
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


FLOW_CONFIG = """work_dir = "work"
[model]
name = "bench-model"
target = "label"
[features]
numeric = ["x1", "x2", "x3"]
categorical = ["c1", "c2"]
[ingest]
block_mib = {block_mib}
{sample_line}
[training]
hidden_units = [16]
epochs = 10
[finetune]
epochs = 5
"""


def _tree_rss(root: int) -> int:
    """Sum of VmRSS over a process and all its descendants (bytes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def run_flow(big: Path, root: Path, sample_rows: int, block_mib: int) -> dict[str, object]:
    """Bootstrap a project, drop the big file into landing/, time `driftloop run` and its RSS."""
    bin_dir = Path(sys.executable).parent
    shutil.rmtree(root, ignore_errors=True)
    (root / "work" / "landing").mkdir(parents=True)
    config = root / "driftloop.toml"
    line = f"sample_rows = {sample_rows}" if sample_rows > 0 else ""  # 0: a release without it
    config.write_text(FLOW_CONFIG.format(block_mib=block_mib, sample_line=line))
    boot = root / "bootstrap.csv"
    _frame(np.random.default_rng(1), 20_000, shift=-0.7).to_csv(boot, index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_"))}
    env.pop("DRIFTLOOP_CONFIG", None)
    cli = [str(bin_dir / "driftloop"), "--config", str(config)]
    subprocess.run([*cli[:1], "bootstrap", *cli[1:], "--data", str(boot)], check=True, env=env)
    os.link(big, root / "work" / "landing" / big.name)
    cmd = ["/usr/bin/time", "-v", *cli[:1], "run", *cli[1:], "--json"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    peak = [0]

    def poll() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.2)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    poller.join()
    if proc.returncode != 0:
        raise SystemExit(f"driftloop run exited {proc.returncode}:\n{err[-4000:]}")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    record = json.loads(out.splitlines()[-1])
    return {
        "file_bytes": big.stat().st_size,
        "wall_s": wall,
        "driftloop_peak_rss": int(found.group(1)) * 1024 if found else -1,
        "tree_peak_rss": peak[0],
        "record": {k: record.get(k) for k in ("status", "rows", "drift", "action", "reason")},
    }


def _report_flow(got: dict[str, object]) -> None:
    size = float(got["file_bytes"])  # type: ignore[arg-type]
    mib = 1 << 20
    print(f"file               {size / 1e9:.2f} GB")
    print(f"driftloop run      {float(got['wall_s']):.0f} s")  # type: ignore[arg-type]
    for key, label in (("driftloop_peak_rss", "process"), ("tree_peak_rss", "process tree")):
        rss = float(got[key])  # type: ignore[arg-type]
        print(f"peak RSS, {label:<12} {rss / mib:.0f} MiB ({rss / size:.1%} of the file)")
    print(f"record             {json.dumps(got['record'])}")


def main() -> None:
    """Generate the file if needed, then measure in a fresh process and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-gb", type=float, default=2.0)
    ap.add_argument("--path", default="/tmp/driftloop-bench/big.csv")
    ap.add_argument("--sample-rows", type=int, default=50_000)
    ap.add_argument("--block-mib", type=int, default=16)
    ap.add_argument("--measure", action="store_true", help="(internal) measure only")
    ap.add_argument("--flow", action="store_true", help="measure the whole `driftloop run`")
    ap.add_argument(
        "--flow-sample-rows", type=int, default=100_000, help="0: leave the key out (old code)"
    )
    ap.add_argument("--project", default="/tmp/driftloop-bench/project")
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
    if args.flow:
        got = run_flow(path, Path(args.project), args.flow_sample_rows, args.block_mib)
        _report_flow(got)
        return
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
