"""A small on-disk cache of JSON Schema checks.

Checking a schema against its meta-schema, or a sample config against its schema, needs jsonschema,
whose import alone costs more than the rest of a typical `cdk validate`. The answer depends only on
the two documents (and the cdk version), so it is kept under the ``cache_dir`` setting (``CDK_CACHE_DIR``,
default ``$XDG_CACHE_HOME/cdk`` or ``~/.cache/cdk``); the ``no_cache`` setting (``CDK_NO_CACHE=1``) turns
the cache off.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cdk._version import __version__


def cache_dir() -> Path | None:
    from cdk.settings import Settings

    settings = Settings()
    if settings.get("no_cache"):
        return None
    return Path(settings.get("cache_dir")) / "validate"


def cached(kind: str, payload: str, compute: Callable[[], Any]) -> Any:
    """``compute()``'s JSON-able answer for ``payload``, from the cache when it was computed before."""
    folder = cache_dir()
    if folder is None:
        return compute()
    key = hashlib.sha256(f"{__version__}\0{kind}\0{payload}".encode()).hexdigest()
    path = folder / key[:2] / f"{key}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    value = compute()
    try:
        from cdk.fsutil import atomic_write_text

        atomic_write_text(path, json.dumps(value))
    except OSError:
        pass  # a read-only home must not fail validation
    return value
