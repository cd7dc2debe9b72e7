"""`cdk run` with a connector folder as the source (pinned or not) and the incremental sync mode: the
issue's scenario — records emitted, the destination rejects them — loses nothing any more."""

from __future__ import annotations

import pytest

from cdk.errors import ConfigError, ConnectorError
from cdk.pipelines import run_pipeline
from tests.conftest import run_cdk
from tests.guides import examples
from tests.guides.guide_api import GuideAPI
from tests.guides.test_guide_examples import make_connector
from tests.pipelines.test_run import Recorder

PIPELINE = """name: incremental-users
source:
  name: {ref}
  stream: users
  sync_mode: incremental
  api_url: {url}
  page_size: 25
destination:
  name: logger
  config: {{}}
"""


@pytest.fixture
def api():
    with GuideAPI({"users": 95}) as server:
        yield server


def test_incremental_run_rejected_by_the_destination_loses_nothing(tmp_path, api):
    make_connector(tmp_path, examples.INCREMENTAL, incremental=True)
    config = tmp_path / "pipeline.yml"
    config.write_text(PIPELINE.format(ref="./guide-source", url=api.url))
    rejecting = Recorder(fail_at={4})  # pages of 25: three pages acknowledged, the fourth rejected
    with pytest.raises(ConnectorError):
        run_pipeline(config, destination=rejecting)
    assert set(rejecting.rows) == {str(i) for i in range(1, 76)}
    second = Recorder()
    result = run_pipeline(config, destination=second)
    assert result.streams[0].completed and result.streams[0].resumed_from is not None
    assert set(rejecting.rows) | set(second.rows) == {str(i) for i in range(1, 96)}
    api.counts["users"] = 100
    third = Recorder()
    run_pipeline(config, destination=third)
    assert sorted(third.rows, key=int) == ["96", "97", "98", "99", "100"]  # incremental: only newer ones


def test_a_pinned_folder_source_refuses_another_version(tmp_path, api):
    make_connector(tmp_path, examples.INCREMENTAL, incremental=True)
    config = tmp_path / "pipeline.yml"
    config.write_text(PIPELINE.format(ref="./guide-source==9.9.9", url=api.url))
    with pytest.raises(ConfigError) as caught:
        run_pipeline(config, destination=Recorder())
    assert "0.1.0, not 9.9.9" in caught.value.message
    result = run_cdk("run", "pipeline.yml", cwd=tmp_path)
    assert result.returncode == 1 and "not 9.9.9" in result.stderr.decode()
    config.write_text(PIPELINE.format(ref="./guide-source==0.1.0", url=api.url))
    result = run_cdk("run", "pipeline.yml", "--log-level", "WARNING", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()


def test_a_destination_connector_folder_receives_the_records(tmp_path, api, demo_api, connector_copy):
    from tests.pipelines.test_run import GUIDE_CONFIG, TOKEN

    connector_copy("demo_destination")
    api.api_key = TOKEN
    (tmp_path / "my_source.py").write_text(examples.QUICKSTART)
    destination = f"  name: ./demo_destination{{pin}}\n  config:\n    api_url: {demo_api.url}\n"
    config = tmp_path / "config.yml"
    config.write_text(GUIDE_CONFIG.format(url=api.url, destination=destination.format(pin="==0.1.0")))
    env = {"API_TOKEN": TOKEN}
    result = run_cdk(
        "run", "config.yml", "--custom-source", "my_source.py", "--format", "json", cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr.decode()
    assert [row["id"] for row in demo_api.ingested["users"]] == list(range(1, 96))
    config.write_text(GUIDE_CONFIG.format(url=api.url, destination=destination.format(pin="==2.0.0")))
    result = run_cdk("run", "config.yml", "--custom-source", "my_source.py", cwd=tmp_path, env=env)
    assert result.returncode == 1 and "0.1.0, not 2.0.0" in result.stderr.decode()
