"""deploy/: the compose file, the Kubernetes manifests and the Dockerfile, parsed and checked.

The services must be there, every DRIFTLOOP_ variable must name a real setting (and the set
given must make a valid config), the URLs must point at the services that serve them, auth
must be on, and no secret may be written in the repository.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftloop.core.config import Config, load_config
from driftloop.core.config_env import PREFIX, setting_names

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Set in the deploy files for a setting another branch adds ([ingest] ledger_url). When it
# lands, this test fails on purpose: drop the name from here so it is checked like the rest.
PENDING: set[str] = set()
SECRET_WORDS = ("PASSWORD", "SECRET", "AUTH_STRING")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")))


def _manifests() -> list[dict[str, Any]]:
    text = (DEPLOY / "k8s" / "driftloop.yaml").read_text(encoding="utf-8")
    return [d for d in yaml.safe_load_all(text) if d]


def _kind(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name} appears {len(found)} times"
    return found[0]


def _container(doc: dict[str, Any]) -> dict[str, Any]:
    (container,) = doc["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _sample(value: str) -> str:
    """A compose value with ${VAR...} replaced by its default, or a stand-in when it has none."""
    return INTERPOLATION.sub(
        lambda m: m.group(2) if m.group(2) and ":-" in m.group(0) else "x", value
    )


def _config_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp: Path) -> Config:
    """Load the config exactly as the container would: DRIFTLOOP_* variables, no file."""
    import os

    for var in list(os.environ):
        if var.startswith(PREFIX):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp)
    for var, value in env.items():
        if var.startswith(PREFIX) and var not in PENDING:
            monkeypatch.setenv(var, value)
    return load_config()


def test_pending_settings_are_still_pending() -> None:
    known = setting_names(Config)
    assert not PENDING & set(known), (
        f"{PENDING & set(known)} is a setting now: remove it from PENDING in this test"
    )


def test_compose_services_and_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "mlflow", "prefect-server", "mlflow-init", "worker"}
    mlflow, prefect, worker = services["mlflow"], services["prefect-server"], services["worker"]
    args = mlflow["command"]
    assert args[:2] == ["mlflow", "server"] and "--port=5000" in args
    assert "--app-name=basic-auth" in args, "MLflow basic auth must be on"
    assert mlflow["environment"]["MLFLOW_BACKEND_STORE_URI"] == (
        "postgresql://mlflow@postgres:5432/mlflow"
    )
    assert "--artifacts-destination=/mlartifacts" in args  # proxied artifacts
    assert prefect["command"][:3] == ["prefect", "server", "start"] and "4200" in prefect["command"]
    penv = prefect["environment"]
    assert penv["PREFECT_API_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://")
    assert "PREFECT_SERVER_API_AUTH_STRING" in penv, "the Prefect API auth string must be on"
    env = worker["environment"]
    assert worker["command"] == ["driftloop", "serve"]
    assert env["PREFECT_API_AUTH_STRING"] == penv["PREFECT_SERVER_API_AUTH_STRING"]
    assert {"MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"} <= set(env)
    known = setting_names(Config)
    unknown = {v for v in env if v.startswith(PREFIX) and v not in known} - PENDING
    assert not unknown, f"compose sets variables driftloop does not read: {unknown}"
    given = {k: _sample(v) for k, v in env.items()}
    given["DRIFTLOOP_FEATURES__NUMERIC"] = '["x1"]'  # what a user puts in deploy/.env
    cfg = _config_from(given, monkeypatch, tmp_path)
    assert cfg.source is None and cfg.work_dir == Path("/data/work")
    assert cfg.tracking.tracking_uri == "http://mlflow:5000"
    assert cfg.prefect.api_url == env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert cfg.prefect.monitor_cron == "*/10 * * * *" and cfg.prefect.retrain == "event"
    assert env["DRIFTLOOP_INGEST__LEDGER_URL"] == (
        "postgresql://driftloop_worker@postgres:5432/driftloop"
    )
    volumes = {v.split(":")[1] for v in worker["volumes"]}
    assert "/data" in volumes and str(cfg.work_dir).startswith("/data/")


def test_compose_keeps_secrets_out_of_the_repository() -> None:
    compose = _compose()
    for name, service in compose["services"].items():
        values = dict(service.get("environment", {}))
        values.update({f"command[{i}]": a for i, a in enumerate(service.get("command", []))})
        for key, value in values.items():
            text = str(value)
            if any(w in key for w in SECRET_WORDS) or "://driftloop:" in text:
                refs = INTERPOLATION.findall(text)
                assert refs, f"{name}.{key} holds a literal secret: {text!r}"
                for var, default in refs:
                    if any(w in var for w in SECRET_WORDS):
                        assert default.startswith("set "), f"{name}.{key}: {var} has a default"
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    for line in example.splitlines():
        var, _, value = line.partition("=")
        if any(w in var for w in SECRET_WORDS) and not line.startswith("#"):
            assert value == "", f".env.example gives {var} a value"
    ignored = (DEPLOY.parent / ".gitignore").read_text(encoding="utf-8").split()
    assert "deploy/.env" in ignored


def test_kubernetes_manifests_match_compose(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    docs = _manifests()
    assert not [d for d in docs if d["kind"] == "Secret"], "secrets are created, not committed"
    for name, port in (("postgres", 5432), ("mlflow", 5000), ("prefect-server", 4200)):
        assert _kind(docs, "Service", name)["spec"]["ports"][0]["port"] == port
    settings = _kind(docs, "ConfigMap", "driftloop-settings")["data"]
    worker = _container(_kind(docs, "Deployment", "driftloop-worker"))
    assert worker["command"] == ["driftloop", "serve"]
    assert worker["envFrom"] == [{"configMapRef": {"name": "driftloop-settings"}}]
    env = {e["name"]: e for e in worker["env"]}
    for var in ("PREFECT_API_AUTH_STRING", "MLFLOW_TRACKING_PASSWORD", "PGPASSWORD"):
        assert env[var]["valueFrom"]["secretKeyRef"]["name"] == "driftloop-secrets"
    known = setting_names(Config)
    given = set(settings) | set(env)
    unknown = {v for v in given if v.startswith(PREFIX) and v not in known} - PENDING
    assert not unknown, f"manifests set variables driftloop does not read: {unknown}"
    cfg = _config_from(settings, monkeypatch, tmp_path)
    assert cfg.tracking.tracking_uri == "http://mlflow:5000"
    assert cfg.prefect.api_url == settings["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert cfg.ledger_url == "postgresql://driftloop_worker@postgres:5432/driftloop"
    # Every secret-looking variable of every container comes from the Secret.
    for doc in docs:
        if doc["kind"] not in ("Deployment", "StatefulSet"):
            continue
        for e in _container(doc).get("env", []):
            if any(w in e["name"] for w in SECRET_WORDS):
                assert "secretKeyRef" in e.get("valueFrom", {}), f"{doc['metadata']['name']}: {e}"
    mlflow = _container(_kind(docs, "Deployment", "mlflow"))
    assert "--app-name=basic-auth" in mlflow["command"]
    prefect = _container(_kind(docs, "Deployment", "prefect-server"))
    assert "PREFECT_SERVER_API_AUTH_STRING" in {e["name"] for e in prefect["env"]}


def test_dockerfile_installs_driftloop_and_serves() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    assert lines[0].startswith("FROM python:3.11")
    assert 'RUN pip install ".${EXTRAS:+[$EXTRAS]}" && rm -rf /src' in lines
    assert 'ARG EXTRAS="server"' in lines  # mlflow server --app-name basic-auth needs it
    for package in ("driftloop", "drift", "models", "flows"):
        assert f"COPY {package} ./{package}" in lines
    assert lines[-1] == 'CMD ["driftloop", "serve"]'
    assert "USER driftloop" in lines
    assert not re.search(r"(PASSWORD|SECRET|AUTH_STRING)\s*=", text)


def test_work_pool_worker_manifest() -> None:
    text = (DEPLOY / "k8s" / "work-pool.yaml").read_text(encoding="utf-8")
    docs = [d for d in yaml.safe_load_all(text) if d]
    worker = _container(_kind(docs, "Deployment", "prefect-worker"))
    assert worker["command"][:4] == ["prefect", "worker", "start", "--pool"]
    assert worker["command"][-2:] == ["--type", "kubernetes"]
    rules = _kind(docs, "Role", "prefect-worker")["rules"]
    assert any("jobs" in r["resources"] and "create" in r["verbs"] for r in rules)
    extras = (DEPLOY.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert 'kubernetes = ["prefect-kubernetes==' in extras


CREDENTIAL_URL = re.compile(r"://[^/@\s]+:[^/@\s]+@")  # user:password@ in a URL
ADMIN_SECRETS = {"POSTGRES_PASSWORD", "MLFLOW_ADMIN_PASSWORD", "MLFLOW_SECRET_KEY"}


def _workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job")]


def _all_manifests() -> list[dict[str, Any]]:
    texts = [
        (DEPLOY / "k8s" / n).read_text(encoding="utf-8")
        for n in ("driftloop.yaml", "work-pool.yaml")
    ]
    return [d for t in texts for d in yaml.safe_load_all(t) if d]


def test_no_secret_or_credential_url_is_on_any_command_line() -> None:
    commands = {
        name: [str(a) for a in svc.get("command", [])]
        for name, svc in _compose()["services"].items()
    }
    for doc in _workloads(_all_manifests()):
        for c in doc["spec"]["template"]["spec"]["containers"]:
            commands[f"{doc['metadata']['name']}/{c['name']}"] = [
                str(a) for a in [*c.get("command", []), *c.get("args", [])]
            ]
    for name, args in commands.items():
        for arg in args:
            assert not CREDENTIAL_URL.search(arg), f"{name}: credentials in {arg!r}"
            assert "$(" not in arg and "${" not in arg, f"{name}: a variable in {arg!r}"
    for name, svc in _compose()["services"].items():  # nor in a URL in the environment
        for key, value in svc.get("environment", {}).items():
            assert not CREDENTIAL_URL.search(str(value)), f"{name}.{key} holds a password"


def test_the_worker_holds_only_its_own_least_privileged_credentials() -> None:
    services = _compose()["services"]
    for name, svc in services.items():
        secrets = {v for _, v, _ in _refs(svc.get("environment", {}))}
        if name != "postgres":
            assert "POSTGRES_PASSWORD" not in secrets, f"{name} holds the superuser's password"
        if name not in ("mlflow", "mlflow-init"):
            assert "MLFLOW_ADMIN_PASSWORD" not in secrets, f"{name} holds the MLflow admin's"
    worker = services["worker"]["environment"]
    assert {v for _, v, _ in _refs(worker)} == {
        "PREFECT_AUTH_STRING",
        "MLFLOW_WORKER_USERNAME",
        "MLFLOW_WORKER_PASSWORD",
        "WORKER_DB_PASSWORD",
        "DRIFTLOOP_MODEL__NAME",
        "DRIFTLOOP_MODEL__TARGET",
        "DRIFTLOOP_FEATURES__NUMERIC",
        "DRIFTLOOP_FEATURES__CATEGORICAL",
        "DRIFTLOOP_PREFECT__MONITOR_CRON",
        "DRIFTLOOP_PREFECT__RETRAIN",
    }
    assert worker["MLFLOW_TRACKING_USERNAME"] == "${MLFLOW_WORKER_USERNAME:-driftloop-worker}"
    assert worker["PGPASSWORD"] == "${WORKER_DB_PASSWORD:?set WORKER_DB_PASSWORD in deploy/.env}"
    k8s_worker = _container(_kind(_manifests(), "Deployment", "driftloop-worker"))
    keys = {e["valueFrom"]["secretKeyRef"]["key"] for e in k8s_worker["env"] if "valueFrom" in e}
    assert keys == {"WORKER_DB_PASSWORD", "PREFECT_AUTH_STRING", "MLFLOW_WORKER_PASSWORD"}
    settings = _kind(_manifests(), "ConfigMap", "driftloop-settings")["data"]
    assert settings["MLFLOW_TRACKING_USERNAME"] == "driftloop-worker"


def _refs(env: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(k, var, d) for k, v in env.items() for var, d in INTERPOLATION.findall(str(v))]


def test_each_service_has_its_own_database_role_created_without_a_command_line_secret() -> None:
    script = (DEPLOY / "postgres" / "init-databases.sh").read_text(encoding="utf-8")
    for var, role in (
        ("MLFLOW_DB_PASSWORD", "mlflow"),
        ("PREFECT_DB_PASSWORD", "prefect"),
        ("WORKER_DB_PASSWORD", "driftloop_worker"),
    ):
        pw = var.lower().removesuffix("_db_password") + "_pw"
        assert f"\\getenv {pw} {var}\n" in script
        assert f"CREATE ROLE {role} LOGIN PASSWORD :'{pw}';" in script
    assert "CREATE DATABASE driftloop OWNER driftloop_worker;" in script
    assert "REVOKE ALL ON DATABASE mlflow, prefect, driftloop FROM PUBLIC;" in script
    assert "<<'SQL'" in script  # quoted: the shell expands nothing into the SQL
    assert "GRANT" not in script  # the worker role gets no right on mlflow's or prefect's data
    init = _kind(_manifests(), "ConfigMap", "postgres-init")["data"]["init-databases.sh"]
    assert init == script
    user = _kind(_manifests(), "ConfigMap", "mlflow-init")["data"]["create_worker_user.py"]
    assert user == (DEPLOY / "mlflow" / "create_worker_user.py").read_text(encoding="utf-8")


def test_every_kubernetes_pod_runs_non_root_read_only_without_capabilities() -> None:
    workloads = _workloads(_all_manifests())
    assert len(workloads) == 6
    for doc in workloads:
        name, pod = doc["metadata"]["name"], doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for c in pod["containers"]:
            assert c["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            }, name
            mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{name}: a read-only root needs a writable /tmp"


def test_network_policies_let_each_pod_reach_only_what_it_needs() -> None:
    docs = _manifests()
    deny = _kind(docs, "NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}

    def sources(name: str) -> set[str]:
        (rule,) = _kind(docs, "NetworkPolicy", name)["spec"]["ingress"]
        return {f["podSelector"]["matchLabels"]["app"] for f in rule["from"]}

    assert sources("postgres") == {"mlflow", "prefect-server", "driftloop-worker"}
    assert sources("mlflow") == {"driftloop-worker", "mlflow-init", "prefect-worker"}
    assert sources("prefect-server") == {"driftloop-worker", "prefect-worker"}
    egress = _kind(docs, "NetworkPolicy", "driftloop-worker-egress")["spec"]
    assert egress["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in egress
    reach = {
        (r["to"][0]["podSelector"]["matchLabels"].get("app", "dns"), r["ports"][0]["port"])
        for r in egress["egress"]
    }
    assert reach == {("postgres", 5432), ("mlflow", 5000), ("prefect-server", 4200), ("dns", 53)}
    worker = _kind(docs, "Deployment", "driftloop-worker")["spec"]["template"]["spec"]
    assert worker["automountServiceAccountToken"] is False


def test_the_compose_worker_is_confined() -> None:
    compose = _compose()
    worker = compose["services"]["worker"]
    assert worker["read_only"] is True and worker["cap_drop"] == ["ALL"]
    assert worker["security_opt"] == ["no-new-privileges:true"] and worker["tmpfs"] == ["/tmp"]
    assert worker["networks"] == ["backend"] and compose["networks"]["backend"] == {
        "internal": True
    }
    assert compose["services"]["postgres"]["networks"] == ["backend"]  # never published
    assert worker["depends_on"]["mlflow-init"] == {"condition": "service_completed_successfully"}
