"""One canonical form of the target's classes: in ingest, training, the model checks, replay,
the served signature, and for versions registered before it existed."""

from __future__ import annotations

import pandas as pd

from driftloop.core.labels import canonical_classes, canonical_labels, label_keys
from driftloop.ingest.model_checks import unknown_labels
from driftloop.ingest.validate import validate_batch
from driftloop.models.data import class_list, encode_labels
from driftloop.models.registry import _signature
from driftloop.models.replay import ReplayBuffer
from driftloop.models.serving import frame_to_inputs


def test_numbers_booleans_and_their_text_are_one_class() -> None:
    assert canonical_labels(pd.Series(["1.0", "0.0", "1"])).tolist() == [1, 0, 1]
    assert str(canonical_labels(pd.Series(["1.0", "0.0"])).dtype) == "int64"
    assert canonical_labels(pd.Series([True, False, 1.0, "0", "TRUE"])).tolist() == [1, 0, 1, 0, 1]
    assert canonical_labels(pd.Series([0.5, "1.5"])).tolist() == [0.5, 1.5]
    assert canonical_labels(pd.Series(["cat", 1, True])).tolist() == ["cat", "1", "True"]
    assert label_keys([0.0, 1.0]).tolist() == ["0", "1"]
    assert canonical_classes([True, False]) == [0, 1]
    assert canonical_classes(["b", "a", "b"]) == ["a", "b"]


def test_ingest_gives_the_same_labels_whatever_the_file_wrote() -> None:
    frame = pd.DataFrame({"x": ["1", "2", "3"], "y": ["1.0", "0.0", "1.0"]})
    out = validate_batch(frame, "f.csv", ["x"], [], "y")
    assert out["y"].tolist() == [1, 0, 1] and str(out["y"].dtype) == "int64"
    flags = validate_batch(pd.DataFrame({"x": [1.0, 2.0], "y": [True, False]}), "f", ["x"], [], "y")
    assert flags["y"].tolist() == [1, 0]
    assert class_list(out["y"]) == [0, 1]


def test_a_version_registered_with_float_classes_still_encodes_and_checks_int_labels() -> None:
    old_classes = [0.0, 1.0]  # what meta.json of an older version holds after a 1.0/0.0 CSV
    labels = pd.Series([1, 0, 1])
    assert encode_labels(labels, old_classes, "batch").tolist() == [1, 0, 1]
    assert encode_labels(pd.Series(["True", "False"]), [False, True], "batch").tolist() == [1, 0]
    frame = pd.DataFrame({"label": labels})
    assert unknown_labels(frame, "b.csv", "label", old_classes, "3") == ""


def test_classes_that_truly_differ_are_named() -> None:
    frame = pd.DataFrame({"label": ["no", "yes", "no"]})
    assert unknown_labels(frame, "b.csv", "label", [0, 1], "3") == (
        "b.csv: target 'label' holds 3 row(s) with class(es) ['no', 'yes'] that champion "
        "version 3 does not know (['0', '1']); fix the labels, or bootstrap a model on data "
        "with these classes."
    )


def test_replay_strata_of_an_older_version_merge_with_the_canonical_classes() -> None:
    stored = pd.DataFrame({"y": [0.0, 0.0, 1.0]})
    buf = ReplayBuffer.from_json(stored, '{"0.0": 2, "1.0": 1}')
    assert buf.seen == {"0": 2, "1": 1}
    grown = buf.add(pd.DataFrame({"y": [0, 1, 1]}), "y", capacity=10, seed=0, stratify=True)
    assert grown.seen == {"0": 3, "1": 3}
    assert sorted(label_keys(grown.frame["y"]).tolist()) == ["0", "0", "0", "1", "1", "1"]


def test_the_signature_lets_ints_bools_and_categoricals_through_and_types_the_labels() -> None:
    meta = {"numeric": ["n"], "categorical": ["c"], "classes": [0, 1], "task": "classification"}
    sig = _signature(meta).to_dict()
    assert sig["inputs"] == (
        '[{"type": "any", "name": "n", "required": true}, '
        '{"type": "any", "name": "c", "required": false}]'
    )
    assert '{"type": "long", "name": "prediction"' in sig["outputs"]
    assert (
        '"double", "name": "prediction"'
        in _signature({**meta, "classes": [0.5, 1.5]}).to_dict()["outputs"]
    )
    assert (
        '"string", "name": "prediction"'
        in _signature({**meta, "classes": ["a", "b"]}).to_dict()["outputs"]
    )


def test_served_inputs_take_the_frame_pandas_reads() -> None:
    meta = {"numeric": ["n", "b"], "categorical": ["c", "k"], "numeric_fill": {"n": 0, "b": 0}}
    frame = pd.DataFrame(
        {
            "n": [1, 2],
            "b": [True, False],
            "c": pd.Series(["x", "y"], dtype="category"),
            "k": [7, 8],
        }
    )
    inputs = frame_to_inputs(frame, meta)
    assert inputs["n"].ravel().tolist() == [1.0, 2.0]
    assert inputs["b"].ravel().tolist() == [1.0, 0.0]
    assert inputs["c"].ravel().tolist() == ["x", "y"]
    assert inputs["k"].ravel().tolist() == ["7", "8"]
