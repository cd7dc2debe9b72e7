"""The validation policy and its layering.

Three layers, weakest last:

1. the default policy shipped as data (``default_policy.toml`` next to this module);
2. an organisation's policy file (``--policy FILE`` or ``CDK_POLICY``): ``replace = true`` replaces the
   default, otherwise its tables are merged over it (a list replaces the list); its
   ``[dependencies.allowed]`` replaces the shipped allowlist, ``[dependencies.also_allowed]`` extends it;
3. the connector's ``[tool.cdk.validate]``: it may only *tighten* (a stricter profile, more blocked
   imports, narrower dependency ranges, warnings as errors) or *waive* rules the policy marks waivable.
   Anything else there is itself reported (rule L002/L003) and ignored.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cdk.errors import UsageError
from cdk.mappings import deep_merge

DEFAULT_POLICY_FILE = Path(__file__).with_name("default_policy.toml")
PROFILES = ("strict", "standard")
_PROFILE_RANK = {"standard": 0, "strict": 1}


def _read_toml(path: Path) -> dict[str, Any]:
    if path == DEFAULT_POLICY_FILE:  # parsed once per process (the allowlist made it the largest file read)
        return copy.deepcopy(_default_policy_data())
    return _parse_toml(path)


@lru_cache(maxsize=1)
def _default_policy_data() -> dict[str, Any]:
    return _parse_toml(DEFAULT_POLICY_FILE)


def _parse_toml(path: Path) -> dict[str, Any]:
    from cdk._compat import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"policy file not found: {path}", hint="pass an existing file to --policy or CDK_POLICY"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"policy file {path} is not valid TOML: {exc}") from None


@dataclass
class SecurityProfile:
    """What the security suite blocks under one profile."""

    name: str
    blocked_imports: dict[str, str]  # module -> rule code
    allowed_imports: set[str]
    blocked_builtins: set[str]
    blocked_calls: dict[str, str]  # dotted name -> rule code
    # the allowlist: module -> "*" (every public attribute the reachability table lets through) or the
    # attribute names allowed on it
    modules: dict[str, str | list[str]] = field(default_factory=dict)
    # added to the allowlist for the connector's tests (tests/, conftest.py): pytest, reading fixtures
    test_modules: dict[str, str | list[str]] = field(default_factory=dict)

    def allowed_module(self, module: str) -> bool:
        return module in self.modules

    def module_prefix(self, dotted: str) -> tuple[str | None, list[str]]:
        """The longest allowed module that ``dotted`` starts with, and the attribute names after it."""
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            head = ".".join(parts[:i])
            if head in self.modules:
                return head, parts[i:]
        return None, parts

    def category_rule(self, module: str) -> str:
        """The rule a refused import of ``module`` is reported under (its blocklist category, else S001)."""
        parts = module.split(".")
        for i in range(len(parts), 0, -1):
            rule = self.blocked_imports.get(".".join(parts[:i]))
            if rule:
                return rule
        return "S001"

    def import_rule(self, module: str) -> str | None:
        """The rule an import of ``module`` breaks, or None. ``a.b.c`` is blocked when ``a`` or ``a.b`` is."""
        if module in self.allowed_imports or any(module.startswith(a + ".") for a in self.allowed_imports):
            return None
        parts = module.split(".")
        for i in range(len(parts), 0, -1):
            rule = self.blocked_imports.get(".".join(parts[:i]))
            if rule:
                return rule
        return None


@dataclass
class Policy:
    """The effective policy for one validation run."""

    data: dict[str, Any]
    profile: str = "strict"
    source: str = "default"
    waived: dict[str, str] = field(default_factory=dict)  # rule -> reason (from [tool.cdk.validate])
    extra_blocked: list[str] = field(default_factory=list)
    strict: bool = False
    tightened_dependencies: dict[str, str] = field(default_factory=dict)

    # --- reading the data ----------------------------------------------------------------------
    @property
    def waivable(self) -> set[str]:
        """Rules a connector may waive: the policy's list, less the rules that can never be waived
        (each re-opens an escape; an organisation can still turn them off with [severity])."""
        from cdk.validators.security import NEVER_WAIVABLE

        return {str(r).upper() for r in self.data.get("waivable", [])} - NEVER_WAIVABLE

    def severity_of(self, rule: str, default: str) -> str:
        """``error``, ``warning`` or ``off`` for ``rule`` after the policy's overrides."""
        return str((self.data.get("severity") or {}).get(rule, default))

    def security(self) -> SecurityProfile:
        profiles = self.data.get("profiles") or {}
        if self.profile not in profiles:
            raise UsageError(
                f"policy {self.source} has no profile '{self.profile}' (it has {sorted(profiles)})"
            )
        raw = self._resolved_profile(self.profile, profiles)
        blocked: dict[str, str] = {}
        for rule, modules in (raw.get("blocked_imports") or {}).items():
            for module in modules:
                blocked[module] = rule
        for module in raw.get("unblock", []):
            blocked.pop(module, None)
        for module in self.extra_blocked:
            blocked.setdefault(module, "S001")
        allow: dict[str, str | list[str]] = {}
        for name, attrs in (raw.get("modules") or {}).items():
            allow[str(name)] = attrs if attrs == "*" else [str(a) for a in attrs]
        for name in [*raw.get("allowed_imports", []), *raw.get("unblock", [])]:
            allow.setdefault(str(name), "*")
        for name in self.extra_blocked:
            for known in list(allow):
                if known == name or known.startswith(name + "."):
                    del allow[known]
        return SecurityProfile(
            name=self.profile,
            blocked_imports=blocked,
            allowed_imports=set(raw.get("allowed_imports", [])),
            blocked_builtins=set(raw.get("blocked_builtins", [])),
            blocked_calls=_calls(raw.get("blocked_calls")),
            modules=allow,
            test_modules={
                str(k): (v if v == "*" else [str(a) for a in v])
                for k, v in (raw.get("test_modules") or {}).items()
            },
        )

    def _resolved_profile(self, name: str, profiles: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        raw = dict(profiles[name])
        parent = raw.pop("extends", None)
        if parent and depth < 5:
            base = self._resolved_profile(parent, profiles, depth + 1)
            unblock = raw.get("unblock", [])
            raw = deep_merge(base, raw)
            raw["unblock"] = list(base.get("unblock", [])) + list(unblock)
        return raw

    @property
    def allowed_dependencies(self) -> dict[str, str]:
        """Canonical (PEP 503) name -> allowed specifier set, with the connector's tightenings applied."""
        from packaging.utils import canonicalize_name

        deps = (self.data.get("dependencies") or {}).get("allowed") or {}
        out: dict[str, str] = {canonicalize_name(k): str(v) for k, v in deps.items()}
        for name, spec in self.tightened_dependencies.items():
            out[canonicalize_name(name)] = spec
        return out

    @property
    def unlisted_lock_packages(self) -> str:
        return str((self.data.get("dependencies") or {}).get("unlisted_lock_packages", "warning"))


def _calls(raw: Any) -> dict[str, str]:
    """``blocked_calls`` as a list (file-system calls, S004) or a table rule -> [dotted names]."""
    if isinstance(raw, list):
        return {str(name): "S004" for name in raw}
    return {str(name): str(rule) for rule, names in (raw or {}).items() for name in names}


def load_policy_data() -> dict[str, Any]:
    """The shipped default policy, as data."""
    return _read_toml(DEFAULT_POLICY_FILE)


def load_policy(file: str | Path | None = None, *, profile: str | None = None) -> Policy:
    """Default policy, overridden by ``file`` (or the ``policy`` setting: CDK_POLICY, user config);
    ``profile`` picks strict or standard."""
    data = _read_toml(DEFAULT_POLICY_FILE)
    source = "default"
    if not file:
        from cdk.settings import Settings

        file = Settings().get("policy") or None
    if file:
        org = _read_toml(Path(file))
        data = copy.deepcopy(org) if org.pop("replace", False) else deep_merge(data, org)
        org_deps = org.get("dependencies") or {}
        if "allowed" in org_deps:  # an organisation's allowlist replaces the shipped one ...
            data["dependencies"]["allowed"] = copy.deepcopy(org_deps["allowed"])
        if "also_allowed" in org_deps:  # ... while also_allowed extends whichever list is in force
            data["dependencies"].setdefault("allowed", {}).update(org_deps["also_allowed"])
        source = str(file)
    chosen = profile or str(data.get("profile", "strict"))
    if chosen not in (data.get("profiles") or {}):
        raise UsageError(
            f"unknown profile '{chosen}' (the policy defines {sorted(data.get('profiles') or {})})"
        )
    return Policy(data=data, profile=chosen, source=source)


def apply_connector_settings(
    policy: Policy, settings: dict[str, Any]
) -> tuple[Policy, list[tuple[str, str, str]]]:
    """Layer a connector's ``[tool.cdk.validate]`` over ``policy``; only tightening and waivers count.

    Returns the effective policy and the refused settings as ``(rule, key, message)`` tuples.
    """
    refused: list[tuple[str, str, str]] = []
    if not settings:
        return policy, refused
    eff = copy.copy(policy)
    eff.waived = dict(policy.waived)
    eff.extra_blocked = list(policy.extra_blocked)
    eff.tightened_dependencies = dict(policy.tightened_dependencies)
    wanted = settings.get("profile")
    if wanted is not None:
        if wanted not in _PROFILE_RANK:
            refused.append(
                (
                    "L003",
                    "profile",
                    f"unknown profile '{wanted}' in [tool.cdk.validate] (use strict or standard)",
                )
            )
        elif _PROFILE_RANK[wanted] < _PROFILE_RANK.get(policy.profile, 1):
            refused.append(
                (
                    "L002",
                    "profile",
                    f"[tool.cdk.validate] profile '{wanted}' would loosen the policy's '{policy.profile}'; ignored",
                )
            )
        else:
            eff.profile = wanted
    if settings.get("strict"):
        eff.strict = True
    for module in settings.get("block_imports", []) or []:
        eff.extra_blocked.append(str(module))
    waive = settings.get("waive") or {}
    if isinstance(waive, list):
        waive = {str(r): "" for r in waive}
    from cdk.validators.findings import registry

    known = registry()
    for rule, reason in waive.items():
        code = str(rule).upper()
        if code not in known:
            refused.append(("L003", "waive", f"[tool.cdk.validate] waives unknown rule {code}"))
        elif code not in policy.waivable:
            from cdk.validators.security import NEVER_WAIVABLE

            why = (
                "it can never be waived" if code in NEVER_WAIVABLE else "the policy does not mark it waivable"
            )
            refused.append(("L002", "waive", f"[tool.cdk.validate] cannot waive {code}: {why}"))
        else:
            eff.waived[code] = str(reason)
    deps = settings.get("dependencies") or {}
    if deps:
        from packaging.utils import canonicalize_name

        from cdk.validators.specifiers import contained

        allowed = policy.allowed_dependencies
        for name, spec in deps.items():
            canon = canonicalize_name(str(name))
            if canon not in allowed:
                refused.append(
                    (
                        "L002",
                        "dependencies",
                        f"[tool.cdk.validate] cannot allow '{name}': it is not on the policy's allowlist",
                    )
                )
                continue
            result = contained(str(spec), allowed[canon])
            if result.ok:
                eff.tightened_dependencies[canon] = str(spec)
            else:
                refused.append(
                    (
                        "L002",
                        "dependencies",
                        f"[tool.cdk.validate] range '{spec}' for {name} is wider than the policy's '{allowed[canon]}'; ignored",
                    )
                )
    for key in settings:
        if key not in ("profile", "strict", "block_imports", "waive", "dependencies"):
            refused.append(("L003", str(key), f"unknown setting '{key}' in [tool.cdk.validate]"))
    return eff, refused
