"""The environment layer of the config: `DRIFTLOOP_<SECTION>__<KEY>` variables override the file.

Containers are configured from the environment alone: every setting of `driftloop.toml` has
a variable, `DRIFTLOOP_` + the section + two underscores + the key, upper case (for example
`DRIFTLOOP_TRACKING__TRACKING_URI`, `DRIFTLOOP_PREFECT__MONITOR_CRON`); top-level settings
drop the section (`DRIFTLOOP_WORK_DIR`). A value starting with `[` or `{` is read as JSON
(lists and tables, for example `DRIFTLOOP_FEATURES__NUMERIC='["x1", "x2"]'`); any other value
is passed as text and converted by the same validation as the file (`"3"` to 3, `"true"` to
True). A variable naming an unknown section or key is an error, as an unknown key in the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from driftloop.core.errors import ConfigError

PREFIX = "DRIFTLOOP_"
SEPARATOR = "__"
# DRIFTLOOP_ variables that are not settings: the config file's path, test-only fault points.
NOT_SETTINGS = frozenset({"DRIFTLOOP_CONFIG"})


def env_name(section: str | None, key: str) -> str:
    """The variable that overrides one setting (section None for a top-level key)."""
    return PREFIX + (f"{section}{SEPARATOR}{key}" if section else key).upper()


def _sections(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    out = {}
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            out[name] = kind
    return out


def _top_level(model: type[BaseModel]) -> set[str]:
    excluded = {n for n, f in model.model_fields.items() if f.exclude}
    return set(model.model_fields) - set(_sections(model)) - excluded


def setting_names(model: type[BaseModel]) -> dict[str, tuple[str | None, str]]:
    """Every variable the layer reads, mapped to its (section, key)."""
    names: dict[str, tuple[str | None, str]] = {
        env_name(None, key): (None, key) for key in _top_level(model)
    }
    for section, kind in _sections(model).items():
        for key in kind.model_fields:
            names[env_name(section, key)] = (section, key)
    return names


def _value(var: str, raw: str) -> Any:
    if raw.lstrip()[:1] not in ("[", "{"):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"{var} starts with '{raw.lstrip()[:1]}' but is not valid JSON ({err}); write lists "
            'and tables as JSON, for example ["a", "b"]'
        ) from None


def env_overrides(environ: Mapping[str, str], model: type[BaseModel]) -> dict[str, Any]:
    """The settings given by `DRIFTLOOP_*` variables, as a mapping shaped like the file."""
    known = setting_names(model)
    sections = sorted(_sections(model))
    out: dict[str, Any] = {}
    for var in sorted(environ):
        if not var.startswith(PREFIX) or var in NOT_SETTINGS:
            continue
        if var not in known:
            if SEPARATOR in var:
                section = var[len(PREFIX) :].split(SEPARATOR, 1)[0].lower()
                where = (
                    f"section [{section}] has no such key"
                    if section in sections
                    else f"no section [{section}]; sections: {sections}"
                )
                raise ConfigError(
                    f"environment variable {var} names no setting ({where}); settings are "
                    "DRIFTLOOP_<SECTION>__<KEY>, for example DRIFTLOOP_TRACKING__TRACKING_URI"
                )
            continue  # DRIFTLOOP_SOMETHING without a section: not a setting (e.g. test hooks)
        where_to, key = known[var]
        value = _value(var, environ[var])
        if where_to is None:
            out[key] = value
        else:
            out.setdefault(where_to, {})[key] = value
    return out


def merge(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The file's settings with the overrides on top, section by section."""
    merged = dict(data)
    for key, value in overrides.items():
        base = merged.get(key)
        if isinstance(value, dict) and isinstance(base, dict):
            merged[key] = {**base, **value}
        else:
            merged[key] = value
    return merged
