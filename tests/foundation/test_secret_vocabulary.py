"""One secret vocabulary: the validator, the recorder and the publish scan give the same verdict.

Each row is a config field and a value. The test builds one connector that holds every row, then asks
each consumer through its own entry point: the config suite's secret fields (``cdk validate``), the
recorder's redaction set (the pytest plugin's harness, as ``cdk test --record`` builds it) and the
artifact scan of ``cdk publish``/``cdk ci`` run over an archive that contains every value.
"""

from __future__ import annotations

import json
import textwrap
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from cdk.project import Project
from cdk.publish.scan import scan_artifacts
from cdk.secrets import is_reference, is_secret_name, secret_values
from cdk.testing.connector_plugin import Harness
from cdk.validators.config import secret_fields


class Row(NamedTuple):
    path: str  # dotted config field
    written: str  # the value as written in secrets/config.json
    real: str  # the value it stands for (differs for references)
    secret: bool  # the vocabulary's verdict on the real value
    prop: dict[str, Any]  # its schema property (marks)


ENV_VALUE = "env-held-Tok3n-9931"
FILE_VALUE = "file-held-Key-4410"
ROWS = [
    Row("api_key", "ak-live-77aa01", "ak-live-77aa01", True, {}),
    Row("apiKey", "camel-key-5521", "camel-key-5521", True, {}),
    Row("x_api_key", "xak-6620-live", "xak-6620-live", True, {}),
    Row("passphrase", "horse battery 9", "horse battery 9", True, {}),
    Row("private_key", "pk-material-3310", "pk-material-3310", True, {}),
    Row("db.password", "db-pw-Zq81", "db-pw-Zq81", True, {}),
    Row("authentication.params.client_secret", "cs-value-Hh12", "cs-value-Hh12", True, {}),
    Row("authentication.params.refresh_token", "rt-value-Jj34", "rt-value-Jj34", True, {}),
    Row("pin", "pin-code-8812", "pin-code-8812", True, {"format": "password"}),
    Row("hidden", "hidden-val-0071", "hidden-val-0071", True, {"writeOnly": True}),
    Row("legacy", "legacy-val-6502", "legacy-val-6502", True, {"airbyte_secret": True}),
    Row("license", "lic-val-1207", "lic-val-1207", True, {"x-secret": True}),
    Row("dsn", "postgres://u:dsnpw@h/db", "postgres://u:dsnpw@h/db", True, {}),  # SecretStr in the class
    Row("access_token", "CDK_ENV_ROW_ACCESS", ENV_VALUE, True, {}),
    Row("signing_key", "file:keyfile.txt", FILE_VALUE, True, {}),
    Row(
        "token_url", "https://auth.example.com/oauth/token", "https://auth.example.com/oauth/token", False, {}
    ),
    Row("base_url", "https://api.example.com/v1", "https://api.example.com/v1", False, {}),
    Row("authentication.type", "bearer", "bearer", False, {}),
    Row("authentication.params.client_id", "public-client-77", "public-client-77", False, {}),
    Row("username", "ann-operator", "ann-operator", False, {}),
    Row("password_policy", "min-length-12", "min-length-12", False, {}),
    Row("auth_type", "oauth2-pkce", "oauth2-pkce", False, {}),
    Row("secret_name", "prod/db-creds", "prod/db-creds", False, {}),
    Row("next_page_token", "cursor-abc-123", "cursor-abc-123", False, {}),
    Row("primary_key", "customer_id", "customer_id", False, {}),
    Row("repository", "acme/warehouse", "acme/warehouse", False, {}),
]

SOURCE = """\
from typing import Any
from pydantic import SecretStr
from cdk import AbstractSource, SourceConfig, SourceIteration


class RowsConfig(SourceConfig):
{fields}


class RowsSource(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["items"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return RowsConfig

    def check_connection(self):
        return True, None

    def get(self, pagination=None) -> SourceIteration:
        return SourceIteration(records=[])
"""


def _nest(rows: list[Row], value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in rows:
        *parents, leaf = row.path.split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value(row)
    return out


def _schema(rows: list[Row]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    for row in rows:
        *parents, leaf = row.path.split(".")
        node = schema
        for p in parents:
            node = node["properties"].setdefault(p, {"type": "object", "properties": {}})
        node["properties"][leaf] = {"type": "string", **row.prop}
    return schema


def write_connector(root: Path) -> Path:
    (root / "rows_connector").mkdir(parents=True)
    (root / "schemas").mkdir()
    (root / "secrets").mkdir()
    top = sorted({r.path.split(".")[0] for r in ROWS} - {"authentication"})
    fields = "\n".join(
        f"    {name}: SecretStr | None = None" if name == "dsn" else f"    {name}: Any = None" for name in top
    )
    (root / "rows_connector" / "__init__.py").write_text("")
    (root / "rows_connector" / "source.py").write_text(SOURCE.format(fields=fields))
    (root / "schemas" / "config.json").write_text(json.dumps(_schema(ROWS), indent=2))
    (root / "schemas" / "items.json").write_text('{"type": "object"}')
    (root / "connector.yaml").write_text(
        textwrap.dedent(
            """\
            manifest_version: 1
            name: rows
            version: 0.1.0
            display_name: Rows
            description: every kind of config field
            kind: source
            capabilities: [batch_extract]
            entrypoint: rows_connector.source:RowsSource
            config:
              class: rows_connector.source:RowsConfig
              schema: schemas/config.json
            streams:
              - name: items
                primary_key: [id]
                schema: schemas/items.json
            allowed_hosts: [api.example.com]
            """
        )
    )
    (root / "keyfile.txt").write_text(FILE_VALUE + "\n")
    (root / "secrets" / "config.json").write_text(json.dumps(_nest(ROWS, lambda r: r.written)))
    return root


class _Options:
    """The three plugin options the harness reads, as `cdk test --record` passes them."""

    def __init__(self, config: Path) -> None:
        self.values = {"cdk_record": "all", "cdk_config": str(config), "cdk_stream": []}

    def getoption(self, name: str) -> Any:
        return self.values[name]


def verdicts(root: Path) -> dict[str, dict[str, bool]]:
    """For each row: is its real value secret according to validate, record and scan."""
    validated = secret_fields(Project.load(root))
    harness = Harness(_Options(root / "secrets" / "config.json"), root)
    recorded = harness.redactor(harness.config_data(recording=True)).secrets
    archive = root / "dist" / "rows-0.1.0-py3-none-any.whl"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for n, row in enumerate(ROWS):
            zf.writestr(f"rows_connector/row{n}.txt", f"value = {row.real!r}\n")
    scanned: dict[str, bool] = {}
    for finding in scan_artifacts([archive], root=root):
        n = int(finding.file.removeprefix("rows_connector/row").removesuffix(".txt"))
        scanned[ROWS[n].path] = True
    return {
        row.path: {
            "validate": row.path in validated,
            "record": row.real in recorded,
            "scan": scanned.get(row.path, False),
        }
        for row in ROWS
    }


def test_validate_record_and_scan_agree_on_every_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROW_ACCESS", ENV_VALUE)
    monkeypatch.syspath_prepend(str(tmp_path / "rows"))
    root = write_connector(tmp_path / "rows")
    table = verdicts(root)
    lines = [f"{'field':38} {'value':40} secret validate record scan"]
    for row in ROWS:
        v = table[row.path]
        shown = row.written if row.written == row.real else f"{row.written} -> (resolved)"
        lines.append(
            f"{row.path:38} {shown:40} {row.secret!s:6} {v['validate']!s:8} {v['record']!s:6} {v['scan']!s}"
        )
    print("\n".join(lines))
    wrong = {row.path: table[row.path] for row in ROWS if set(table[row.path].values()) != {row.secret}}
    assert wrong == {}
    assert sum(r.secret for r in ROWS) >= 10 and sum(not r.secret for r in ROWS) >= 10


def test_a_reference_is_not_a_secret_but_what_it_points_to_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROW_ACCESS", ENV_VALUE)
    monkeypatch.syspath_prepend(str(tmp_path / "rows"))
    root = write_connector(tmp_path / "rows")
    harness = Harness(_Options(root / "secrets" / "config.json"), root)
    recorded = harness.redactor(harness.config_data(recording=True)).secrets
    assert {"CDK_ENV_ROW_ACCESS", "file:keyfile.txt"}.isdisjoint(recorded)
    assert {ENV_VALUE, FILE_VALUE} <= recorded
    shipped = root / "dist.zip"
    with zipfile.ZipFile(shipped, "w") as zf:  # the references themselves may ship (sample configs)
        zf.writestr("tests/sample_config.json", json.dumps({"access_token": "CDK_ENV_ROW_ACCESS"}))
    assert scan_artifacts([shipped], root=root) == []
    with zipfile.ZipFile(shipped, "w") as zf:
        zf.writestr("tests/leak.txt", ENV_VALUE)
    assert [f.message for f in scan_artifacts([shipped], root=root)] == [
        "value of secrets/config.json 'access_token'"
    ]
    # an unset variable resolves to nothing: no value to look for, no crash
    monkeypatch.delenv("ROW_ACCESS")
    assert secret_values({"access_token": "CDK_ENV_ROW_ACCESS"}, resolve=True) == []
    assert is_reference("BIZON_ENV_X") and is_reference("vault:kv/app#token")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("db_password", True),
        ("passwd", True),
        ("pwd", True),
        ("passphrase", True),
        ("secret", True),
        ("client_secret", True),
        ("clientSecret", True),
        ("api_key", True),
        ("apikey", True),
        ("APIKey", True),
        ("x_api_key", True),
        ("X-API-Key", True),
        ("XApiKey", True),
        ("token", True),
        ("access_token", True),
        ("refresh_token", True),
        ("private_key", True),
        ("aws_secret_access_key", True),
        ("authorization", True),
        ("Proxy-Authorization", True),
        ("Set-Cookie", True),
        ("credentials", True),
        ("key", True),
        ("token_url", False),
        ("tokenUrl", False),
        ("password_policy", False),
        ("auth_type", False),
        ("secret_name", False),
        ("api_key_header", False),
        ("token_type", False),
        ("next_page_token", False),
        ("nextPageToken", False),
        ("continuation_token", False),
        ("primary_key", False),
        ("sort_key", False),
        ("key_id", False),
        ("access_key_id", False),
        ("client_id", False),
        ("username", False),
        ("max_tokens", False),
        ("monkey", False),
        ("authentication", False),
    ],
)
def test_the_name_rule(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_a_bare_key_in_an_api_response_is_data() -> None:
    assert is_secret_name("key") and not is_secret_name("key", response=True)
    assert is_secret_name("api_key", response=True)
