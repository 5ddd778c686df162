"""Whose fault: batch faults count an attempt; faults of our stores are SystemFaults."""

from __future__ import annotations

import errno
import sqlite3

import sqlalchemy as sa

from driftloop.core.errors import (
    ConfigError,
    IngestError,
    RegistryError,
    SchemaError,
    SystemFault,
    TrainingError,
)
from driftloop.core.faults import system_fault


def _raised(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as err:
            raise outer from err
    except BaseException as err:
        return err


def test_batch_faults_are_not_system_faults() -> None:
    for err in (
        SchemaError("b.csv: column x1 is missing; add it"),
        IngestError("b.csv: not a CSV"),
        TrainingError("b.csv: one class only"),
        ValueError("could not convert string to float: 'abc'"),
    ):
        assert system_fault(err) is None, err


def test_a_registry_error_is_the_system_fault_itself() -> None:
    err = RegistryError("version 1 of model 'm' has no files in the artifact store")
    assert system_fault(err) is err


def test_a_config_error_becomes_one_line() -> None:
    fault = system_fault(ConfigError("cannot open the ledger database x:\n\tIs it up?\n; check"))
    assert isinstance(fault, SystemFault)
    assert str(fault) == "cannot open the ledger database x: Is it up? ; check"


def test_a_full_disk_is_named_with_its_fix_from_the_errno_or_from_sqlite() -> None:
    for err in (
        OSError(errno.ENOSPC, "No space left on device"),
        sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full")),
    ):
        fault = system_fault(err)
        assert fault is not None
        assert str(fault).startswith("the disk under driftloop's stores is full or failing (")
        assert str(fault).endswith("free space on it (or move work_dir), then run again")


def test_a_locked_or_corrupt_database_is_found_through_the_cause_chain() -> None:
    wrapped = _raised(RuntimeError("task failed"), sqlite3.OperationalError("database is locked"))
    fault = system_fault(wrapped)
    assert fault is not None
    assert "failed: OperationalError: database is locked; check that it exists" in str(fault)
    assert system_fault(sqlite3.DatabaseError("file is not a database")) is not None


def test_a_prefect_api_that_does_not_answer_names_the_server_and_the_setting() -> None:
    fault = system_fault(RuntimeError("Failed to reach API at http://127.0.0.1:9/api/"))
    assert fault is not None
    assert "start the server (`prefect server start`) or fix [prefect] api_url" in str(fault)


def test_a_database_url_with_a_password_is_masked_in_the_fault() -> None:
    err = sa.exc.OperationalError(
        "connect", {}, Exception("could not connect to postgresql://u:pw9@h:1/x")
    )
    fault = system_fault(err)
    assert fault is not None and "pw9" not in str(fault) and "postgresql://***@h:1/x" in str(fault)
