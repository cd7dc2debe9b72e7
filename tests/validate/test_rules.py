"""The rule registry: every rule is documented well enough for `cdk rules CODE` to teach it."""

from __future__ import annotations

import re

from cdk.validators.findings import SUITES, registry
from cdk.validators.policy import load_policy


def test_every_rule_has_code_text_and_examples() -> None:
    rules = registry()
    assert len(rules) >= 50
    letters = {
        "manifest": "M",
        "config": "C",
        "capabilities": "A",
        "dependencies": "D",
        "security": "S",
        "secrets": "K",
        "egress": "E",
        "packaging": "P",
        "fixtures": "F",
        "syntax": "Y",
        "policy": "L",
        "declarative": "R",
        "release": "V",
        "files": "I",
    }
    for code, rule in rules.items():
        assert re.fullmatch(r"[A-Z]\d{3}", code)
        assert rule.suite in SUITES and code[0] == letters[rule.suite]
        assert rule.title and rule.message and rule.hint, code
        if code not in ("Y002", "Y003"):
            assert rule.bad and rule.good, f"{code} needs a bad and a good example"


def test_waivable_rules_in_the_default_policy_exist() -> None:
    rules = registry()
    policy = load_policy(None)
    assert policy.waivable <= set(rules)
    assert {code for code, r in rules.items() if r.waivable} == policy.waivable
