#!/bin/sh
# Runs once, on the first start of the postgres container (docker-entrypoint-initdb.d):
# one role and one database per service, so that no service holds the superuser's password
# and the worker (which reads untrusted batch files) can reach only its own ledger:
#   mlflow            owns database mlflow   (runs, model registry)
#   prefect           owns database prefect  (flow runs, artifacts)
#   driftloop_worker  owns database driftloop (the batch ledger, tables driftloop_*), nothing else
# Passwords come from the environment (MLFLOW_DB_PASSWORD, PREFECT_DB_PASSWORD,
# WORKER_DB_PASSWORD) and are read by psql's \getenv, never put on a command line; :'var'
# quotes them as SQL literals, so any character is safe.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<'SQL'
\getenv mlflow_pw MLFLOW_DB_PASSWORD
\getenv prefect_pw PREFECT_DB_PASSWORD
\getenv worker_pw WORKER_DB_PASSWORD
CREATE ROLE mlflow LOGIN PASSWORD :'mlflow_pw';
CREATE ROLE prefect LOGIN PASSWORD :'prefect_pw';
CREATE ROLE driftloop_worker LOGIN PASSWORD :'worker_pw';
CREATE DATABASE mlflow OWNER mlflow;
CREATE DATABASE prefect OWNER prefect;
CREATE DATABASE driftloop OWNER driftloop_worker;
REVOKE ALL ON DATABASE mlflow, prefect, driftloop FROM PUBLIC;
SQL
