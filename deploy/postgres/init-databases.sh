#!/bin/sh
# Runs once, on the first start of the postgres container (docker-entrypoint-initdb.d):
# one database for MLflow (runs, registry, and driftloop's batch ledger), one for Prefect.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE DATABASE mlflow;
CREATE DATABASE prefect;
SQL
