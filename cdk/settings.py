"""The settings of cdk: each declared once, each value found by one precedence.

A setting's effective value is the first of

1. a command-line flag (the CLI passes the flags it was given),
2. its ``CDK_*`` environment variable,
3. the connector's ``pyproject.toml`` ``[tool.cdk]`` table (only settings that belong to a connector;
   credentials, the organisation policy and machine paths do not),
4. the user config file ``$XDG_CONFIG_HOME/cdk/config.toml`` (default ``~/.config/cdk/config.toml``),
5. the default.

:data:`SETTINGS` is the one declaration (name, environment variable, key, type, default, doc); the table in
``docs/settings.md`` documents the same list and a test keeps the two in agreement. A bad value (a
non-boolean for a flag, a value outside a choice, an unreadable or invalid TOML file) is a
:class:`~cdk.errors.UsageError` naming where it came from (``file:line`` or the variable). Secret
settings are masked whenever a value is shown.

This module imports only the standard library (and the TOML reader), so every command may use it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cdk.errors import UsageError

Kind = Literal["str", "path", "bool", "choice"]
Source = Literal["flag", "env", "pyproject", "user-config", "default"]
SOURCES: tuple[Source, ...] = ("flag", "env", "pyproject", "user-config", "default")

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})
MASK = "********"


def _env_home(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def _default_home(env: Mapping[str, str]) -> str:
    return str(_env_home(env) / ".cdk")


def _default_cache_dir(env: Mapping[str, str]) -> str:
    xdg = env.get("XDG_CACHE_HOME") or str(_env_home(env) / ".cache")
    return str(Path(xdg) / "cdk")


@dataclass(frozen=True)
class Setting:
    """One setting: ``name`` is also its key in ``[tool.cdk]`` and in the user config file."""

    name: str
    env: str
    kind: Kind
    doc: str
    default: Any = None
    default_factory: Callable[[Mapping[str, str]], Any] | None = None
    default_doc: str | None = None  # how the default reads in the docs, when it is computed
    choices: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # the command-line flags that set it
    secret: bool = False  # masked whenever shown
    in_project: bool = True  # may a connector's [tool.cdk] set it?

    def default_for(self, env: Mapping[str, str]) -> Any:
        return self.default_factory(env) if self.default_factory else self.default

    def documented_default(self) -> str:
        if self.default_doc is not None:
            return self.default_doc
        if self.default is None:
            return "(none)"
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return str(self.default)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "connector",
        "CDK_CONNECTOR",
        "path",
        "The connector folder (or its connector.yaml) commands work on.",
        default=".",
        flags=("--connector", "-C"),
        in_project=False,
    ),
    Setting(
        "debug",
        "CDK_DEBUG",
        "bool",
        "Show a traceback for failures.",
        default=False,
        flags=("--debug",),
    ),
    Setting(
        "home",
        "CDK_HOME",
        "path",
        "Where cdk keeps its data; the default registry is the folder HOME/registry.",
        default_factory=_default_home,
        default_doc="~/.cdk",
        in_project=False,
    ),
    Setting(
        "registry_url",
        "CDK_REGISTRY_URL",
        "str",
        "The registry: a URL, a ~/.pypirc section name, or a folder (none: the folder registry under home).",
        flags=("--repository", "-r"),
    ),
    Setting(
        "registry_index_url",
        "CDK_REGISTRY_INDEX_URL",
        "str",
        "The registry's simple index, when it is not REGISTRY_URL/simple/.",
        flags=("--index-url",),
    ),
    Setting(
        "registry_username",
        "CDK_REGISTRY_USERNAME",
        "str",
        "The registry user name (else the matching ~/.pypirc section).",
        flags=("--username", "-u"),
        in_project=False,
    ),
    Setting(
        "registry_password",
        "CDK_REGISTRY_PASSWORD",
        "str",
        "The registry password or token (else the matching ~/.pypirc section); never printed.",
        flags=("--password",),
        secret=True,
        in_project=False,
    ),
    Setting(
        "policy",
        "CDK_POLICY",
        "path",
        "The organisation's validation policy file (TOML), layered over the policy shipped with cdk.",
        flags=("--policy",),
        in_project=False,
    ),
    Setting(
        "build_isolation",
        "CDK_BUILD_ISOLATION",
        "choice",
        "Build isolation: auto (isolated when the package index answers), isolated, or none.",
        default="auto",
        choices=("auto", "isolated", "none"),
        flags=("--isolation",),
    ),
    Setting(
        "cache_dir",
        "CDK_CACHE_DIR",
        "path",
        "Where `cdk validate` caches schema checks.",
        default_factory=_default_cache_dir,
        default_doc="$XDG_CACHE_HOME/cdk or ~/.cache/cdk",
        in_project=False,
    ),
    Setting(
        "no_cache",
        "CDK_NO_CACHE",
        "bool",
        "Turn the validation cache off.",
        default=False,
    ),
    Setting(
        "demo_api_key",
        "CDK_DEMO_API_KEY",
        "str",
        "The API key `cdk demo-api` requires (none: no key needed).",
        flags=("--api-key",),
        secret=True,
        in_project=False,
    ),
    Setting(
        "serve_host",
        "CDK_SERVE_HOST",
        "str",
        "The address `cdk serve` listens on.",
        default="127.0.0.1",
        flags=("--host",),
        in_project=False,
    ),
    Setting(
        "serve_port",
        "CDK_SERVE_PORT",
        "str",
        "The TCP port `cdk serve` listens on.",
        default="8000",
        flags=("--port",),
        in_project=False,
    ),
    Setting(
        "serve_database",
        "CDK_SERVE_DATABASE",
        "str",
        "The database of `cdk serve` (SQLAlchemy URL, e.g. postgresql+psycopg://...; none: SQLite file HOME/serve.sqlite3); never printed.",
        flags=("--database",),
        secret=True,
        in_project=False,
    ),
    Setting(
        "unsafe_sandbox",
        "CDK_UNSAFE_SANDBOX",
        "bool",
        "Let `cdk serve` run user code without OS isolation where bubblewrap is unavailable (logged loudly).",
        default=False,
        flags=("--unsafe-sandbox",),
        in_project=False,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Value:
    """A setting's effective value, the layer it came from, and where exactly (variable, file:line)."""

    setting: Setting
    value: Any
    source: Source
    origin: str = ""

    @property
    def shown(self) -> str:
        """The value as it may be printed: secrets masked, booleans as in TOML."""
        if self.value is None:
            return ""
        if self.setting.secret:
            return MASK
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/cdk/config.toml``, else ``~/.config/cdk/config.toml``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(_env_home(env) / ".config")
    return Path(base) / "cdk" / "config.toml"


def _key_line(text: str, key: str) -> int:
    """The 1-based line where ``key = ...`` is written (1 when not found: the key is in an inline table)."""
    m = re.search(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=", text, re.M)
    return text.count("\n", 0, m.start()) + 1 if m else 1


_FILE_CACHE: dict[tuple[str, int, int], tuple[str, dict[str, Any]]] = {}


def _read_toml(path: Path) -> tuple[str, dict[str, Any]] | None:
    """(text, table) of a TOML file, None when it does not exist; an unreadable or invalid file is an error."""
    from cdk._compat import tomllib

    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read settings: {exc.strerror or exc}") from None
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key in _FILE_CACHE:
        return _FILE_CACHE[key]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read settings: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        where = f"{path}:{m.group(1)}:{m.group(2)}" if m else str(path)
        raise UsageError(
            f"{where}: not valid TOML: {str(exc).split(' (at line')[0]}",
            hint="fix the file (https://toml.io) or move it away",
        ) from None
    _FILE_CACHE[key] = (text, data)
    return text, data


def _coerce_text(setting: Setting, raw: str, where: str) -> Any:
    """A value written as text (an environment variable, a flag) in the setting's type."""
    if setting.kind == "bool":
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise UsageError(
            f"{where}: {raw!r} is not a boolean",
            hint="use one of 1/0, true/false, yes/no, on/off",
        )
    if setting.kind == "choice" and raw not in setting.choices:
        raise UsageError(f"{where}: {raw!r} is not one of {', '.join(setting.choices)}")
    if setting.kind == "path":
        return os.path.expanduser(raw)
    return raw


def _coerce_toml(setting: Setting, raw: Any, where: str) -> Any:
    """A value read from a TOML file: booleans must be TOML booleans, the rest strings."""
    if setting.kind == "bool":
        if not isinstance(raw, bool):
            raise UsageError(f"{where}: {setting.name} must be true or false, not {raw!r}")
        return raw
    if not isinstance(raw, str):
        raise UsageError(f"{where}: {setting.name} must be a string, not {raw!r}")
    return _coerce_text(setting, raw, where)


class Settings:
    """The effective settings for one command: ``flags`` given on its command line, the environment, the
    connector's ``[tool.cdk]`` (when ``connector`` names one) and the user config file.

    Files are read on the first lookup that needs them (and parsed once per version of the file).
    """

    def __init__(
        self,
        *,
        flags: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        connector: str | Path | None = None,
        user_config: Path | None = None,
    ) -> None:
        self.flags = {k: v for k, v in (flags or {}).items() if v is not None}
        for name in self.flags:
            _setting(name)
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.pyproject_path = _pyproject_of(connector) if connector is not None else None
        self.user_config_path = user_config or user_config_path(self.env)
        self._project: dict[str, tuple[Any, str]] | None = None
        self._user: dict[str, tuple[Any, str]] | None = None

    def get(self, name: str) -> Any:
        """The effective value of setting ``name``."""
        return self.lookup(name).value

    def lookup(self, name: str) -> Value:
        """The effective value of setting ``name`` and where it came from."""
        setting = _setting(name)
        if name in self.flags:
            flag = setting.flags[0] if setting.flags else name
            return Value(setting, self.flags[name], "flag", flag)
        raw = self.env.get(setting.env)
        if raw:  # an empty variable counts as unset, as it always has
            return Value(setting, _coerce_text(setting, raw, setting.env), "env", setting.env)
        if setting.in_project and name in self.project_layer():
            value, where = self.project_layer()[name]
            return Value(setting, value, "pyproject", where)
        if name in self.user_layer():
            value, where = self.user_layer()[name]
            return Value(setting, value, "user-config", where)
        return Value(setting, setting.default_for(self.env), "default")

    def __iter__(self) -> Iterator[Value]:
        """Every setting's effective value, in declaration order."""
        for setting in SETTINGS:
            yield self.lookup(setting.name)

    def project_layer(self) -> dict[str, tuple[Any, str]]:
        """The settings of the connector's ``[tool.cdk]``: name -> (value, file:line)."""
        if self._project is None:
            self._project = {}
            read = _read_toml(self.pyproject_path) if self.pyproject_path is not None else None
            if read is not None:
                text, data = read
                table = (data.get("tool") or {}).get("cdk") or {}
                for key, raw in table.items():
                    setting = BY_NAME.get(key)
                    if setting is None:  # other [tool.cdk] keys (validate, ...) are not settings
                        continue
                    where = f"{self.pyproject_path}:{_key_line(text, key)}"
                    if not setting.in_project:
                        raise UsageError(
                            f"{where}: {key} cannot be set in [tool.cdk]: it belongs to the user or the "
                            "organisation, not to the connector",
                            hint=f"set {setting.env} or {key} in {self.user_config_path}",
                        )
                    self._project[key] = (_coerce_toml(setting, raw, where), where)
        return self._project

    def user_layer(self) -> dict[str, tuple[Any, str]]:
        """The settings of the user config file: name -> (value, file:line)."""
        if self._user is None:
            self._user = {}
            read = _read_toml(self.user_config_path)
            if read is not None:
                text, data = read
                for key, raw in data.items():
                    where = f"{self.user_config_path}:{_key_line(text, key)}"
                    setting = BY_NAME.get(key)
                    if setting is None:
                        import difflib

                        close = difflib.get_close_matches(key, list(BY_NAME), n=1)
                        raise UsageError(
                            f"{where}: unknown setting {key!r}"
                            + (f" (did you mean {close[0]!r}?)" if close else ""),
                            hint="`cdk config show` lists the settings",
                        )
                    self._user[key] = (_coerce_toml(setting, raw, where), where)
        return self._user


def _setting(name: str) -> Setting:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no setting named {name!r} (known: {', '.join(BY_NAME)})") from None


def _pyproject_of(connector: str | Path) -> Path:
    path = Path(connector)
    folder = path.parent if path.name == "connector.yaml" else path
    return folder / "pyproject.toml"


def get(name: str, *, connector: str | Path | None = None, env: Mapping[str, str] | None = None) -> Any:
    """The effective value of setting ``name`` without flags (environment, connector, user config, default)."""
    return Settings(env=env, connector=connector).get(name)


__all__ = ["BY_NAME", "MASK", "SETTINGS", "Setting", "Settings", "Value", "get", "user_config_path"]
