"""Secrets never leave: the user info and secret query values of URLs, masked in any text.

Every URL setting (tracking_uri, ledger_url, [prefect] api_url, [ingest] zone) may carry a
user name and password (`postgresql://bob:hunter2@db/x`) or a token in its query
(`?password=...`, `?token=...`). Whatever driftloop writes (messages, logs, MLflow params and
tags, Prefect artifacts and events, reports) goes through `redact`, which keeps the scheme,
host, port and path, so a message still says which store it means.
"""

from __future__ import annotations

import re

MASK = "***"
# scheme://userinfo@ : userinfo is anything up to the last "@" before the host's end.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<info>[^\s/?#'\"@]+)@")
_SECRET_QUERY = re.compile(
    r"(?P<key>[?&;](?:password|passwd|pwd|pass|token|secret|api_key|apikey|key|sig|signature|"
    r"access_token|auth)=)(?P<value>[^&#\s'\"]+)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """The text with every URL's user info and secret query values replaced by ***."""
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    return _SECRET_QUERY.sub(lambda m: f"{m['key']}{MASK}", text)


def redact_url(url: str) -> str:
    """One URL setting with its user info and secret query values masked."""
    return redact(url)
