"""Every path and store setting checked at start: a user mistake is one line, not a traceback.

`check_paths` runs before any verb touches a store: work_dir must be (or be creatable as) a
folder driftloop can write, and each SQLite database named by the config (the MLflow tracking
store, the ledger) must be a readable database file if it exists. The embedded tracking
database missing while its artifact store is still there means the database was removed: that
is a fault of the store (SystemFault), not a fresh start, so nothing recreates it silently.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from driftloop.core.config import Config, check_work_dir
from driftloop.core.errors import ConfigError, SystemFault


def sqlite_path(url: str) -> Path | None:
    """The file of a sqlite:/// URL, None for any other URL or an in-memory database."""
    if not url.startswith("sqlite:///"):
        return None
    name = url.removeprefix("sqlite:///").split("?", 1)[0]
    return None if name in ("", ":memory:") else Path(name)


def check_sqlite(path: Path, what: str, key: str) -> None:
    """Raise SystemFault when an existing SQLite file cannot be read as a database."""
    if path.is_dir():
        raise ConfigError(f"{key}: {what} {path} is a folder, not a database file; fix {key}.")
    if not path.exists():
        return
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            con.close()
    except sqlite3.Error as err:
        raise SystemFault(
            f"the {what} {path} cannot be read ({type(err).__name__}: {err}); restore it from "
            f"a backup (or fix its permissions), or point {key} elsewhere; nothing was changed."
        ) from None


def check_stores(cfg: Config) -> None:
    """Check the work folder and every SQLite store the config names, before any is opened."""
    check_work_dir(cfg)
    tracking = sqlite_path(cfg.mlflow_uri)
    if tracking is not None:
        check_sqlite(tracking, "MLflow tracking database", "[tracking] tracking_uri")
        artifacts = cfg.work_dir / "mlartifacts"
        if not cfg.tracking.tracking_uri and not tracking.exists() and artifacts.is_dir():
            raise SystemFault(
                f"the MLflow tracking database {tracking} is missing but its artifact store "
                f"{artifacts} is still there: the database was removed or moved. Restore it "
                "(or set [tracking] tracking_uri to where it is now; to start afresh on purpose "
                "remove the artifact store too); nothing was changed."
            )
    ledger = sqlite_path(cfg.ledger_url)
    if ledger is not None and ledger != tracking:
        check_sqlite(ledger, "ledger database", "[ingest] ledger_url")
