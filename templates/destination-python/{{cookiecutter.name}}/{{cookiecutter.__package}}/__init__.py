"""{{ cookiecutter.__display_name }}: a connector built with connector-cdk."""
