"""Which database holds the batch ledger: `[ingest] ledger_url`, else MLflow's own database."""

from __future__ import annotations

from pathlib import Path

LEDGER_BACKENDS = ("sqlite", "postgresql")


def _backend(url: str) -> str | None:
    """The database kind of a SQLAlchemy URL ("sqlite", "postgresql", ...), None if not one."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).get_backend_name()
    except ArgumentError:
        return None


def check_ledger_url(explicit: str, tracking_uri: str) -> None:
    """Raise ValueError naming the key and the fix when no usable ledger database is given."""
    if explicit:
        backend = _backend(explicit)
        if backend not in LEDGER_BACKENDS:
            raise ValueError(
                f"[ingest] ledger_url = {explicit!r} is not a sqlite:/// or postgresql:// "
                "SQLAlchemy URL; set it to one, e.g. 'postgresql://user@host:5432/mlflow' "
                "or 'sqlite:////srv/driftloop/ledger.db'."
            )
        return
    if _backend(tracking_uri) in LEDGER_BACKENDS:
        return
    raise ValueError(
        f"[ingest] ledger_url is empty and [tracking] tracking_uri = {tracking_uri!r} is not a "
        "database driftloop can write its batch ledger to (only sqlite:/// and postgresql:// "
        "tracking stores are shared). Set [ingest] ledger_url to the database behind your "
        "MLflow server (the --backend-store-uri of `mlflow server`, e.g. "
        "'postgresql://user@host:5432/mlflow') or to any sqlite:/// or postgresql:// database "
        "on persistent storage."
    )


def ledger_url_of(explicit: str, tracking_uri: str, config_file: Path | None) -> str:
    """The ledger's SQLAlchemy URL; a relative SQLite path is taken against the config's folder."""
    from sqlalchemy.engine import make_url

    url = make_url(explicit or tracking_uri)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_absolute():
            base = config_file.parent if config_file else Path.cwd()
            url = url.set(database=str((base / path).resolve()))
    return url.render_as_string(hide_password=False)
