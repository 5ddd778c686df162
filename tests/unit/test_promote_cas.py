"""Promotion is a compare-and-set on the champion alias, on a real (SQLite) MLflow registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from driftloop.core.errors import ChampionMoved
from driftloop.models.history import list_moves
from driftloop.models.registry import CHAMPION, PREVIOUS, alias_version, promote


def test_promotion_refused_when_the_champion_moved(tmp_path: Path) -> None:
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    name = "cas-model"
    client.create_registered_model(name)
    for _ in range(3):
        client.create_model_version(name, source=(tmp_path / "model").as_uri())
    assert promote(client, name, "1") is None
    assert promote(client, name, "2", expected="1") == "1"
    # Version 3 was made from version 1, but 2 became champion meanwhile: nothing moves.
    with pytest.raises(ChampionMoved, match=r"moved from version 1 to 2 while version 3"):
        promote(client, name, "3", trigger="drift:b.csv", expected="1")
    assert (alias_version(client, name, CHAMPION), alias_version(client, name, PREVIOUS)) == (
        "2",
        "1",
    )
    champion_moves = [(m.from_version, m.to_version) for m in list_moves(client, name)]
    assert (None, "1") in champion_moves and ("1", "2") in champion_moves
    assert all(m.to_version != "3" for m in list_moves(client, name))
