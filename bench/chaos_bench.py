"""kill -9 of `driftloop run` in every phase; each followed by a run that must finish in 2 min.

Seeded, so a user can rerun it: `python bench/chaos_bench.py --trials 30 --seed 18`. One
project (embedded Prefect and MLflow in its work folder, tiny model) is bootstrapped once. Each
trial drops one new labelled batch from the drifted part of the demo stream (so the run
fine-tunes, gates and may promote) and one unlabelled batch, then runs `driftloop run` and
kills it with SIGKILL at a phase chosen round-robin (a named crash point, see
driftloop/core/killpoints.py, or a seeded delay), then runs `driftloop run` again with a limit
of two minutes. After each trial it checks: every input file is in exactly one place; the
ledger agrees with the folders; no batch is processed twice; the champion alias history is a
chain that ends at the champion; the retrain slot is free. It prints one table row per trial and
writes the table to --out (markdown).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from driftloop.core.config import Config

BIN = Path(sys.executable).parent
FOLLOW_UP_LIMIT_S = 120.0
# (phase, kill spec); "{d}" is a seeded delay. Round-robin over trials.
PHASES = [
    ("reading", "attempt"),
    ("drift test", "task:detect-drift"),
    ("fine-tuning", "task:challenge+{d}"),
    ("promotion", "promote"),
    ("ledger: intent", "intent"),
    ("ledger: moved", "moved"),
    ("ledger: recorded", "recorded"),
    ("fine-tune/gate", "task:challenge+{d2}"),
    ("any (delay)", "delay:{d3}"),
    ("reading", "hashed"),
]
SETTINGS = """
[training]
hidden_units = [16]
epochs = 25
batch_size = 64
patience = 3
seed = 7

[finetune]
epochs = 15
replay_rows = 400

[drift]
retrain_cooldown = 0
retrain_on = "any"

[ingest]
max_attempts = 50

[prefect]
retrain_wait_seconds = 60.0
retrain_lease_seconds = 20.0
"""


@dataclass
class Trial:
    """One kill and its follow-up run, with what the checks found."""

    n: int
    phase: str
    spec: str
    killed_rc: int
    follow_rc: int
    follow_s: float
    lost: int
    twice: int
    ledger_ok: bool
    aliases_ok: bool
    slot_free: bool

    @property
    def wedged(self) -> bool:
        """The follow-up run did not finish in time, or found the slot held."""
        return self.follow_s >= FOLLOW_UP_LIMIT_S or not self.slot_free

    def row(self) -> str:
        """One markdown table row."""
        yes = {True: "yes", False: "NO"}
        return (
            f"| {self.n} | {self.phase} | `{self.spec}` | {self.killed_rc} | {self.follow_rc} | "
            f"{self.follow_s:.0f} | {self.lost} | {self.twice} | {yes[self.ledger_ok]} | "
            f"{yes[self.aliases_ok]} | {yes[not self.wedged]} |"
        )


HEADER = (
    "| trial | phase | kill at | killed rc | follow-up rc | follow-up s | files lost | "
    "processed twice | ledger = folders | alias chain | not wedged |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


API_URL: list[str] = []  # set with --prefect-server: every run talks to that one server


def _env(config: Path, spec: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DRIFTLOOP_"))}
    env.update(DRIFTLOOP_CONFIG=str(config), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    if API_URL:
        env["PREFECT_API_URL"] = API_URL[0]
    if spec and not spec.startswith("delay:"):
        env["DRIFTLOOP_INGEST_KILL_AT"] = spec
    return env


def _run(config: Path, spec: str, limit: float) -> tuple[int, float]:
    """One `driftloop run`: its exit code and seconds (a delay spec kills it that long in)."""
    start = time.monotonic()
    proc = subprocess.Popen(
        [str(BIN / "driftloop"), "run"],
        env=_env(config, spec),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        if spec.startswith("delay:"):
            try:
                proc.wait(float(spec.removeprefix("delay:")))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        rc = proc.wait(limit)
    except subprocess.TimeoutExpired:
        rc = -1  # wedged or too slow
    # A killed run's embedded Prefect server (its child) outlives it: end the whole group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return rc, time.monotonic() - start


def _files(cfg: Config) -> dict[str, list[Path]]:
    places: dict[str, list[Path]] = {}
    for folder in (cfg.landing_dir, cfg.processed_dir, cfg.quarantine_dir):
        for p in folder.iterdir():
            if not p.name.endswith(".reason.txt") and not p.name.startswith("."):
                places.setdefault(p.name, []).append(p)
    return places


def _check(cfg: Config, inputs: set[str]) -> tuple[int, int, bool, bool, bool]:
    """Files lost (or in two places), batches processed twice, ledger ok, aliases ok, slot free."""
    from mlflow.tracking import MlflowClient

    from driftloop.ingest import Ledger
    from driftloop.models.history import list_moves
    from driftloop.models.registry import CHAMPION, alias_version

    places = _files(cfg)
    lost = sum(len(places.get(name, [])) != 1 for name in inputs)  # by name: inputs may repeat
    entries = Ledger(cfg.ledger_url).recent(100_000)
    done = [e.sha256 for e in entries if e.status == "processed"]
    ended = sorted(str(p) for ps in places.values() for p in ps if p.parent.name != "landing")
    ledger_ok = sorted(e.destination for e in entries) == ended
    client = MlflowClient(tracking_uri=cfg.mlflow_uri)
    name = cfg.model.name
    moves = [m for m in list_moves(client, name) if m.alias == CHAMPION]
    chain = all(b.from_version == a.to_version for a, b in itertools.pairwise(moves))
    aliases_ok = (
        chain and bool(moves) and moves[-1].to_version == alias_version(client, name, CHAMPION)
    )
    return lost, len(done) - len(set(done)), ledger_ok, aliases_ok, _slot_free(cfg)


def _slot_free(cfg: Config) -> bool:
    """No retrain slot held and no holder recorded (read through this process's Prefect)."""
    from prefect.client.orchestration import get_client

    from driftloop.flows.slot_holder import read_holder
    from driftloop.flows.slots import limit_name

    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(limit_name(cfg.model.name))
        return limit.active_slots == 0 and read_holder(client, cfg.model.name) is None


def _spec(template: str, rng: random.Random) -> str:
    return template.format(
        d=f"{rng.uniform(0.2, 1.5):.2f}",
        d2=f"{rng.uniform(1.5, 4.0):.2f}",
        d3=f"{rng.uniform(15.0, 45.0):.1f}",
    )


def main() -> None:
    """Run the trials and print (and write) the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--dir", help="work folder (default: a new temporary folder)")
    ap.add_argument("--out", default="bench/chaos_results.md")
    ap.add_argument(
        "--prefect-server",
        action="store_true",
        help="one `prefect server` for all runs (default: embedded mode, a server per run)",
    )
    args = ap.parse_args()
    from driftloop.app.stream import make_stream

    root = Path(args.dir or tempfile.mkdtemp(prefix="driftloop-chaos-")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    os.environ.pop("PREFECT_API_URL", None)  # this process reads the slot from the same store
    os.environ["PREFECT_HOME"] = str(root / "work" / "prefect")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    stream = make_stream(seed=args.seed, rows=400, stable=1, shifted=4, after_concept=4)
    boot = root / "bootstrap.csv"
    stream.bootstrap.to_csv(boot, index=False)
    config = root / "driftloop.toml"
    config.write_text(
        'work_dir = "work"\n[model]\nname = "chaos"\ntarget = "label"\n[features]\n'
        'numeric = ["x1", "x2", "x3"]\ncategorical = ["c1", "c2"]\n' + SETTINGS,
        encoding="utf-8",
    )
    server = _start_server(root) if args.prefect_server else None
    try:
        _trials(args, config, boot)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _start_server(root: Path) -> subprocess.Popen[bytes]:
    """`prefect server start` on a free port; its API URL goes to every run (and this process)."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home = root / "server-home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env["PREFECT_SERVER_UI_ENABLED"] = "false"
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    API_URL.append(url)
    os.environ["PREFECT_API_URL"] = url
    return server


def _trials(args: argparse.Namespace, config: Path, boot: Path) -> None:
    """Bootstrap, then run the trials, printing and writing the table as it grows."""
    from driftloop.app.stream import make_stream
    from driftloop.core.config import load_config

    stream = make_stream(seed=args.seed, rows=400, stable=1, shifted=4, after_concept=4)
    env = _env(config)
    subprocess.run([str(BIN / "driftloop"), "bootstrap", "--data", str(boot)], env=env, check=True)
    cfg = load_config(config)
    rng = random.Random(args.seed)
    inputs: set[str] = set()
    trials: list[Trial] = []
    print(HEADER, flush=True)
    drifted = stream.batches[1:]
    for n in range(args.trials):
        frame = drifted[n % len(drifted)].frame
        start = 13 * (n // len(drifted))  # at most 39: both parts keep their rows
        for name, part in (
            (f"t{n:02d}-labelled.csv", frame.iloc[start : start + 250]),
            (
                f"t{n:02d}-unlabelled.csv",
                frame.iloc[start + 250 : start + 350].drop(columns="label"),
            ),
        ):
            part.to_csv(cfg.landing_dir / name, index=False)
            inputs.add(name)
        phase, template = PHASES[n % len(PHASES)]
        spec = _spec(template, rng)
        killed_rc, _ = _run(config, spec, 600.0)
        follow_rc, follow_s = _run(config, "", FOLLOW_UP_LIMIT_S)
        trial = Trial(n, phase, spec, killed_rc, follow_rc, follow_s, *_check(cfg, inputs))
        trials.append(trial)
        print(trial.row(), flush=True)
        _summary(trials, Path(args.out), args)  # kept up to date: a stopped bench keeps its rows
    print(Path(args.out).read_text(encoding="utf-8").splitlines()[0])


def _summary(trials: list[Trial], out: Path, args: argparse.Namespace) -> None:
    killed = sum(t.killed_rc == -signal.SIGKILL for t in trials)
    lines = [
        f"chaos bench: {len(trials)} trials, seed {args.seed}; killed by SIGKILL: {killed}; "
        f"files lost: {sum(t.lost for t in trials)}; processed twice: "
        f"{sum(t.twice for t in trials)}; ledger disagreeing: "
        f"{sum(not t.ledger_ok for t in trials)}; alias chain broken: "
        f"{sum(not t.aliases_ok for t in trials)}; wedged follow-up runs: "
        f"{sum(t.wedged for t in trials)}; follow-up runs failed: "
        f"{sum(t.follow_rc != 0 for t in trials)}",
        "",
        HEADER,
        *(t.row() for t in trials),
    ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
