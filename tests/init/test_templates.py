"""Every template x every auth method: the generated connector loads, describes itself and moves real
records through a real demo API with the chosen credentials."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from cdk.project import Project
from tests.conftest import jsonl, run_cdk
from tests.init.initkit import (
    AUTHS,
    DECLARATIVE_PAGE_SIZE,
    DECLARATIVE_PAGINATIONS,
    PAGINATIONS,
    SECRETS,
    TEMPLATES,
    basic_header,
    demo_for,
    write_json,
)

RECORDS = 137  # not a multiple of the page size: the last page is short
SOURCES = ["source-python", "source-streaming", "source-declarative"]
INCREMENTAL = {
    "source-python",
    "source-declarative",
}  # batch sources whose default capabilities add incremental


def _config(api_url: str | None, authentication: dict | None, **extra) -> dict:
    cfg = {"api_url": api_url, **extra} if api_url else {}
    if authentication:
        cfg["authentication"] = authentication
    return cfg


def _source_for(
    generated, template: str, auth: str, api, authentication: dict | None, page_size: int, **answers: str
) -> tuple[Path, dict, int]:
    """(folder, config, page size) of a generated source that reads from ``api``. A Python source takes the
    URL and page size from its config; a declarative one has both in connector.yaml (urlParams.host,
    limitValue), so it is generated with the demo API's URL as its base URL, as a user would."""
    if template == "source-declarative":
        return (
            generated(template, auth, base_url=api.url, **answers),
            _config(None, authentication),
            DECLARATIVE_PAGE_SIZE,
        )
    return (
        generated(template, auth, **answers),
        _config(api.url, authentication, page_size=page_size),
        page_size,
    )


def _auth_headers_seen(api, path: str) -> list[str | None]:
    return [r["headers"].get("Authorization") for r in api.requests if r["path"] == path]


@pytest.mark.parametrize("auth", AUTHS)
@pytest.mark.parametrize("template", TEMPLATES)
def test_generated_connector_loads_and_describes_itself(generated, template, auth):
    folder = generated(template, auth)
    project = Project.load(folder)
    manifest = project.manifest
    assert manifest.name == folder.name
    assert manifest.kind == ("destination" if template.startswith("destination") else "source")
    assert manifest.allowed_hosts == ["127.0.0.1"]
    expected_caps = {
        "source-python": ["batch_extract", "incremental"],
        "destination-python": ["load"],
        "source-streaming": ["streaming"],
        "source-declarative": ["batch_extract", "incremental"],
    }[template]
    assert manifest.capabilities == expected_caps

    spec = run_cdk("spec", "-C", str(folder))
    assert spec.returncode == 0, spec.stderr.decode()
    schema = json.loads(spec.stdout)
    assert schema == json.loads((folder / "schemas" / "config.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    params = schema["properties"].get("authentication", {}).get("properties", {}).get("params", {})
    secret = {k for k, v in params.get("properties", {}).items() if v.get("writeOnly")}
    assert secret == SECRETS[auth]
    # the committed sample config and the secrets template both fit the schema
    for sample in (folder / "tests" / "sample_config.json", folder / "secrets" / "config.template.json"):
        jsonschema.validate(json.loads(sample.read_text()), schema)

    discover = run_cdk("discover", "-C", str(folder))
    assert discover.returncode == 0, discover.stderr.decode()
    streams = json.loads(discover.stdout)["streams"]
    if template == "destination-python":
        assert streams == []
    else:
        assert [s["name"] for s in streams] == ["users"]
        assert streams[0]["primary_key"] == ["id"]
        assert streams[0]["supports_incremental"] is (template in INCREMENTAL)
        assert "updated_at" in streams[0]["schema"]["properties"]


@pytest.mark.parametrize("auth", AUTHS)
@pytest.mark.parametrize("template", SOURCES)
def test_generated_source_reads_every_record_with_its_auth(generated, tmp_path, template, auth):
    with demo_for(auth, RECORDS) as (api, authentication):
        folder, cfg, page_size = _source_for(generated, template, auth, api, authentication, 25)
        config = write_json(tmp_path / "config.json", cfg)
        proc = run_cdk(
            "read",
            "-C",
            str(folder),
            "--config",
            str(config),
            "--stream",
            "users",
            "--state",
            str(tmp_path / "state.json"),
        )
        assert proc.returncode == 0, proc.stderr.decode()
        rows = jsonl(proc.stdout)
        ids = [int(r.get("id") or r["data"]["id"]) for r in rows]
        assert sorted(ids) == list(range(1, RECORDS + 1))
        pages = [r for r in api.requests if r["path"] == "/users"]
        assert len(pages) == -(-RECORDS // page_size)  # e.g. 6 pages of 25 (the last short), no extra request
        if auth == "basic":
            assert set(_auth_headers_seen(api, "/users")) == {basic_header("ann", "s3cret")}
        if auth == "oauth2":
            assert api.tokens_issued == 1
            assert set(_auth_headers_seen(api, "/users")) == {"Bearer access-1"}
        # a second run resumes from the saved state: nothing new upstream, nothing read again
        again = run_cdk(
            "read",
            "-C",
            str(folder),
            "--config",
            str(config),
            "--stream",
            "users",
            "--state",
            str(tmp_path / "state.json"),
            *(["--incremental"] if template in INCREMENTAL else []),
        )
        assert again.returncode == 0, again.stderr.decode()
        assert jsonl(again.stdout) == []


@pytest.mark.parametrize("auth", ["api_key", "bearer", "oauth2"])
@pytest.mark.parametrize("template", ["source-python", "source-declarative"])
def test_generated_source_refuses_wrong_credentials_clearly(generated, tmp_path, template, auth):
    with demo_for(auth, 10) as (api, authentication):
        params = dict(authentication["params"])
        wrong_field = {"api_key": "api_key", "bearer": "token", "oauth2": "refresh_token"}[auth]
        params[wrong_field] = "wrong"
        folder, cfg, _ = _source_for(generated, template, auth, api, {"type": auth, "params": params}, 25)
        config = write_json(tmp_path / "config.json", cfg)
        proc = run_cdk("read", "-C", str(folder), "--config", str(config))
        assert proc.returncode == 1
        err = proc.stderr.decode()
        assert "error:" in err and "Traceback" not in err
        assert ("401" in err or "OAuth2" in err) and "wrong" not in err  # the secret is not echoed


@pytest.mark.parametrize(
    ("template", "pagination"),
    [(t, p) for t in ("source-python", "source-streaming") for p in PAGINATIONS]
    + [("source-declarative", p) for p in DECLARATIVE_PAGINATIONS],
)
def test_every_pagination_style_reads_exactly_all_records(generated, tmp_path, template, pagination):
    answers = {"pagination": pagination}
    if template in INCREMENTAL:
        answers["capabilities"] = "batch_extract"
    with demo_for("api_key", RECORDS) as (api, authentication):
        folder, cfg, page_size = _source_for(
            generated, template, "api_key", api, authentication, 20, **answers
        )
        config = write_json(tmp_path / "config.json", cfg)
        proc = run_cdk("read", "-C", str(folder), "--config", str(config))
        assert proc.returncode == 0, proc.stderr.decode()
        ids = [int(r.get("id") or r["data"]["id"]) for r in jsonl(proc.stdout)]
        assert sorted(ids) == list(range(1, RECORDS + 1))
        assert len([r for r in api.requests if r["path"] == "/users"]) == -(-RECORDS // page_size)
    if template in INCREMENTAL:
        assert Project.load(folder).manifest.capabilities == ["batch_extract"]
    if template == "source-python":
        assert "get_records_after" not in (folder / folder.name.replace("-", "_") / "source.py").read_text()
    if template == "source-declarative":  # the answer picked the sourceSpec type; no incremental window
        spec = Project.load(folder).manifest.declarative["defaults"]
        assert spec["paginationParams"]["type"] == DECLARATIVE_PAGINATIONS[pagination]
        assert "scheduleParams" not in spec


@pytest.mark.parametrize("template", sorted(INCREMENTAL))
def test_incremental_read_returns_only_newer_records(generated, tmp_path, template):
    with demo_for("none", 60) as (api, authentication):
        folder, cfg, _ = _source_for(generated, template, "none", api, authentication, 25)
        config = write_json(tmp_path / "config.json", cfg)
        state = tmp_path / "state.json"
        first = run_cdk(
            "read", "-C", str(folder), "--config", str(config), "--incremental", "--state", str(state)
        )
        assert first.returncode == 0, first.stderr.decode()
        assert len(jsonl(first.stdout)) == 60
        api.counts["users"] = 75  # 15 records appear upstream, newer than the saved cursor
        api._cache.pop("users", None)
        second = run_cdk(
            "read", "-C", str(folder), "--config", str(config), "--incremental", "--state", str(state)
        )
        assert second.returncode == 0, second.stderr.decode()
        ids = sorted(int(r.get("id") or r["data"]["id"]) for r in jsonl(second.stdout))
        assert ids == list(range(61, 76))
        assert any("updated_since=" in r["query"] for r in api.requests if r["path"] == "/users")


@pytest.mark.parametrize("auth", AUTHS)
def test_generated_destination_lands_records_in_the_api(generated, tmp_path, auth):
    folder = generated("destination-python", auth)
    with demo_for(auth) as (api, authentication):
        config = write_json(tmp_path / "config.json", _config(api.url, authentication, buffer_size=10))
        lines = b"".join(
            json.dumps({"stream": "users", "id": str(i), "data": {"id": i, "name": f"n{i}"}}).encode() + b"\n"
            for i in range(1, 38)
        )
        proc = run_cdk(
            "write",
            "-C",
            str(folder),
            "--config",
            str(config),
            "--stream",
            "users",
            "--format",
            "json",
            input=lines,
        )
        assert proc.returncode == 0, proc.stderr.decode()
        summary = json.loads(proc.stdout)
        assert summary["written"] == 37 and summary["failed"] == 0 and summary["batches"] == 4
        assert [row["id"] for row in api.ingested["users"]] == list(range(1, 38))
        if auth == "basic":
            assert set(_auth_headers_seen(api, "/ingest/users")) == {basic_header("ann", "s3cret")}
        if auth == "oauth2":
            assert api.tokens_issued == 1


@pytest.mark.parametrize("template", ["source-python", "source-declarative"])
def test_check_command_works_on_a_generated_connector(generated, tmp_path, template):
    with demo_for("bearer") as (api, authentication):
        folder, cfg, _ = _source_for(generated, template, "bearer", api, authentication, 25)
        good = write_json(tmp_path / "good.json", cfg)
        assert run_cdk("check", "-C", str(folder), "--config", str(good)).returncode == 0
        bad_cfg = {**cfg, "authentication": {"type": "bearer", "params": {"token": "nope"}}}
        bad = write_json(tmp_path / "bad.json", bad_cfg)
        proc = run_cdk("check", "-C", str(folder), "--config", str(bad))
        assert proc.returncode == 1 and b"nope" not in proc.stderr


def test_base_url_answer_sets_allowed_hosts_and_defaults(generated):
    folder = generated("source-python", "oauth2", base_url="https://api.example.com/v2/")
    manifest = Project.load(folder).manifest
    assert manifest.allowed_hosts == ["api.example.com"]
    schema = json.loads((folder / "schemas" / "config.json").read_text())
    assert schema["properties"]["api_url"]["default"] == "https://api.example.com/v2"
    token_url = schema["properties"]["authentication"]["properties"]["params"]["properties"]["token_url"]
    assert token_url["default"] == "https://api.example.com/v2/oauth/token"
    sample = json.loads((folder / "tests" / "sample_config.json").read_text())
    assert sample["api_url"] == "https://api.example.com/v2"


def test_base_url_answer_is_the_declarative_host(generated):
    """A declarative connector keeps its base URL in the spec (a literal host that `cdk validate` can hold
    against allowed_hosts), not in the config."""
    folder = generated("source-declarative", "oauth2", base_url="https://api.example.com/v2/")
    manifest = Project.load(folder).manifest
    assert manifest.allowed_hosts == ["api.example.com"]
    assert manifest.declarative["defaults"]["urlParams"]["host"] == "https://api.example.com/v2"
    schema = json.loads((folder / "schemas" / "config.json").read_text())
    assert set(schema["properties"]) == {"authentication"}
    token_url = schema["properties"]["authentication"]["properties"]["params"]["properties"]["token_url"]
    assert token_url["default"] == "https://api.example.com/v2/oauth/token"
    sample = json.loads((folder / "tests" / "sample_config.json").read_text())
    assert "api_url" not in sample and sample["authentication"]["type"] == "oauth2"


@pytest.mark.parametrize("template", TEMPLATES)
def test_generated_project_layout(generated, template):
    folder: Path = generated(template, "api_key")
    pkg = folder.name.replace("-", "_")
    for rel in (
        "pyproject.toml",
        "connector.yaml",
        "README.md",
        ".gitignore",
        ".pre-commit-config.yaml",
        ".github/workflows/connector.yml",
        "schemas/config.json",
        "tests/sample_config.json",
        "secrets/config.template.json",
        f"{pkg}/__init__.py",
    ):
        assert (folder / rel).is_file(), rel
    project = Project.load(folder)
    deps = project.pyproject["project"]["dependencies"]
    from packaging.requirements import Requirement

    assert {Requirement(d).name for d in deps} <= {"connector-cdk", "requests", "pydantic"}
    eps = project.pyproject["project"]["entry-points"]["cdk.connectors"]
    if template == "source-declarative":  # no connector code: the package only hands connector.yaml to cdk
        assert project.manifest.entrypoint is None and project.manifest.declarative
        assert eps == {folder.name: f"{pkg}:Source"}
        assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.py")) == [
            f"{pkg}/__init__.py"
        ]
        assert "package_source(__name__)" in (folder / pkg / "__init__.py").read_text()
        force = project.pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
        assert force == {"connector.yaml": f"{pkg}/connector.yaml", "schemas": f"{pkg}/schemas"}
    else:
        assert eps == {folder.name: project.manifest.entrypoint}
    gitignore = (folder / ".gitignore").read_text().splitlines()
    assert "/secrets/*" in gitignore and "!/secrets/config.template.json" in gitignore
    assert "cdk ci" in (folder / ".github/workflows/connector.yml").read_text()
    assert "entry: cdk validate" in (folder / ".pre-commit-config.yaml").read_text()
    readme = (folder / "README.md").read_text()
    block = readme.split("```sh")[1].split("```")[0].strip().splitlines()
    assert len(block) == 5 and all(line.split()[0] in ("python", "cdk", "cp", "echo") for line in block)
    sample = json.loads((folder / "tests" / "sample_config.json").read_text())
    secret = sample["authentication"]["params"]["api_key"]
    assert len(secret) >= 4 and secret != "key-123"
