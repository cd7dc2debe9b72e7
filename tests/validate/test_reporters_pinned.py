"""The reporters' output for two known findings, pinned byte for byte.

Any change to the finding type (its fields, their order in ``to_dict``, how a location is printed) or to
a reporter shows up here as a diff of text a CI system parses (GitHub annotations, SARIF, JUnit).
"""

from __future__ import annotations

import pytest

from cdk._version import __version__
from cdk.findings import Finding
from cdk.validators import reporters
from cdk.validators.findings import Report


def _report() -> Report:
    return Report(
        root="connectors/demo",
        findings=[
            Finding(
                rule="S001",
                severity="error",
                file="demo/source.py",
                line=3,
                column=0,
                message="import of os is blocked",
                hint="use the provided session",
                suite="security",
            ),
            Finding(
                rule="M002",
                severity="warning",
                file="connector.yaml",
                line=12,
                column=4,
                message="a warning, with: commas\nand a newline",
                hint="",
                suite="manifest",
            ),
        ],
    )


TEXT = r"""connectors/demo/demo/source.py:3:1 S001 import of os is blocked
connectors/demo/connector.yaml:12:5 M002 a warning, with: commas
and a newline
1 error, 1 warning in 1 connector; 1 failed"""
JSON = r"""{
  "valid": false,
  "errors": [
    {
      "line": 3,
      "column": 0,
      "message": "import of os is blocked",
      "severity": "error",
      "rule": "S001",
      "file": "connectors/demo/demo/source.py",
      "suite": "security",
      "hint": "use the provided session"
    }
  ],
  "warnings": [
    {
      "line": 12,
      "column": 4,
      "message": "a warning, with: commas\nand a newline",
      "severity": "warning",
      "rule": "M002",
      "file": "connectors/demo/connector.yaml",
      "suite": "manifest",
      "hint": ""
    }
  ],
  "connector": "connectors/demo"
}"""
JUNIT = r"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="cdk validate" tests="11" failures="1">
  <testsuite name="connectors/demo" tests="11" failures="1" errors="0">
    <testcase classname="connectors/demo.files" name="files" />
    <testcase classname="connectors/demo.manifest" name="M002 connectors/demo/connector.yaml:12:5" file="connectors/demo/connector.yaml" line="12">
      <system-out>warning M002: a warning, with: commas
and a newline
hint: </system-out>
    </testcase>
    <testcase classname="connectors/demo.config" name="config" />
    <testcase classname="connectors/demo.capabilities" name="capabilities" />
    <testcase classname="connectors/demo.dependencies" name="dependencies" />
    <testcase classname="connectors/demo.security" name="S001 connectors/demo/demo/source.py:3:1" file="connectors/demo/demo/source.py" line="3">
      <failure message="import of os is blocked" type="S001">connectors/demo/demo/source.py:3:1 S001 import of os is blocked
hint: use the provided session</failure>
    </testcase>
    <testcase classname="connectors/demo.secrets" name="secrets" />
    <testcase classname="connectors/demo.egress" name="egress" />
    <testcase classname="connectors/demo.packaging" name="packaging" />
    <testcase classname="connectors/demo.fixtures" name="fixtures" />
    <testcase classname="connectors/demo.declarative" name="declarative" />
  </testsuite>
</testsuites>"""
SARIF = r"""{
  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
  "version": "2.1.0",
  "runs": [
    {
      "tool": {
        "driver": {
          "name": "cdk validate",
          "version": "{VERSION}",
          "informationUri": "https://github.com/connector-cdk/connector-cdk",
          "rules": [
            {
              "id": "M002",
              "name": "InvalidConnectorName",
              "shortDescription": {
                "text": "invalid connector name"
              },
              "fullDescription": {
                "text": "the name must match ^[a-z][a-z0-9_-]{1,63}$"
              },
              "help": {
                "text": "use lowercase letters, digits, _ and -; start with a letter"
              },
              "defaultConfiguration": {
                "level": "error"
              },
              "properties": {
                "tags": [
                  "manifest"
                ]
              }
            },
            {
              "id": "S001",
              "name": "BlockedImport",
              "shortDescription": {
                "text": "blocked import"
              },
              "fullDescription": {
                "text": "this module is not allowed in connector code"
              },
              "help": {
                "text": "use the SDK instead: `self.session` for HTTP, the config for settings, records for output"
              },
              "defaultConfiguration": {
                "level": "error"
              },
              "properties": {
                "tags": [
                  "security"
                ]
              }
            }
          ]
        }
      },
      "results": [
        {
          "ruleId": "S001",
          "ruleIndex": 1,
          "level": "error",
          "message": {
            "text": "import of os is blocked (hint: use the provided session)"
          },
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "connectors/demo/demo/source.py"
                },
                "region": {
                  "startLine": 3,
                  "startColumn": 1
                }
              }
            }
          ]
        },
        {
          "ruleId": "M002",
          "ruleIndex": 0,
          "level": "warning",
          "message": {
            "text": "a warning, with: commas\nand a newline"
          },
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "connectors/demo/connector.yaml"
                },
                "region": {
                  "startLine": 12,
                  "startColumn": 5
                }
              }
            }
          ]
        }
      ]
    }
  ]
}"""
GITHUB = r"""::error file=connectors/demo/demo/source.py,line=3,col=1,title=S001 security::import of os is blocked — use the provided session
::warning file=connectors/demo/connector.yaml,line=12,col=5,title=M002 manifest::a warning, with: commas%0Aand a newline"""


@pytest.mark.parametrize("fmt", reporters.FORMATS)
def test_reporter_output_is_pinned(fmt: str) -> None:
    expected = {"text": TEXT, "json": JSON, "junit": JUNIT, "sarif": SARIF, "github": GITHUB}[fmt]
    assert reporters.render(fmt, [_report()]) == expected.replace("{VERSION}", __version__)
