"""The demo stream's covariate shift, through the pieces its batches go through.

Batch 4 of `driftloop demo` is a covariate shift (x1 moves, c1's mix changes; the labelling
rule stays). The champion's label-free estimate on it holds (realized accuracy within the
band), so it is not called a concept change: the forgetting guard runs and the promoted model
keeps its accuracy on the old distribution within `[gate] max_forgetting`. The concept
change at batch 9 is realized far below the estimate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from driftloop.app.demo import bootstrap_project
from driftloop.app.stream import TARGET, make_batch, make_stream
from driftloop.core.config import load_config
from driftloop.drift import build_profile
from driftloop.flows.options import model_options
from driftloop.models import ChallengeRequest, challenge, connect, load_champion, load_version
from driftloop.models.challenger import champion_concept
from driftloop.models.evaluate import accuracy, predicted
from driftloop.models.replay_store import add_batch
from driftloop.models.tracking import start_batch_run
from driftloop.models.version_record import read_record


def test_demo_covariate_shift_keeps_the_forgetting_guard_and_the_old_accuracy(
    tmp_path: Path,
) -> None:
    stream = make_stream(seed=0, rows=2000)
    config_path, _ = bootstrap_project(tmp_path, stream.bootstrap, "demo-model")
    cfg = load_config(config_path)
    opts = model_options(cfg)
    client = connect(opts.store)
    champion = load_champion(opts.store, client, cfg.model.name)
    assert champion.meta["reference"]["calibration"]["rows"] > 0
    for batch in stream.batches[:4]:  # the stable stretch fills the live replay buffer
        seen = predicted(champion.model, batch.frame, champion.meta, labelled=True)
        assert seen.estimate is not None and seen.score is not None
        assert seen.estimate.low <= seen.score <= seen.estimate.high
        add_batch(opts.replay, TARGET, champion, batch.frame, f"sha-{batch.name}")

    shift = stream.batches[4]
    seen = predicted(champion.model, shift.frame, champion.meta, labelled=True)
    assert seen.estimate is not None and seen.score is not None
    run_id = start_batch_run(client, opts.store.experiment, shift.name, {"batch": shift.name}, {})
    profile = build_profile(shift.frame, cfg.features.numeric, cfg.features.categorical)
    request = ChallengeRequest(shift.name, "sha-shift", run_id, "drift")
    out = challenge(champion, shift.frame, profile.to_dict(), opts, client, request, seen.errors)
    d = out.decision
    assert not out.concept_changed
    assert d.checks["forgetting"] in ("pass", "fail") and d.past_rows > 0
    lineage = read_record(
        client, client.get_model_version(cfg.model.name, out.challenger_version)
    ).lineage
    assert lineage.concept_changed is False
    assert lineage.concept_reason.startswith("no concept change (the rule holds)")
    assert d.promote and out.champion_version == "2"
    assert d.champion_past is not None and d.challenger_past is not None
    assert d.champion_past - d.challenger_past <= cfg.gate.max_forgetting + 1e-12
    # On fresh rows of the old distribution, the promoted model kept the old accuracy.
    old_rows = make_batch(np.random.default_rng(99), 4000, shifted=False, concept=0)
    v1 = load_version(opts.store, client, cfg.model.name, "1")
    v2 = load_version(opts.store, client, cfg.model.name, "2")
    before, after = accuracy(v1.model, old_rows, v1.meta), accuracy(v2.model, old_rows, v2.meta)
    assert before - after <= cfg.gate.max_forgetting

    # The concept change at batch 9, on the promoted champion: realized far below the estimate.
    change = stream.batches[9].frame
    now = load_champion(opts.store, client, cfg.model.name)
    seen = predicted(now.model, change, now.meta, labelled=True)
    assert seen.errors is not None
    verdict = champion_concept(now, change, seen.outputs, seen.errors, seen.errors, 0.05)
    assert verdict.changed and verdict.estimated is not None and verdict.low is not None
    assert verdict.realized < verdict.low - 0.3 and verdict.reason.startswith("concept change")
