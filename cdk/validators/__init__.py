"""Validation suites: one module per suite, each `(project, policy) -> list[Finding]`."""
