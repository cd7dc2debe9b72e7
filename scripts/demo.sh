#!/usr/bin/env bash
# The main job, from nothing: set up connector-cdk, then scaffold, validate, test and publish a demo
# connector to the embedded local registry, install the published version, and read with it.
# Everything it makes lives in .demo/ (delete it to start over); nothing leaves this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)

step() { printf '\n\033[1m== %s\033[0m\n' "$1"; }

step "set up: virtualenv .venv with connector-cdk"
[ -x .venv/bin/python ] || python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e '.[dev]'

rm -rf .demo && mkdir -p .demo
export CDK_HOME="$here/.demo/home"          # the embedded registry is $CDK_HOME/registry
export CDK_VIRTUAL_TIME=1                     # retries in the demo do not really wait

step "cdk init: scaffold a source (answers given on the command line; drop --no-input to be asked)"
cdk init .demo/acme --no-input --set name=acme --set auth=api_key
cd .demo/acme

step "cdk validate: manifest, config schema, methods, dependencies, security, secrets, egress, packaging"
cdk validate

step "cdk test: standard and error-path tests replayed from the cassettes recorded at init (offline)"
cdk test

step "cdk publish 1.0.0: version rules, gate, build, checks, upload to the local registry"
cdk publish 1.0.0

step "cdk versions / cdk install: what the registry holds, and a pinned install"
cdk versions acme
cdk install acme==1.0.0
cdk connectors

step "cdk read: run the connector against the local demo API"
python - <<'PY'
import json, subprocess, sys
from cdk.testing.demo_api import DemoAPI
with DemoAPI(250, api_key="demo-key") as api:
    config = json.load(open("secrets/config.template.json"))  # the key itself comes from $ACME_API_KEY
    config["api_url"] = api.url
    json.dump(config, open("secrets/config.json", "w"))
    out = subprocess.run(["cdk", "read", "--config", "secrets/config.json", "--stream", "users"],
                         env={**__import__("os").environ, "ACME_API_KEY": "demo-key"}, capture_output=True, text=True)
    sys.stderr.write(out.stderr)
    rows = out.stdout.splitlines()
    print(f"{len(rows)} records; the first: {rows[0][:120]}...")
    sys.exit(out.returncode)
PY

step "done: the connector is in .demo/acme, the registry in .demo/home/registry"
