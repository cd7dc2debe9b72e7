"""`cdk run` against a hostile user: Ctrl-C during a concurrent run, destination ids that are paths, SQL,
case variants or too long for a file or table name, and broken pipeline files.

Real subprocesses where a signal matters; real SQLite files and jsonl folders.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import jsonl, run_cdk

PAGED = '''"""Pages of 50 records per stream, each page taking `delay` seconds."""

import time

import pytest
from pathlib import Path

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class PagedConfig(SourceConfig):
    pages: int = 40
    delay: float = 0.0
    route: str = ""


class PagedSource(AbstractSource):
    @staticmethod
    def streams():
        return ["s1", "s2", "s3", "s4"]

    @staticmethod
    def get_config_class():
        return PagedConfig

    def check_connection(self):
        return True, None

    def get(self, pagination=None):
        p = (pagination or {}).get("p", 0)
        time.sleep(self.config.delay)
        records = [
            SourceRecord(id=f"{self.config.stream}-{p}-{i}", data={"p": p, "i": i}, destination_id=self.config.route or None)
            for i in range(50)
        ]
        return SourceIteration(records=records, next_pagination={"p": p + 1} if p + 1 < self.config.pages else {})
'''

ROUTED = '''"""One record per destination id of the config, all with the same record id."""

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class RoutedConfig(SourceConfig):
    targets: list[str] = []


class RoutedSource(AbstractSource):
    @staticmethod
    def streams():
        return ["users"]

    @staticmethod
    def get_config_class():
        return RoutedConfig

    def check_connection(self):
        return True, None

    def get(self, pagination=None):
        records = [SourceRecord(id="1", data={"target": t}, destination_id=t) for t in self.config.targets]
        return SourceIteration(records=records, next_pagination={})
'''


def test_ctrl_c_stops_every_concurrent_stream_promptly_and_keeps_only_acknowledged_state(tmp_path):
    (tmp_path / "paged.py").write_text(PAGED)
    (tmp_path / "p.yml").write_text(
        "name: ctrl-c\nsource:\n  name: paged\n  streams: [s1, s2]\n  delay: 0.15\n"
        "destination:\n  name: jsonl\n  config: {path: out}\n"
    )
    cmd = [sys.executable, "-m", "cdk", "run", "p.yml", "--custom-source", "paged.py", "-q"]
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a terminal's Ctrl-C
    )
    state_file = tmp_path / ".cdk" / "state" / "ctrl-c.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # interrupt once both streams have checkpointed a few pages
        try:
            streams = json.loads(state_file.read_text())["streams"]
            if len(streams) == 2 and all(s["pages"] >= 3 for s in streams.values()):
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=60)
    waited = time.monotonic() - sent
    assert proc.returncode == 130, err.decode()
    # before: the other streams read to their end (40 pages of 0.15 s) before the process exited
    assert waited < 2.0, f"took {waited:.1f}s to stop after Ctrl-C"
    streams = json.loads(state_file.read_text())["streams"]
    for name, entry in streams.items():
        assert entry["status"] == "running" and entry["pages"] < 40
        lines = jsonl((tmp_path / "out" / f"{name}.jsonl").read_bytes())
        assert len(lines) >= entry["records"]  # all the state covers is in the file
    again = run_cdk("run", "p.yml", "--custom-source", "paged.py", "-q", cwd=tmp_path, timeout=120)
    assert again.returncode == 0, again.stderr.decode()
    for name in ("s1", "s2"):
        ids = [r["id"] for r in jsonl((tmp_path / "out" / f"{name}.jsonl").read_bytes())]
        assert len(ids) == 2000 and len(set(ids)) == 2000  # nothing lost, nothing twice


HOSTILE_IDS = [
    "../../etc/passwd",
    "/tmp/cdk-run-absolute-target",
    "..",
    "with space",
    "ünïcode",
    'x"; DROP TABLE y; --',
    "order",
    "select",
    "nul\x00x",
    "L" * 300,
]
# each id's file or table name: the last dotted part, anything but A-Za-z0-9_- as _, cut to 63 with a hash
HOSTILE_NAMES = {
    "_etc_passwd",
    "_tmp_cdk-run-absolute-target",
    "__",
    "with_space",
    "_n_code",
    "x___DROP_TABLE_y__--",
    "order",
    "select",
    "nul_x",
}


def routed(tmp_path: Path, targets: list[str], destination: str) -> subprocess.CompletedProcess[bytes]:
    (tmp_path / "routed.py").write_text(ROUTED)
    quoted = ", ".join(json.dumps(t) for t in targets)  # JSON strings are YAML double-quoted strings
    (tmp_path / "p.yml").write_text(
        f"name: routed\nsource:\n  name: routed\n  stream: users\n  targets: [{quoted}]\n"
        f"destination:\n{destination}"
    )
    return run_cdk("run", "p.yml", "--custom-source", "routed.py", "--format", "json", cwd=tmp_path)


def test_hostile_destination_ids_become_files_inside_the_folder(tmp_path):
    result = routed(tmp_path, HOSTILE_IDS, "  name: jsonl\n  config: {path: out}\n")
    assert result.returncode == 0, result.stderr.decode()
    files = {p.name for p in (tmp_path / "out").iterdir()}
    long = [f for f in files if f.startswith("LLL")]
    assert files - set(long) == {f"{n}.jsonl" for n in HOSTILE_NAMES}
    # before: the 300-character id failed the run with "File name too long" (exit 3, "an outside failure")
    assert len(long) == 1 and len(long[0]) == 63 + len(".jsonl")
    for f in (tmp_path / "out").iterdir():
        assert len(jsonl(f.read_bytes())) == 1
    assert not Path("/tmp/cdk-run-absolute-target.jsonl").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cdk", "out", "p.yml", "routed.py"]


def test_hostile_destination_ids_become_quoted_tables_in_sqlite(tmp_path):
    db = sqlite3.connect(tmp_path / "out.db")
    db.execute("create table y (v)")
    db.execute("insert into y values (1)")
    db.commit()
    for _ in range(2):  # the second run finds every table made by the first
        result = routed(tmp_path, HOSTILE_IDS, "  name: sql\n  config: {url: 'sqlite:///out.db'}\n")
        assert result.returncode == 0, result.stderr.decode()
    tables = {r[0] for r in db.execute("select name from sqlite_master where type = 'table'")}
    long = [t for t in tables if t.startswith("LLL")]
    assert len(long) == 1 and len(long[0]) == 63
    assert tables - set(long) == HOSTILE_NAMES | {"y"}
    assert db.execute("select v from y").fetchall() == [(1,)]
    for table in tables - {"y"}:
        assert db.execute(f'select count(*) from "{table}"').fetchone() == (1,)


def test_long_destination_ids_do_not_meet_in_one_postgresql_table(tmp_path, postgres_server):
    import sqlalchemy as sa

    url = str(postgres_server.new_database("longnames"))
    ids = ["x" * 70 + "_clicks", "x" * 70 + "_views"]  # PostgreSQL cuts identifiers at 63 bytes
    for _ in range(2):  # before: the run failed, IdentifierError (over 63 characters)
        result = routed(tmp_path, ids, f"  name: sql\n  config: {{url: '{url}'}}\n")
        assert result.returncode == 0, result.stderr.decode()
    engine = sa.create_engine(url)
    try:
        names = sa.inspect(engine).get_table_names()
        assert len(names) == 2 and all(len(n) == 63 for n in names)
        with engine.connect() as conn:
            for name in names:
                assert conn.execute(sa.text(f'select count(*) from "{name}"')).scalar() == 1
    finally:
        engine.dispose()


def test_destination_ids_that_would_share_a_table_are_refused_before_writing(tmp_path):
    # "a/b" and "a_b" both become a_b, "Users" and "users" one SQLite table: with the same record id,
    # one upsert overwrote the other (before: exit 0, one row where two records were sent)
    for ids, first, second in ((["a/b", "a_b"], "a/b", "a_b"), (["Users", "users"], "Users", "users")):
        folder = tmp_path / first.replace("/", "-")
        folder.mkdir()
        result = routed(folder, ids, "  name: sql\n  config: {url: 'sqlite:///out.db'}\n")
        err = result.stderr.decode()
        assert result.returncode == 1, err
        assert f"destination ids '{first}' and '{second}' both map to the table" in err
        tables = sqlite3.connect(folder / "out.db").execute("select name from sqlite_master").fetchall()
        assert tables == []  # nothing of the page was written
        assert not (folder / ".cdk" / "state" / "routed.json").exists()  # no checkpoint either


def test_destination_ids_that_would_share_a_file_are_refused(tmp_path):
    result = routed(
        tmp_path, ["project.a.events", "project.b.events"], "  name: jsonl\n  config: {path: out}\n"
    )
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert "'project.a.events' and 'project.b.events' both map to the file 'events'" in err
    assert not (tmp_path / "out" / "events.jsonl").exists()


BROKEN_PIPELINES = [
    # (pipeline file, what stderr must say): every problem located FILE:LINE:COL, a typo with its fix
    ("name: x\nsource:\n  name: paged\n  stream: [s1\n", "p.yml:5:1: YAML syntax error"),
    (
        "name: x\nsource:\n  name: paged\n  stream: s1\ndestinaton:\n  name: logger\n",
        "p.yml:5:1: destinaton: unknown field; did you mean 'destination'?",
    ),
    (
        "name: x\nsource:\n  name: paged\n  stream: s1\ndestination:\n  name: logger\n  confg: {}\n",
        "p.yml:7:3: destination.confg: unknown field; did you mean 'config'?",
    ),
    (
        "name: [1]\nsource:\n  name: paged\n  stream: s1\ndestination:\n  name: logger\n",
        "p.yml:1:7: name: Input should be a valid string",
    ),
    (
        "name: x\nsource:\n  name: paged\n  stream: s1\n  max_iteration: 2\n  pages: many\n"
        "destination:\n  name: logger\n",
        "p.yml:5:3: max_iteration: unknown field; did you mean 'max_iterations'?",
    ),
    (
        "name: x\nsource:\n  name: paged\n  stream: s1\n  sync_mod: incremental\ndestination:\n  name: logger\n",
        "p.yml:5:3: sync_mod: unknown field; did you mean 'sync_mode'?",
    ),
    (
        "name: x\nsource:\n  name: paged\n  stream: s1\n  pages: many\ndestination:\n  name: logger\n",
        "p.yml:5:10: pages: Input should be a valid integer",
    ),
    (
        "name: x\nsource:\n  name: paged\n  stream: s1\ndestination:\n  name: jsonl\n"
        "  config: {path: out, max_batch_record: 3}\n",
        "p.yml:7:23: max_batch_record: unknown field; did you mean 'max_batch_records'?",
    ),
]


def test_a_broken_pipeline_file_is_located_with_the_fix_of_a_typo(tmp_path):
    (tmp_path / "paged.py").write_text(PAGED)
    for text, expected in BROKEN_PIPELINES:
        (tmp_path / "p.yml").write_text(text)
        result = run_cdk("run", "p.yml", "--custom-source", "paged.py", "-q", cwd=tmp_path)
        err = result.stderr.decode()
        assert result.returncode == 1, err
        assert expected in err, text  # before: "destinaton: unknown field", no line, no suggestion
        assert not (tmp_path / "out").exists() and not (tmp_path / ".cdk").exists()


MOODY_DESTINATION = '''"""Keeps each batch's ids in a file; on batch `at` it acknowledges one record short, raises, or hangs."""

import json
import time

import pytest

from cdk import AbstractDestination, DestinationConfig, WriteResult


class MoodyConfig(DestinationConfig):
    path: str
    mode: str = "ok"
    at: int = 0


class MoodyDestination(AbstractDestination):
    config: MoodyConfig
    max_batch_records = 20
    calls = 0

    @staticmethod
    def get_config_class():
        return MoodyConfig

    def check_connection(self):
        return True, None

    def write(self, stream, records):
        type(self).calls += 1
        if type(self).calls == self.config.at:
            if self.config.mode == "hang":
                time.sleep(300)
            if self.config.mode == "raise":
                raise ValueError("half the batch went in")
            if self.config.mode == "partial":
                with open(self.config.path, "a") as out:
                    out.write(json.dumps([r.id for r in records[:-1]]) + "\\n")
                return WriteResult(written=len(records) - 1, failed=1, errors=[f"{records[-1].id}: rejected"])
        with open(self.config.path, "a") as out:
            out.write(json.dumps([r.id for r in records]) + "\\n")
        return WriteResult(written=len(records))
'''

MOODY_MANIFEST = """manifest_version: 1
name: moody
version: 0.1.0
description: A destination that misbehaves on purpose
kind: destination
capabilities: [load]
entrypoint: moody.destination:MoodyDestination
"""


def moody(tmp_path: Path, mode: str, at: int) -> None:
    folder = tmp_path / "moody"
    if not folder.exists():
        (folder / "moody").mkdir(parents=True)
        (folder / "moody" / "__init__.py").write_text("")
        (folder / "moody" / "destination.py").write_text(MOODY_DESTINATION)
        (folder / "connector.yaml").write_text(MOODY_MANIFEST)
        (tmp_path / "paged.py").write_text(PAGED)
    (tmp_path / "p.yml").write_text(
        "name: moody\nsource:\n  name: paged\n  stream: s1\n  pages: 6\n"
        f"destination:\n  name: ./moody\n  config: {{path: batches.jsonl, mode: {mode}, at: {at}}}\n"
    )


def loaded(tmp_path: Path) -> list[str]:
    return [i for line in (tmp_path / "batches.jsonl").read_text().splitlines() for i in json.loads(line)]


def pagination(tmp_path: Path) -> object:
    return json.loads((tmp_path / ".cdk" / "state" / "moody.json").read_text())["streams"]["s1"]["pagination"]


def test_a_partial_or_raising_acknowledgement_keeps_the_state_before_the_page(tmp_path):
    everything = {f"s1-{p}-{i}" for p in range(6) for i in range(50)}
    for mode, message in (("partial", "acknowledged 19 of 20 records"), ("raise", "half the batch went in")):
        (tmp_path / "batches.jsonl").unlink(missing_ok=True)
        moody(tmp_path, mode, at=5)  # pages of 50 in batches of 20, 20, 10: batch 5 is in page 2
        first = run_cdk(
            "run", "p.yml", "--custom-source", "paged.py", "-q", "--ignore-checkpoint", cwd=tmp_path
        )
        err = first.stderr.decode()
        assert (
            first.returncode == 1 and message in err and "batch 5 (20 records, ids s1-1-20..s1-1-39)" in err
        ), err
        assert pagination(tmp_path) == {"p": 1}  # page 1 acknowledged, page 2 not
        moody(tmp_path, "ok", at=0)
        again = run_cdk("run", "p.yml", "--custom-source", "paged.py", "-q", cwd=tmp_path)
        assert again.returncode == 0, again.stderr.decode()
        assert set(loaded(tmp_path)) == everything  # the page is sent again whole: nothing lost


def test_ctrl_c_while_the_destination_hangs_exits_130_with_the_state_at_the_last_ack(tmp_path):
    moody(tmp_path, "hang", at=5)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cdk", "run", "p.yml", "--custom-source", "paged.py", "-q"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(loaded_or_empty(tmp_path)) < 60:
        time.sleep(0.05)  # batches 1-4 written: the fifth hangs
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err.decode()
    assert pagination(tmp_path) == {"p": 1}
    moody(tmp_path, "ok", at=0)
    again = run_cdk("run", "p.yml", "--custom-source", "paged.py", "-q", cwd=tmp_path)
    assert again.returncode == 0, again.stderr.decode()
    assert set(loaded(tmp_path)) == {f"s1-{p}-{i}" for p in range(6) for i in range(50)}


def loaded_or_empty(tmp_path: Path) -> list[str]:
    return loaded(tmp_path) if (tmp_path / "batches.jsonl").exists() else []


ODD_VALUES = '''"""Records holding what JSON has no value for."""

import datetime
import decimal

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class OddConfig(SourceConfig):
    broken: bool = False


class OddSource(AbstractSource):
    @staticmethod
    def streams():
        return ["users"]

    @staticmethod
    def get_config_class():
        return OddConfig

    def check_connection(self):
        return True, None

    def get(self, pagination=None):
        odd = {
            "when": datetime.datetime(2024, 1, 2, 3, 4, 5),
            "amount": decimal.Decimal("1.10"),
            "nan": float("nan"),
            "inf": float("inf"),
            "by_year": {2024: "a", 2025: {1: "b"}},
        }
        records = [SourceRecord(id="1", data=odd), SourceRecord(id="2", data={"plain": True})]
        if self.config.broken:
            records.append(SourceRecord(id="3", data={"text": "half a pair \\ud800"}))
        return SourceIteration(records=records, next_pagination={})
'''

ODD_AS_JSON = {
    "when": "2024-01-02T03:04:05",
    "amount": "1.10",
    "nan": None,
    "inf": None,
    "by_year": {"2024": "a", "2025": {"1": "b"}},
}


def odd(tmp_path: Path, destination: str, broken: bool = False) -> subprocess.CompletedProcess[bytes]:
    (tmp_path / "odd.py").write_text(ODD_VALUES)
    (tmp_path / "p.yml").write_text(
        f"name: odd\nsource:\n  name: odd\n  stream: users\n  broken: {str(broken).lower()}\n"
        f"destination:\n{destination}"
    )
    return run_cdk("run", "p.yml", "--custom-source", "odd.py", "-q", cwd=tmp_path)


def test_values_json_has_not_reach_jsonl_and_sql_alike(tmp_path):
    # before: the integer keys failed the run, "TypeError: Dict key must be str", blamed on the destination
    result = odd(tmp_path, "  name: jsonl\n  config: {path: out, max_batch_bytes: 100000}\n")
    assert result.returncode == 0, result.stderr.decode()
    rows = jsonl((tmp_path / "out" / "users.jsonl").read_bytes())
    assert [r["data"] for r in rows] == [ODD_AS_JSON, {"plain": True}]
    result = odd(tmp_path, "  name: sql\n  config: {url: 'sqlite:///out.db'}\n")
    assert result.returncode == 0, result.stderr.decode()
    data = sqlite3.connect(tmp_path / "out.db").execute("select data from users where id = '1'").fetchone()[0]
    assert json.loads(data) == ODD_AS_JSON
    logged = odd(tmp_path, "  name: logger\n  config: {}\n")
    assert logged.returncode == 0 and '"by_year":{"2024":"a","2025":{"1":"b"}}' in logged.stderr.decode()


def test_a_record_that_cannot_be_json_is_named_and_nothing_of_its_page_is_written(tmp_path):
    for destination in (
        "  name: jsonl\n  config: {path: out}\n",
        "  name: sql\n  config: {url: 'sqlite:///out.db'}\n",
        "  name: jsonl\n  config: {path: out, max_batch_bytes: 100000}\n",
    ):
        result = odd(tmp_path, destination, broken=True)
        err = result.stderr.decode()
        assert result.returncode == 1, err
        # before: "write() raised TypeError: ... surrogates not allowed", "a bug ... in the destination's code"
        assert "record id '3': it cannot be written as JSON" in err and "fix the source" in err, err
        assert (
            not (tmp_path / "out" / "users.jsonl").exists()
            or not (tmp_path / "out" / "users.jsonl").read_bytes()
        )
        assert not (tmp_path / ".cdk" / "state" / "odd.json").exists()


CHATTY_SOURCE = '''"""Logs its own config at DEBUG, as a connector being debugged does."""

import logging

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class ChattyConfig(SourceConfig):
    api_key: str


class ChattySource(AbstractSource):
    @staticmethod
    def streams():
        return ["users"]

    @staticmethod
    def get_config_class():
        return ChattyConfig

    def check_connection(self):
        logging.getLogger("chatty").debug("checking with api_key=%s", self.config.api_key)
        return True, None

    def get(self, pagination=None):
        logging.getLogger("chatty").debug("reading with api_key=%s", self.config.api_key)
        return SourceIteration(records=[SourceRecord(id="1", data={"n": 1})], next_pagination={})
'''

CHATTY_DESTINATION = '''"""Logs its own config at DEBUG."""

import logging

from cdk import AbstractDestination, DestinationConfig, WriteResult


class ChattyConfig(DestinationConfig):
    password: str


class ChattyDestination(AbstractDestination):
    config: ChattyConfig

    @staticmethod
    def get_config_class():
        return ChattyConfig

    def check_connection(self):
        logging.getLogger("chatty").debug("connecting with password %s", self.config.password)
        return True, None

    def write(self, stream, records):
        logging.getLogger("chatty").debug("writing with password %s", self.config.password)
        return WriteResult(written=len(records))
'''


def test_secrets_that_connector_code_logs_at_debug_are_masked(tmp_path):
    folder = tmp_path / "chatty-destination"
    (folder / "chatty_destination").mkdir(parents=True)
    (folder / "chatty_destination" / "__init__.py").write_text("")
    (folder / "chatty_destination" / "destination.py").write_text(CHATTY_DESTINATION)
    (folder / "connector.yaml").write_text(
        MOODY_MANIFEST.replace("name: moody", "name: chatty-destination").replace(
            "moody.destination:MoodyDestination", "chatty_destination.destination:ChattyDestination"
        )
    )
    (tmp_path / "chatty.py").write_text(CHATTY_SOURCE)
    (tmp_path / "p.yml").write_text(
        "name: chatty\nsource:\n  name: chatty\n  stream: users\n  api_key: CDK_ENV_CHATTY_KEY\n"
        "destination:\n  name: ./chatty-destination\n  config: {password: pw-Dest-0451-secret}\n"
    )
    env = {"CHATTY_KEY": "sk-Source-7781-secret"}
    for args in (["--log-level", "DEBUG"], ["--dry-run", "--log-level", "DEBUG"]):
        result = run_cdk("run", "p.yml", "--custom-source", "chatty.py", *args, cwd=tmp_path, env=env)
        out = result.stdout.decode() + result.stderr.decode()
        assert result.returncode == 0, out
        assert "with api_key=REDACTED" in out and "connecting with password REDACTED" in out
        # before: both values printed as they were in every DEBUG line
        assert "sk-Source-7781-secret" not in out and "pw-Dest-0451-secret" not in out


def test_two_streams_sharing_a_jsonl_file_lose_nothing_after_a_crash(tmp_path, monkeypatch):
    from cdk.pipelines import run_pipeline
    from cdk.sdk.runner import StateStore

    (tmp_path / "paged.py").write_text(PAGED)
    config = tmp_path / "p.yml"
    config.write_text(
        "name: shared\nsource:\n  name: paged\n  streams: [s1, s2]\n  pages: 3\n  route: shared\n"
        "destination:\n  name: jsonl\n  config: {path: out}\n"
    )
    real = StateStore.put
    puts: list[str] = []

    def dies_before_the_fifth_checkpoint(self: StateStore, stream: str, entry: dict) -> None:
        puts.append(stream)
        if len(puts) == 5:  # s1's three pages, s2's first: s2's second page written, never checkpointed
            raise KeyboardInterrupt
        real(self, stream, entry)

    monkeypatch.setattr(StateStore, "put", dies_before_the_fifth_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(config, custom_source=tmp_path / "paged.py", concurrency=1)
    monkeypatch.setattr(StateStore, "put", real)
    result = run_pipeline(config, custom_source=tmp_path / "paged.py", concurrency=1)
    assert [s.resumed_from for s in result.streams] == [None, {"p": 1}]
    ids = [r["id"] for r in jsonl((tmp_path / "out" / "shared.jsonl").read_bytes())]
    # before: resuming truncated the file back to s1's checkpoint, cutting s2's acknowledged first page
    assert set(ids) == {f"{s}-{p}-{i}" for s in ("s1", "s2") for p in range(3) for i in range(50)}


def test_hostile_destination_ids_become_quoted_tables_in_postgresql(tmp_path, postgres_server):
    import sqlalchemy as sa

    url = str(postgres_server.new_database("hostile"))
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("create table y (v int)"))
            conn.execute(sa.text("insert into y values (1)"))
        destination = f"  name: sql\n  config: {{url: '{url}'}}\n"
        # PostgreSQL text holds no NUL: before, the driver's DataError, "a bug ... in the destination's code"
        refused = routed(tmp_path, ["fine", "nul\x00x"], destination)
        assert refused.returncode == 1
        assert (
            "record id '1': its destination_id 'nul\\x00x' holds a NUL character" in refused.stderr.decode()
        )
        assert not (tmp_path / ".cdk" / "state" / "routed.json").exists()  # the page is not acknowledged
        with engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from nul_x")).scalar() == 0
        for _ in range(2):
            result = routed(tmp_path, [t for t in HOSTILE_IDS if "\x00" not in t], destination)
            assert result.returncode == 0, result.stderr.decode()
        tables = set(sa.inspect(engine).get_table_names())
        long = [t for t in tables if t.startswith("LLL")]
        assert len(long) == 1 and tables - set(long) == HOSTILE_NAMES | {"y", "fine"}
        with engine.connect() as conn:
            assert conn.execute(sa.text("select v from y")).scalar() == 1
            for table in tables - {"y", "nul_x"}:
                assert conn.execute(sa.text(f'select count(*) from "{table}"')).scalar() == 1
    finally:
        engine.dispose()


def test_a_full_disk_under_jsonl_stops_at_the_last_complete_page_and_the_next_run_completes(tmp_path):
    import resource

    (tmp_path / "paged.py").write_text(PAGED)
    (tmp_path / "p.yml").write_text(
        "name: full\nsource:\n  name: paged\n  stream: s1\n  pages: 40\n"
        "destination:\n  name: jsonl\n  config: {path: out}\n"
    )
    limit = 40_000  # bytes: the file grows ~2.8 kB a page, so the disk is "full" within page 15

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    cmd = [sys.executable, "-m", "cdk", "run", "p.yml", "--custom-source", "paged.py", "-q"]
    full = subprocess.run(cmd, cwd=tmp_path, capture_output=True, preexec_fn=small_disk, timeout=120)
    err = full.stderr.decode()
    assert full.returncode == 3 and "File too large" in err, err
    # before: the hint told a `cdk run` user to append (>>) to the same output, as for `cdk read`
    assert ">>" not in err and "run the same command again" in err
    text = (tmp_path / "out" / "s1.jsonl").read_bytes()
    assert text.endswith(b"\n") and len(text) <= limit  # no half line
    state = json.loads((tmp_path / ".cdk" / "state" / "full.json").read_text())["streams"]["s1"]
    assert len(jsonl(text)) == state["records"] == 50 * state["pages"]  # the state covers what is there
    again = run_cdk("run", "p.yml", "--custom-source", "paged.py", "-q", cwd=tmp_path, timeout=120)
    assert again.returncode == 0, again.stderr.decode()
    ids = [r["id"] for r in jsonl((tmp_path / "out" / "s1.jsonl").read_bytes())]
    assert len(ids) == 2000 and len(set(ids)) == 2000


def test_four_streams_at_once_into_one_sqlite_file_lose_no_batch(tmp_path):
    (tmp_path / "paged.py").write_text(PAGED)
    (tmp_path / "p.yml").write_text(
        "name: four\nsource:\n  name: paged\n  streams: [s1, s2, s3, s4]\n  pages: 20\n  route: all\n"
        "destination:\n  name: sql\n  config: {url: 'sqlite:///out.db', max_batch_records: 7}\n"
    )
    result = run_cdk(
        "run", "p.yml", "--custom-source", "paged.py", "--concurrency", "4", "--format", "json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr.decode()
    assert all(s["completed"] and s["records"] == 1000 for s in json.loads(result.stdout)["streams"])
    db = sqlite3.connect(tmp_path / "out.db")
    counts = dict(db.execute('select stream, count(distinct id) from "all" group by stream').fetchall())
    assert counts == {"s1": 1000, "s2": 1000, "s3": 1000, "s4": 1000}
    state = json.loads((tmp_path / ".cdk" / "state" / "four.json").read_text())["streams"]
    assert {s: e["status"] for s, e in state.items()} == {f"s{i}": "done" for i in range(1, 5)}


def test_a_broken_state_file_is_a_clear_error_naming_the_field(tmp_path):
    (tmp_path / "paged.py").write_text(PAGED)
    (tmp_path / "p.yml").write_text(
        "name: st\nsource:\n  name: paged\n  stream: s1\n  pages: 2\ndestination:\n  name: jsonl\n  config: {path: out}\n"
    )
    cases = [  # before: "internal error: AttributeError" / "ValueError", "please report it"
        ('{"streams": [1, 2]}', "state file: streams is list [1, 2], expected an object"),
        ('{"streams": {"s1": 5}}', "state file: streams.s1 is int 5, expected an object"),
        (
            '{"streams": {"s1": {"status": "running", "pagination": "zzz"}}}',
            'streams.s1.pagination is str "zzz", expected an object or null',
        ),
        (
            '{"streams": {"s1": {"destination_positions": {"s1": -4}}}}',
            "streams.s1.destination_positions.s1 is int -4, expected a size in bytes",
        ),
    ]
    for text, expected in cases:
        (tmp_path / "state.json").write_text(text)
        result = run_cdk("run", "p.yml", "--custom-source", "paged.py", "--state", "state.json", cwd=tmp_path)
        err = result.stderr.decode()
        assert result.returncode == 1 and expected in err and "internal error" not in err, err
        assert not list(tmp_path.glob("out/*"))  # refused before anything is read or written
        assert (tmp_path / "state.json").read_text() == text  # and the file is left as it was
