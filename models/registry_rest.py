"""The registry view of an `mlflow server`: its REST API over urllib, credentials as MLflow's.

MLflow's client sends `MLFLOW_TRACKING_TOKEN` as a Bearer token, else
`MLFLOW_TRACKING_USERNAME` / `MLFLOW_TRACKING_PASSWORD` (or the user info of the URI) as Basic
auth; `MLFLOW_TRACKING_INSECURE_TLS` and `MLFLOW_TRACKING_SERVER_CERT_PATH` set how TLS is
checked. A run artifact is read through the server's `/get-artifact`, which serves any
artifact store the server can reach.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from driftloop.core.errors import RegistryError, TrackingUnreachable
from driftloop.core.redact import redact
from driftloop.models.registry_entries import ModelEntry, VersionEntry, unreachable_message

API = "/api/2.0/mlflow/"
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
TIMEOUT_S = 120.0  # MLflow's own default (MLFLOW_HTTP_REQUEST_TIMEOUT)


def _split_userinfo(uri: str) -> tuple[str, str, str]:
    """The URI without user info, and the user name and password it held ("" when none)."""
    parts = urlsplit(uri)
    if parts.username is None:
        return uri.rstrip("/"), "", ""
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    bare = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return bare.rstrip("/"), parts.username, parts.password or ""


def auth_header(user: str = "", password: str = "") -> str | None:
    """The Authorization header MLflow's client would send, or None."""
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return f"Bearer {token}"
    user = os.environ.get("MLFLOW_TRACKING_USERNAME", user)
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD", password)
    if not user:
        return None
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _tls() -> ssl.SSLContext:
    """How the server's certificate is checked, as MLFLOW_TRACKING_* variables ask."""
    if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() in ("true", "1"):
        return ssl._create_unverified_context()
    return ssl.create_default_context(cafile=os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH"))


def _error_code(body: str) -> str:
    """The `error_code` of an MLflow error answer ("" when the body is not one)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return ""
    return str(answer.get("error_code", "")) if isinstance(answer, dict) else ""


def _pairs(items: list[dict[str, Any]], key: str, value: str) -> dict[str, str]:
    """A list of MLflow key/value objects as a dict."""
    return {str(i[key]): str(i.get(value, "")) for i in items}


class RestView:
    """`RegistryView` answers from the REST API of an MLflow tracking server."""

    def __init__(self, tracking_uri: str) -> None:
        self.uri = tracking_uri
        self.base, user, password = _split_userinfo(tracking_uri)
        self.auth = auth_header(user, password)
        timeout = os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT")
        self.timeout = float(timeout) if timeout else TIMEOUT_S

    def _get(self, route: str, params: dict[str, str]) -> bytes | None:
        """The body of a GET; None when the server says there is no such object."""
        req = urllib.request.Request(f"{self.base}{route}?{urlencode(params)}")
        if self.auth:
            req.add_header("Authorization", self.auth)
        https = self.base.startswith("https://")
        try:
            with urllib.request.urlopen(
                req, timeout=self.timeout, context=_tls() if https else None
            ) as resp:
                body: bytes = resp.read()
                return body
        except urllib.error.HTTPError as err:
            text = err.read().decode("utf-8", "replace")
            if err.code == 404 and _error_code(text) == NOT_FOUND:
                return None
            raise RegistryError(
                f"the MLflow tracking server at {redact(self.uri)} answered HTTP {err.code} to "
                f"GET {route}: {redact(text[:300])}. Check [tracking] tracking_uri in "
                "driftloop.toml and the MLFLOW_TRACKING_* credentials."
            ) from None
        except (urllib.error.URLError, OSError) as err:
            why = getattr(err, "reason", err)
            raise TrackingUnreachable(unreachable_message(self.uri, str(why))) from None

    def _api(self, endpoint: str, field: str, **params: str) -> dict[str, Any] | None:
        """One object of the REST API (`field` of the answer), None when it does not exist."""
        body = self._get(API + endpoint, params)
        if body is None:
            return None
        found: dict[str, Any] = json.loads(body)[field]
        return found

    def model(self, name: str) -> ModelEntry | None:
        """The registered model, or None when it is not registered."""
        rm = self._api("registered-models/get", "registered_model", name=name)
        if rm is None:
            return None
        aliases = _pairs(rm.get("aliases", []), "alias", "version")
        return ModelEntry(rm["name"], aliases, _pairs(rm.get("tags", []), "key", "value"))

    def version(self, name: str, version: str) -> VersionEntry | None:
        """One version of a model, or None when there is no such version."""
        mv = self._api("model-versions/get", "model_version", name=name, version=version)
        if mv is None:
            return None
        tags = _pairs(mv.get("tags", []), "key", "value")
        return VersionEntry(mv["name"], str(mv["version"]), mv.get("run_id", ""), tags)

    def run_metrics(self, run_id: str) -> dict[str, float]:
        """The latest value of each metric of a run."""
        run = self._api("runs/get", "run", run_id=run_id) or {}
        metrics = run.get("data", {}).get("metrics", [])
        return {m["key"]: float(m["value"]) for m in metrics}

    def run_artifact(self, run_id: str, path: str) -> str | None:
        """The text of one artifact file of a run, or None when the server has none there."""
        try:
            body = self._get("/get-artifact", {"path": path, "run_uuid": run_id})
        except RegistryError:
            return None  # the server answers a missing file with an error of its store
        return None if body is None else body.decode("utf-8")
