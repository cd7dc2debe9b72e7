"""{{ cookiecutter.__display_name }}: a declarative connector; connector.yaml holds the sourceSpec, cdk builds the source."""

from cdk.declarative import package_source

Source = package_source(__name__)
