"""The part of ``requests`` a connector may name: its exception and auth types, never its I/O.

The Python source guide writes ``except requests.exceptions.Timeout`` and ``requests.exceptions.HTTPError``;
the default policy blocks ``import requests`` (connectors make requests through ``self.session``). With
``from cdk import requests`` such code runs unchanged: ``requests.exceptions`` and ``requests.auth`` are the
real modules' types, and there is no ``requests.get``.
"""

from __future__ import annotations

from types import SimpleNamespace

import requests.auth as _auth
import requests.exceptions as _exceptions

requests = SimpleNamespace(
    exceptions=_exceptions,
    auth=SimpleNamespace(
        AuthBase=_auth.AuthBase, HTTPBasicAuth=_auth.HTTPBasicAuth, HTTPDigestAuth=_auth.HTTPDigestAuth
    ),
    RequestException=_exceptions.RequestException,
    HTTPError=_exceptions.HTTPError,
    Timeout=_exceptions.Timeout,
    ConnectionError=_exceptions.ConnectionError,
)
"""``requests``' exception and auth types under their usual names."""
