"""Multi-step work shared by the CLI, ``cdk ci``, ``cdk publish`` and (later) ``cdk serve``.

Each workflow takes plain arguments, returns a structured result (a dataclass with ``as_dict()`` for
``--format json``) and never prints; progress, where there is any, goes to an optional callback. The
commands in :mod:`cdk.cli` parse arguments, call one workflow and print its result. Modules are
imported by their full name (``from cdk.workflows.tests import run_tests``) so that ``cdk --help``
imports none of them.
"""
