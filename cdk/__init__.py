"""connector-cdk: build, validate, test and publish data connectors.

This module is the public API. Names load lazily on first use, so ``cdk --help`` and ``cdk validate``
stay fast: importing ``cdk`` costs nothing until a name is touched.

Connector code imports from here::

    from cdk import AbstractSource, SourceConfig, SourceRecord, SourceIteration
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cdk._version import __version__

_EXPORTS: dict[str, str] = {
    # SDK: what connector code uses
    "AbstractSource": "cdk.sdk.source",
    "StreamingSource": "cdk.sdk.source",
    "AbstractDestination": "cdk.sdk.source",
    "SimpleSourceAdapter": "cdk.sdk.source",
    "SourceConfig": "cdk.sdk.config",
    "DestinationConfig": "cdk.sdk.config",
    "AuthConfig": "cdk.sdk.config",
    "SyncMode": "cdk.sdk.config",
    "SourceRecord": "cdk.sdk.records",
    "SourceIteration": "cdk.sdk.records",
    "SourceIncrementalState": "cdk.sdk.records",
    "WriteResult": "cdk.sdk.records",
    "AuthBuilder": "cdk.sdk.auth",
    "AuthBase": "requests.auth",  # as the Python source guide imports it
    "requests": "cdk.sdk.requests_api",
    "ConnectorSession": "cdk.sdk.http",
    "RetryPolicy": "cdk.sdk.http",
    "OffsetPaginator": "cdk.sdk.pagination",
    "PagePaginator": "cdk.sdk.pagination",
    "CursorPaginator": "cdk.sdk.pagination",
    "NextUrlPaginator": "cdk.sdk.pagination",
    "LinkHeaderPaginator": "cdk.sdk.pagination",
    "DeclarativeSource": "cdk.declarative.engine",
    # library: what tools, tests and the service call
    "build_source_class": "cdk.declarative",
    "validate_declarative": "cdk.declarative.checks",
    "import_source_spec": "cdk.declarative.importer",
    "Manifest": "cdk.manifest",
    "load_manifest": "cdk.manifest",
    "Project": "cdk.project",
    "errors": "cdk.errors",
    # publishing
    "parse_version": "cdk.publish.versions",
    "build_project": "cdk.publish.build",
    "open_registry": "cdk.publish.registry",
    "FolderRegistry": "cdk.publish.registry",
    "HttpRegistry": "cdk.publish.registry",
    "validate_project": "cdk.validators.engine",
    "validate_code": "cdk.validators.engine",
}

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:  # pragma: no cover
    from requests.auth import AuthBase

    from cdk import errors
    from cdk.declarative import build_source_class
    from cdk.declarative.checks import validate_declarative
    from cdk.declarative.engine import DeclarativeSource
    from cdk.declarative.importer import import_source_spec
    from cdk.manifest import Manifest, load_manifest
    from cdk.project import Project
    from cdk.publish.build import build_project
    from cdk.publish.registry import FolderRegistry, HttpRegistry, open_registry
    from cdk.publish.versions import parse_version
    from cdk.sdk.auth import AuthBuilder
    from cdk.sdk.config import AuthConfig, DestinationConfig, SourceConfig, SyncMode
    from cdk.sdk.http import ConnectorSession, RetryPolicy
    from cdk.sdk.pagination import (
        CursorPaginator,
        LinkHeaderPaginator,
        NextUrlPaginator,
        OffsetPaginator,
        PagePaginator,
    )
    from cdk.sdk.records import SourceIncrementalState, SourceIteration, SourceRecord, WriteResult
    from cdk.sdk.requests_api import requests
    from cdk.sdk.source import AbstractDestination, AbstractSource, SimpleSourceAdapter, StreamingSource
    from cdk.validators.engine import validate_code, validate_project


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'cdk' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(module_name)
    value = module if name == "errors" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
