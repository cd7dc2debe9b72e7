"""The logger destination prints records with the source config's secret values masked, in every spelling
cdk/secrets.py knows: an API that echoes the key back (raw, base64, percent-encoded, JSON-escaped, or in a
URL's api_key parameter) does not put it into the log."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from tests.conftest import run_cdk
from tests.pipelines.projects import members_source

KEY = 'k3y/with+special "chars"&=9Zq'

PIPELINE = """name: masked
source:
  name: ./members-source
  stream: events
  count: 8
  api_key: CDK_ENV_MEMBERS_KEY
destination:
  name: logger
  config: {}
"""


def test_the_logger_prints_records_with_the_api_key_masked_in_every_spelling(tmp_path):
    members_source(tmp_path)
    (tmp_path / "pipeline.yml").write_text(PIPELINE)
    result = run_cdk("run", "pipeline.yml", cwd=tmp_path, env={"MEMBERS_KEY": KEY})
    err = result.stderr.decode()
    assert result.returncode == 0, err
    logged = [line for line in err.splitlines() if "cdk.pipelines.logger" in line]
    assert len(logged) == 8  # every record printed ...
    assert {line.split("events ", 1)[1].split(" ", 1)[0] for line in logged} == {f"r1-{n}" for n in range(8)}
    for spelling in (
        KEY,
        base64.b64encode(KEY.encode()).decode(),
        quote(KEY, safe=""),
        json.dumps(KEY)[1:-1],
    ):
        assert spelling not in err, spelling  # ... with no spelling of the key
    assert all("REDACTED" in line for line in logged)
    assert all("page=2&api_key=REDACTED" in line for line in logged)  # the URL stays readable
    assert '"kind":"event"' in logged[0]  # the rest of the record is intact


def test_without_a_secret_in_the_config_nothing_is_masked(tmp_path):
    members_source(tmp_path)
    (tmp_path / "pipeline.yml").write_text(PIPELINE.replace("  api_key: CDK_ENV_MEMBERS_KEY\n", ""))
    result = run_cdk("run", "pipeline.yml", cwd=tmp_path)
    err = result.stderr.decode()
    assert result.returncode == 0, err
    assert "REDACTED" not in err and err.count("cdk.pipelines.logger") == 8
