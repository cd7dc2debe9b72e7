"""Every JSON example of seed 003 (the declarative REST source specification), imported with
`cdk import source-spec` and read with `cdk read` against the imitation APIs on 127.0.0.1.

The examples are extracted from the document itself (data/seed003_source_spec.txt, a copy of the seed),
never retyped: an example that changes or stops importing fails here. E01..E16 are the examples in the
order the document prints them (``test_the_document_holds_the_examples_this_module_covers`` lists them).
Two are whole sourceSpecs and are imported as printed (E01 generic REST, E07 Mailchimp members); the
others are fragments of one, merged into a base as the document presents them:

* E04 contentPath, E05 urlParams, E06 spec: the parts of the Mailchimp members source the document
  explains before printing it whole. Merged into E07 they must give E07 back, and read the same.
* E08 OFFSET, E09 POINTER (printed without its key), E12 PAGE, E13 NONE, E02 queryParams and E03
  headerParams (table cells): each merged into ``catalog_base`` (a host, a path and a contentPath
  written here, since the fragments carry none) and read from the fake's /catalog, which speaks all of them.
* E10 CONTINUATION_TOKEN, E14 ADVANCE scheduleParams, E15 urlParams (the pipeline expression, verbatim)
  and E16 schema: together the document's Zendesk source; E11 (a Zendesk response) is what the fake
  answers. The document gives no host and no contentPath for it: ``zendesk_document`` adds the local
  host and ``$.results`` (the array of E11). E16 as printed lacks a comma: its import fails at that line,
  and the test inserts the comma where the error points.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml

from cdk.declarative.lenient import load_spec_text
from cdk.mappings import deep_merge
from tests.conftest import invoke_cdk

DOC = Path(__file__).parent / "data" / "seed003_source_spec.txt"
TEXT = DOC.read_text(encoding="utf-8")
# a JSON example starts with `"key": {` anywhere (two are in table cells) or with `{` at a line start
START = re.compile(r'(?:"(?P<key>[A-Za-z]+)"[ \t]*:[ \t]*|^)\{', re.M)


def _end(text: str, start: int) -> int:
    """Index after the bracket that closes the one at ``start`` (brackets in strings do not count)."""
    depth, quoted, escaped = 0, False, False
    for i in range(start, len(text)):
        c = text[i]
        if quoted:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    raise AssertionError(f"unbalanced JSON example at character {start} of {DOC.name}")


def extract_examples(text: str) -> list[tuple[str | None, int, str]]:
    """(key or None, line in the document, the example's text as printed) of every JSON example."""
    out: list[tuple[str | None, int, str]] = []
    pos = 0
    while (m := START.search(text, pos)) is not None:
        end = _end(text, m.end() - 1)
        out.append((m.group("key"), text.count("\n", 0, m.start()) + 1, text[m.start() : end]))
        pos = end
    return out


EXAMPLES = extract_examples(TEXT)
E = {f"E{i:02d}": example for i, example in enumerate(EXAMPLES, 1)}


def fragment(name: str) -> Any:
    """The value of a keyed example (``"key": {...}``) or a bare one, read as the user would paste it."""
    key, _, text = E[name]
    data, _ = load_spec_text("{" + text + "}" if key else text, f"{DOC.name}:{name}")
    return data[key] if key else data


def cdk(*args: str) -> subprocess.CompletedProcess[str]:
    """`cdk import` in-process (it only writes files); `cdk read`/`validate` as real subprocesses."""
    if args[0] == "import":
        return invoke_cdk(*args, text=True)
    return subprocess.run(
        [sys.executable, "-m", "cdk", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "NO_COLOR": "1"},
    )


def import_doc(tmp_path: Path, name: str, content: str, *extra: str) -> tuple[Path, dict[str, Any]]:
    src = tmp_path / f"{name}.json"
    src.write_text(content, encoding="utf-8")
    out = tmp_path / name
    result = cdk("import", "source-spec", str(src), "--out", str(out), "--format", "json", *extra)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    report["stderr"] = result.stderr
    return out, report


def read(out: Path, config: dict[str, Any], *extra: str) -> list[dict[str, Any]]:
    cfg = out / "secrets" / "config.json"
    cfg.write_text(json.dumps({"name": "seed", **config}))
    result = cdk("read", "-C", str(out), "--config", str(cfg), *extra)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def source_spec(params: dict[str, Any]) -> str:
    return json.dumps({"sourceSpec": {"attributes": params}}, indent=2)


def test_the_document_holds_the_examples_this_module_covers() -> None:
    keys = [key for key, _, _ in EXAMPLES]
    assert keys == [
        "sourceSpec",  # E01 generic REST (the request is user input)
        "queryParams",  # E02 table cell
        "headerParams",  # E03 table cell
        "contentPath",  # E04 Mailchimp members
        "urlParams",  # E05
        "spec",  # E06
        "sourceSpec",  # E07 Mailchimp members, complete
        "paginationParams",  # E08 OFFSET with end condition
        None,  # E09 POINTER (printed without its key)
        "paginationParams",  # E10 CONTINUATION_TOKEN
        None,  # E11 a Zendesk response
        "paginationParams",  # E12 PAGE
        "paginationParams",  # E13 NONE
        "scheduleParams",  # E14 ADVANCE
        "urlParams",  # E15 Zendesk path with a pipeline expression
        "schema",  # E16 custom schema
    ]


# -- E01: the generic REST form --------------------------------------------------------------------


def test_e01_generic_rest_source_imports_with_set_and_reads(tmp_path: Path, fake: Any) -> None:
    _, line, text = E["E01"]
    out, report = import_doc(
        tmp_path,
        "generic",
        text,
        "--set",
        f"urlParams.host={fake.url}",
        "--set",
        "urlParams.path=/3.0/reports/C9/email-activity",
        "--set",
        "contentPath.path=$.emails",
        "--set",
        "contentPath.overrideWrapperAttribute=email",
        "--set",
        "contentPath.skipAttributes=_links,total_items",
        "--set",
        "explodeEntityPath.path=$.email.activity",
        "--set",
        "explodeEntityPath.overrideWrapperAttribute=activity",
        "--set",
        "paginationParams.type=OFFSET",
        "--set",
        "paginationParams.limitName=count",
        "--set",
        "paginationParams.limitValue=3",
        "--set",
        "paginationParams.offsetName=offset",
    )
    # printed with trailing commas: read as JSON5, and the first one is named (line 48 of the example)
    first_comma = text.index(",\n}")
    comma_line = text.count("\n", 0, first_comma) + 1
    assert report["warnings"] == [
        f"{tmp_path / 'generic.json'}:{comma_line}:{first_comma - text.rfind(chr(10), 0, first_comma)}: "
        "not strict JSON: a trailing comma (read as JSON5; the first such construct is here, there may be more)"
    ]
    assert "warning:" in report["stderr"]
    assert "urlParams.method not given: GET" in report["notes"]
    assert report["stream"] == "emails"
    assert cdk("validate", str(out)).returncode == 0
    rows = read(out, {})
    # 7 emails, the odd ones with two activities: 11 records, each an activity beside its email
    assert len(rows) == 11
    assert rows[0]["data"]["activity"]["action"] == "open" and rows[0]["data"]["email"]["email_id"] == "e1"
    assert "_links" not in rows[0]["data"] and "activity" not in rows[0]["data"]["email"]
    assert [q["offset"] for q in fake.queries("/3.0/reports/C9/")] == [["0"], ["3"], ["6"], ["7"]]
    assert line == 3


def test_e01_without_required_inputs_lists_them(tmp_path: Path) -> None:
    src = tmp_path / "generic.json"
    src.write_text(E["E01"][2])
    result = cdk(
        "import", "source-spec", str(src), "--out", str(tmp_path / "o"), "--set", "urlParams.path=/x"
    )
    assert result.returncode == 2
    assert "urlParams.host (string, e.g. https://{domain}.api.mailchimp.com)" in result.stderr
    assert "contentPath.path (string, e.g. $.emails)" in result.stderr
    assert "urlParams.path" not in result.stderr.split("missing:")[1].split("hint")[0]
    assert not (tmp_path / "o").exists()
    bad = cdk("import", "source-spec", str(src), "--out", str(tmp_path / "o"), "--set", "urlParams.hots=x")
    assert bad.returncode == 2 and "no such input" in bad.stderr and "urlParams.host" in bad.stderr


def test_e01_asks_for_missing_inputs_in_a_terminal(tmp_path: Path, fake: Any) -> None:
    import pty

    src = tmp_path / "generic.json"
    src.write_text(E["E01"][2])
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cdk", "import", "source-spec", str(src), "--out", str(tmp_path / "o")],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    os.close(slave)
    os.write(master, f"{fake.url}\n/3.0/reports/C9/email-activity\n$.emails\n".encode())
    stdout, stderr = proc.communicate(timeout=120)
    os.close(master)
    assert proc.returncode == 0, stderr
    assert "urlParams.host (string" in stderr and "contentPath.path (string" in stderr
    manifest = yaml.safe_load((tmp_path / "o" / "connector.yaml").read_text())
    assert manifest["declarative"]["streams"]["emails"]["urlParams"] == {
        "host": fake.url,
        "path": "/3.0/reports/C9/email-activity",
        "method": "GET",
    }
    # the three answers are enough: it validates and reads (one request, no pagination given)
    validate = cdk("validate", str(tmp_path / "o"))
    assert validate.returncode == 0, validate.stdout + validate.stderr
    rows = read(tmp_path / "o", {})
    assert [r["data"]["emails"]["email_id"] for r in rows] == [f"e{i}" for i in range(1, 8)]
    assert len(fake.queries("/3.0/reports/C9/")) == 1


# -- E04-E07: Mailchimp members ----------------------------------------------------------------------


def _to_local_mailchimp(out: Path, fake: Any) -> None:
    """The one change to reach the local server: scheme and host suffix ({domain} stays a placeholder)."""
    text = (out / "connector.yaml").read_text()
    port = fake.url.rsplit(":", 1)[1]
    text = text.replace("host: https://{domain}.api.mailchimp.com", f"host: http://{{domain}}:{port}")
    (out / "connector.yaml").write_text(text.replace("- '*.api.mailchimp.com'", "- 127.0.0.1"))


@pytest.mark.parametrize("form", ["E07 as printed", "E04+E05+E06 merged into E07"])
def test_mailchimp_members_examples_import_and_read(tmp_path: Path, fake: Any, form: str) -> None:
    content = "{" + E["E07"][2] + "}"
    if form.startswith("E04"):
        whole = json.loads(content)
        merged = json.loads(content)
        attributes = merged["sourceSpec"]["attributes"]
        attributes["contentPath"] = fragment("E04")
        attributes["urlParams"] = deep_merge(attributes["urlParams"], fragment("E05"))
        merged["sourceSpec"]["spec"] = fragment("E06")
        assert merged == whole, "the parts the document explains are the parts of the whole example"
        content = json.dumps(merged)
    out, report = import_doc(
        tmp_path, "mc", content, "--primary-key", "member.id", "--cursor-field", "member.last_changed"
    )
    assert report["warnings"] == []  # printed as strict JSON
    _to_local_mailchimp(out, fake)
    rows = read(
        out, {"domain": "127.0.0.1", "listId": "L42"}, "--incremental", "--state", str(tmp_path / "s.json")
    )
    assert len(rows) == 250 and rows[0]["id"] == "m00001" and set(rows[0]["data"]) == {"member"}
    assert "_links" not in rows[0]["data"]["member"]
    queries = fake.queries("/3.0/lists/L42/members")
    assert [q["offset"] for q in queries] == [["0"], ["100"], ["200"], ["250"]]
    assert queries[0]["since_last_changed"] == ["1970-01-01T00:00:00:0000000Z"]  # the example's format


# -- E02, E03, E08, E09, E12, E13: merged into a catalogue base ------------------------------------------


def catalog_base(url: str) -> dict[str, Any]:
    """The part the pagination fragments do not carry: where the records are."""
    return {
        "urlParams": {"host": url, "path": "/catalog", "method": "GET"},
        "contentPath": {"path": "$.items"},
    }


@pytest.mark.parametrize(
    ("example", "items", "expected_queries"),
    [
        # OFFSET, limit 4, stops on the page whose hasMore is false (no empty request after it)
        (
            "E08",
            10,
            [
                {"limit": ["4"], "offset": ["0"]},
                {"limit": ["4"], "offset": ["4"]},
                {"limit": ["4"], "offset": ["8"]},
            ],
        ),
        # POINTER, limit 1 on the first request, then the absolute URLs of paging.next until null
        ("E09", 3, [{"limit": ["1"]}, {"cursor": ["1"], "limit": ["1"]}, {"cursor": ["2"], "limit": ["1"]}]),
        # PAGE from initialPageIndex 1 to the x-pagecount header (3 pages of 100)
        (
            "E12",
            250,
            [
                {"pageSize": ["100"], "pageNumber": ["1"]},
                {"pageSize": ["100"], "pageNumber": ["2"]},
                {"pageSize": ["100"], "pageNumber": ["3"]},
            ],
        ),
        # NONE: one request
        ("E13", 7, [{}]),
    ],
)
def test_pagination_examples_read_every_record(
    tmp_path: Path, fake: Any, example: str, items: int, expected_queries: list[dict[str, list[str]]]
) -> None:
    fake.catalog = items
    params = deep_merge(catalog_base(fake.url), {"paginationParams": fragment(example)})
    out, _ = import_doc(tmp_path, example.lower(), source_spec(params))
    rows = read(out, {})
    assert [r["data"]["items"]["id"] for r in rows] == list(range(1, items + 1))
    assert fake.queries("/catalog") == expected_queries


def test_query_and_header_param_examples_are_sent(tmp_path: Path, fake: Any) -> None:
    params = catalog_base(fake.url)
    params["urlParams"]["queryParams"] = fragment("E02")
    params["headerParams"] = fragment("E03")
    out, _ = import_doc(tmp_path, "params", source_spec(params))
    assert len(read(out, {})) == 10
    (request,) = fake.requests
    assert (
        request["query"] == "key=value&key1=value1"
    )  # "appended to the source URL as: /?key=value&key1=value1"
    assert (
        request["headers"]["x-api-key"] == "key" and request["headers"]["Content-Type"] == "application/json"
    )


# -- E10, E11, E14, E15, E16: the Zendesk source ------------------------------------------------------


def zendesk_document(url: str, schema_text: str) -> str:
    """E15 urlParams (+ the local host), E10 pagination, E14 schedule, $.results, and E16 as printed."""
    params = {
        "urlParams": deep_merge({"host": url}, fragment("E15")),
        "contentPath": {"path": "$.results"},
        "paginationParams": fragment("E10"),
        "scheduleParams": fragment("E14"),
    }
    body = json.dumps(params, indent=2)[:-2]  # the object without its closing brace
    return '{"name": "Zendesk Users", "sourceSpec": {"attributes": ' + body + ",\n" + schema_text + "\n}}}\n"


def test_zendesk_example_with_its_pipeline_expression_reads_both_branches(tmp_path: Path, fake: Any) -> None:
    fake.zendesk_item = fragment("E11")["results"][0]  # the document's response example
    path_as_printed = fragment("E15")["path"]
    assert path_as_printed.startswith("/api/v2/search/export@{if(empty(coalesce(pipeline()?.parameters")

    # E16 as printed misses a comma: the import names the line, the test puts the comma there
    document = zendesk_document(fake.url, E["E16"][2])
    src = tmp_path / "zendesk.json"
    src.write_text(document)
    refused = cdk("import", "source-spec", str(src), "--out", str(tmp_path / "z"))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    found = re.search(
        rf"{re.escape(str(src))}:(\d+):(\d+): not valid JSON: Expecting ',' delimiter", refused.stderr
    )
    assert found, refused.stderr
    line, col = int(found.group(1)), int(found.group(2))
    lines = document.splitlines(keepends=True)
    assert lines[line - 1].strip() == '"active": {', "the error points at the key after the missing comma"
    before = "".join(lines[: line - 1]).rstrip()
    assert before.endswith("}")  # organization_id's closing brace, where the comma belongs
    fixed = before + "," + "\n" + "".join(lines[line - 1 :])
    assert col >= 1

    out, report = import_doc(tmp_path, "zendesk", fixed)
    manifest = yaml.safe_load((out / "connector.yaml").read_text())
    assert manifest["declarative"]["streams"]["results"]["urlParams"]["path"] == path_as_printed  # verbatim
    assert manifest["streams"][0]["primary_key"] == ["results.id"]
    assert manifest["streams"][0]["cursor_field"] == "results.updated_at"
    assert not any("R007" in n for n in report["notes"]), report["notes"]
    validate = cdk("validate", str(out))
    assert validate.returncode == 0, validate.stdout + validate.stderr

    # full refresh: no ingestionStart, so the if() adds the backfill's query to the path
    rows = read(out, {})
    assert len(rows) == 23 and rows[0]["data"]["results"]["email"] == "user1@zenaep.com"
    assert rows[0]["data"]["results"]["created_at"] == "2022-04-22T10:27:30Z"  # copied from the example
    first = [r for r in fake.requests if r["path"] == "/api/v2/search/export"]
    assert unquote(first[0]["query"]).startswith("query=type:user&filter[type]=user&&query=type:user+updated")
    queries = [q["query"] for q in fake.queries("/api/v2/search/export")]
    assert all(q[0] == "type:user" and q[1].startswith("type:user updated < ") for q in queries)
    assert len(first) == 4  # 10 + 10 + 3, then an empty page ends the tokens

    # incremental: ingestionStart is set, so the path is the bare export and only the schedule's query goes
    fake.requests.clear()
    state = str(tmp_path / "state.json")
    rows = read(out, {}, "--incremental", "--state", state)
    assert len(rows) == 23
    second = [r for r in fake.requests if r["path"] == "/api/v2/search/export"]
    assert second and all(not unquote(r["query"]).startswith("query=type:user&") for r in second)
    queries = [q["query"] for q in fake.queries("/api/v2/search/export")]
    assert all(
        len(q) == 1 and q[0].startswith("type:user updated > 1970-01-01T00:00:00Z updated < ")
        for q in queries
    )

    # the next run starts at the cursor reached: only the users updated since
    fake.users = 26
    fake.requests.clear()
    rows = read(out, {}, "--incremental", "--state", state)
    assert [r["data"]["results"]["name"] for r in rows] == [f"user{i}@zenaep.com" for i in (24, 25, 26)]
    queries = [q["query"] for q in fake.queries("/api/v2/search/export")]
    assert queries[0][0].startswith("type:user updated > 2024-01-24T00:00:00Z updated < ")
