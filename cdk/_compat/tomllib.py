"""``tomllib`` on Python >= 3.11, its backport ``tomli`` before: every TOML read in cdk imports this.

Usage: ``from cdk._compat import tomllib`` then ``tomllib.loads(text)`` / ``tomllib.TOMLDecodeError``.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from tomllib import TOMLDecodeError, load, loads
else:  # pragma: no cover - exercised on Python 3.10 only
    from tomli import TOMLDecodeError, load, loads

__all__ = ["TOMLDecodeError", "load", "loads"]
