"""Validation suites (DESIGN §5): one module per suite, each `(project, policy) -> list[Finding]`."""
