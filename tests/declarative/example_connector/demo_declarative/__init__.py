"""Declarative connector: connector.yaml holds the sourceSpec; cdk builds the source from it."""

from cdk.declarative import package_source

Source = package_source(__name__)
