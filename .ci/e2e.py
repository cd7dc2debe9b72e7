"""End-to-end check of the merge gate, as a user meets it (issue 8), run by .ci/run after the tests.

From a fresh virtualenv with nothing but our built wheel (and its dependencies from the package index):
``cdk init`` every template, ``cdk ci`` green; one violation of each kind injected into a copy, ``cdk ci``
red naming the right rule; publish to a real pypiserver on 127.0.0.1 (with authentication), install the
connector from it into another fresh virtualenv, and find it there. Prints how long each stage took and
closes with ``e2e: N passed, M failed``; exits 1 if anything failed.

    python .ci/e2e.py [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ("source-python", "destination-python", "source-streaming", "source-declarative")
PASSED: list[str] = []
FAILED: list[str] = []
TIMES: list[tuple[str, float]] = []


def sh(
    *cmd: str | Path,
    cwd: Path | None = None,
    env: dict | None = None,
    ok: tuple[int, ...] = (0,),
    timeout: float = 900,
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )
    if proc.returncode not in ok:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def stage(name: str):
    class _Stage:
        def __enter__(self):
            self.t0 = time.perf_counter()
            print(f"== {name}", flush=True)

        def __exit__(self, kind, exc, tb):
            took = time.perf_counter() - self.t0
            TIMES.append((name, took))
            if exc is not None:
                FAILED.append(f"{name}: {exc}")
                print(f"   FAILED after {took:.1f} s: {exc}", flush=True)
            else:
                PASSED.append(name)
                print(f"   ok ({took:.1f} s)", flush=True)
            return True  # record and go on: one run shows every failure

    return _Stage()


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def venv(path: Path) -> Path:
    sh(sys.executable, "-m", "venv", path)
    return path / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ci_json(cdk: Path, *args: str | Path, env: dict | None = None) -> tuple[int, dict]:
    proc = sh(cdk, "ci", *args, "--format", "json", env=env, ok=(0, 1))
    return proc.returncode, json.loads(proc.stdout)


def failing_rules(result: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s in result["stages"]:
        if s["status"] == "failed":
            out.setdefault(s["stage"], set()).update(s["rules"] or ["(no rule)"])
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed after)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cdk-e2e-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    bindir: Path | None = None
    wheel: Path | None = None

    with stage("build our wheel"):
        dist = work / "dist"
        sh(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, ROOT)
        wheel = next(dist.glob("connector_cdk-*.whl"))

    with stage("install it into a fresh virtualenv"):
        bindir = venv(work / "venv")
        sh(bindir / "python", "-m", "pip", "install", "-q", wheel, "hatchling")
        expect("cdk " in sh(bindir / "cdk", "--version").stdout, "cdk --version")
    if bindir is None or wheel is None:
        return finish(work, args.work is None, started)
    cdk = bindir / "cdk"
    connectors = work / "connectors"
    env = {"CDK_HOME": str(work / "home")}

    with stage(f"cdk init each template ({', '.join(TEMPLATES)})"):
        listed = sh(cdk, "init", "--list").stdout
        for template in TEMPLATES:
            expect(template in listed, f"cdk init --list does not show {template}")
            sh(cdk, "init", connectors / template, "--template", template, "--no-input", env=env)

    with stage("cdk ci on all of them: green"):
        code, result = ci_json(cdk, *sorted(connectors.iterdir()), "--reports", work / "reports", env=env)
        expect(code == 0, f"cdk ci failed: {failing_rules(result)}")
        expect(
            (work / "reports" / "validate.sarif").is_file() and (work / "reports" / "ci.junit.xml").is_file(),
            "reports missing",
        )

    base = connectors / "source-python"
    package = next(p for p in base.iterdir() if (p / "source.py").is_file())
    violations = {
        "blocked import": (
            "S001",
            "validate",
            lambda d: _append(d / package.name / "source.py", "\nimport os\n"),
        ),
        "disallowed dependency": (
            "D001",
            "validate",
            lambda d: _sub(
                d / "pyproject.toml", r"dependencies = \[", 'dependencies = [\n  "leftpad-extreme>=1.0,<2",'
            ),
        ),
        "leaked secret in a cassette": (
            "F001",
            "validate",
            lambda d: _sub(
                d / "tests" / "cassettes" / "read-users.json",
                r'"Accept": "\*/\*"',
                '"Accept": "*/*", "Authorization": "Bearer sk_live_4eC39HqLyjWDarjtT1zdp7dc"',
            ),
        ),
        "missing required method": (
            "A001",
            "validate",
            lambda d: _sub(
                d / package.name / "source.py", r"def check_connection\(", "def check_connection_renamed("
            ),
        ),
    }
    for name, (rule, where, inject) in violations.items():
        with stage(f"violation: {name} -> cdk ci red with {rule}"):
            copy = work / "violations" / name.replace(" ", "-")
            shutil.copytree(base, copy)
            inject(copy)
            code, result = ci_json(cdk, copy, "--skip", "build", env=env)
            rules = failing_rules(result)
            expect(code == 1, f"cdk ci exited {code}")
            expect(
                rule in rules.get(where, set()), f"expected {rule} in the failing {where} stage, got {rules}"
            )

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = None
    with stage("start pypiserver (htpasswd auth) on 127.0.0.1"):
        packages = work / "pypi"
        packages.mkdir()
        htpasswd = work / "htpasswd"
        from passlib.apache import HtpasswdFile

        ht = HtpasswdFile(str(htpasswd), new=True)
        ht.set_password("ci", "ci-secret-pw")
        ht.save()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pypiserver",
                "run",
                "-p",
                str(port),
                "-i",
                "127.0.0.1",
                "-P",
                str(htpasswd),
                "-a",
                "update",
                str(packages),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/simple/", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("pypiserver did not start")
    reg_env = {**env, "CDK_REGISTRY_USERNAME": "ci", "CDK_REGISTRY_PASSWORD": "ci-secret-pw"}
    try:
        with stage("cdk publish 0.1.0 to pypiserver"):
            proc = sh(cdk, "publish", "0.1.0", "--connector", base, "--repository", url, env=reg_env)
            expect("ci-secret-pw" not in proc.stdout + proc.stderr, "the registry password was printed")
            expect(
                "source-python==0.1.0" in proc.stdout or "==0.1.0" in proc.stdout,
                f"no pin printed: {proc.stdout}",
            )

        with stage("violation: version not greater than the published one -> cdk ci red with V001"):
            code, result = ci_json(cdk, base, "--repository", url, "--skip", "build", env=reg_env)
            expect(
                code == 1 and "V001" in failing_rules(result).get("release", set()),
                f"expected V001 in release, got {failing_rules(result)}",
            )

        with stage("a bumped version passes the release rules"):
            _sub(base / "connector.yaml", r"version: 0\.1\.0", "version: 0.1.1")
            _sub(base / "pyproject.toml", r'version = "0\.1\.0"', 'version = "0.1.1"')
            code, result = ci_json(cdk, base, "--repository", url, "--skip", "build", env=reg_env)
            expect(code == 0, f"cdk ci failed: {failing_rules(result)}")

        with stage("install the published connector from pypiserver into a fresh virtualenv"):
            other = venv(work / "venv-consumer")
            dist_name = re.search(r'^name = "([^"]+)"', (base / "pyproject.toml").read_text(), re.M).group(1)
            sh(
                other / "python",
                "-m",
                "pip",
                "install",
                "-q",
                "--index-url",
                f"{url}/simple/",
                "--find-links",
                wheel.parent,
                f"{dist_name}==0.1.0",
            )
            found = sh(other / "cdk", "connectors", "--format", "json").stdout
            expect(dist_name in found and "0.1.0" in found, f"cdk connectors does not list it: {found}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    return finish(work, args.work is None, started)


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def _sub(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text()
    new, count = re.subn(pattern, replacement.replace("\\", "\\\\"), text, count=1)
    if count != 1:
        raise AssertionError(f"{path.name}: pattern {pattern!r} not found")
    path.write_text(new)


def finish(work: Path, remove: bool, started: float) -> int:
    print("\nstage times:")
    for name, took in TIMES:
        print(f"  {took:7.1f} s  {name}")
    print(f"  {time.perf_counter() - started:7.1f} s  total")
    for failure in FAILED:
        print(f"FAILED {failure}")
    if remove:
        shutil.rmtree(work, ignore_errors=True)
    print(f"e2e: {len(PASSED)} passed, {len(FAILED)} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
