"""Tables and plots of the stream evaluation."""

from __future__ import annotations

from pathlib import Path

from bench.stream_metrics import PolicyRun, Summary
from driftloop.app.stream import Stream

START = "<!-- stream-bench:start -->"
END = "<!-- stream-bench:end -->"
STYLE = {
    "driftloop": ("tab:red", "o-", 2.2),
    "never": ("tab:grey", "s--", 1.2),
    "finetune-every": ("tab:blue", ".-", 1.2),
    "scratch-scheduled": ("tab:green", "d-", 1.0),
    "scratch-every": ("tab:purple", "x:", 1.0),
}


def _delays(delays: list[int | None]) -> str:
    return ", ".join("missed" if d is None else str(d) for d in delays) or "-"


def table(rows: list[tuple[str, Summary]]) -> str:
    """Markdown table: one row per stream and policy."""
    head = (
        "| stream | policy | mean acc | worst acc | acc after each drift | retrains "
        "| train s | wall s | detection delay | false alarms |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for stream, s in rows:
        after = ", ".join(f"{a:.3f}" for a in s.after_drift) or "-"
        retrains = f"{s.retrains} (+{s.recalls} recalled)" if s.recalls else str(s.retrains)
        lines.append(
            f"| {stream} | {s.policy} | {s.mean:.4f} | {s.worst:.4f} | {after} | {retrains} "
            f"| {s.train_seconds:.1f} | {s.wall_seconds:.1f} | {_delays(s.delays)} "
            f"| {s.false_alarms}/{s.stable_batches} |"
        )
    return head + "\n".join(lines) + "\n"


def checks_table(rows: list[tuple[str, dict[str, bool]]]) -> str:
    """Markdown table of the must-show checks per stream."""
    names = list(rows[0][1]) if rows else []
    head = "| stream | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"
    body = "\n".join(
        f"| {stream} | " + " | ".join("PASS" if c[n] else "**FAIL**" for n in names) + " |"
        for stream, c in rows
    )
    return head + body + "\n"


def plot_stream(title: str, stream: Stream, runs: list[PolicyRun], path: Path) -> Path:
    """PNG: accuracy per batch of every policy, true drift points and retrains marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = list(range(len(stream.batches)))
    fig, ax = plt.subplots(figsize=(11.5, 4.8))
    for run in runs:
        color, fmt, width = STYLE.get(run.policy, ("black", "-", 1.0))
        ax.plot(xs, run.accuracy, fmt, color=color, lw=width, label=run.policy, ms=4)
    for x in stream.drift_points:
        ax.axvline(x, color="black", ls="--", lw=1)
    ramp = [b.index for b in stream.batches if b.phase.startswith("gradual")]
    if ramp:
        ax.axvspan(ramp[0] - 0.5, ramp[-1] + 0.5, color="orange", alpha=0.12, label="gradual")
    lanes = [r for r in runs if any(r.reacted())]
    for k, run in enumerate(lanes):
        color = STYLE.get(run.policy, ("black", "", 1.0))[0]
        y = 0.03 + 0.045 * k
        done = [x for x, r in zip(xs, run.retrained, strict=True) if r]
        rejected = [x for x, a in zip(xs, run.actions, strict=False) if a == "rejected"]
        back = [x for x, a in zip(xs, run.actions, strict=False) if a == "recalled"]
        ax.scatter(done, [y] * len(done), marker="^", color=color, s=40, zorder=3)
        if back:
            ax.scatter(back, [y] * len(back), marker="o", color=color, s=40, zorder=3)
        if rejected:
            ax.scatter(rejected, [y] * len(rejected), marker="x", color="black", s=40, zorder=4)
    ax.set_xticks(xs, [str(i) for i in xs])
    ax.set_xlabel(
        "batch (dashed: true drift points; triangles at the bottom: retrains per policy, "
        "x: challenger rejected, o: past champion recalled)",
        fontsize=8,
    )
    ax.set_ylabel("prequential accuracy (before any retrain on the batch)")
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def replace_section(readme: Path, text: str) -> None:
    """Put text between the stream-bench markers of the README (appended if they are missing)."""
    old = readme.read_text(encoding="utf-8")
    block = f"{START}\n{text.rstrip()}\n{END}"
    if START in old and END in old:
        new = old[: old.index(START)] + block + old[old.index(END) + len(END) :]
    else:
        new = old.rstrip() + "\n\n" + block + "\n"
    readme.write_text(new, encoding="utf-8")
