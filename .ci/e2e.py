"""End-to-end check of the merge gate, as a user meets it (issue 8), run by .ci/run after the tests.

From a fresh virtualenv with nothing but our built wheel (and its dependencies from the package index):
``cdk init`` every template, ``cdk ci`` green; one violation of each kind injected into a copy, ``cdk ci``
red naming the right rule; publish to a real pypiserver on 127.0.0.1 (with authentication), install the
connector from it into another fresh virtualenv, and find it there. Prints how long each stage took and
closes with ``e2e: N passed, M failed``; exits 1 if anything failed.

What the pytest suite already proves in-process is not repeated at full cost here: the violation and
release-rule runs stop after ``validate``/``release`` (``--skip test --skip build``; the green run has
tested and built the same connector), and independent stages run side by side: the four ``cdk init``
runs, the consumer virtualenv and pypiserver while our wheel installs, and the green ``cdk ci`` next to
the violations and the publish flow (which work on copies, never on the folders the green run reads).

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
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ("source-python", "destination-python", "source-streaming", "source-declarative")
PASSED: list[str] = []
FAILED: list[str] = []
TIMES: list[tuple[str, float]] = []
LOCK = threading.Lock()  # stages of concurrent threads record and print one at a time


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
            with LOCK:
                print(f"== {name}", flush=True)

        def __exit__(self, kind, exc, tb):
            took = time.perf_counter() - self.t0
            with LOCK:
                TIMES.append((name, took))
                if exc is not None:
                    FAILED.append(f"{name}: {exc}")
                    print(f"   FAILED after {took:.1f} s: {name}: {exc}", flush=True)
                else:
                    PASSED.append(name)
                    print(f"   ok ({took:.1f} s): {name}", flush=True)
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
    pool = ThreadPoolExecutor(max_workers=4)

    with stage("build our wheel"):
        dist = work / "dist"
        sh(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, ROOT)
        wheel = next(dist.glob("connector_cdk-*.whl"))
    if wheel is None:
        return finish(work, args.work is None, started)

    # side by side with the install below: pypiserver and the consumer's virtualenv (used at the end)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server_started = pool.submit(start_pypiserver, work, port)
    consumer_venv = pool.submit(
        make_venv_stage, "create the consumer's fresh virtualenv", work / "venv-consumer"
    )

    with stage("install it into a fresh virtualenv"):
        bindir = venv(work / "venv")
        sh(bindir / "python", "-m", "pip", "install", "-q", wheel, "hatchling")
        expect("cdk " in sh(bindir / "cdk", "--version").stdout, "cdk --version")
    server = server_started.result()
    try:
        if bindir is not None:
            run_checks(pool, bindir / "cdk", work, wheel, url, consumer_venv)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        pool.shutdown()
    return finish(work, args.work is None, started)


def run_checks(pool: ThreadPoolExecutor, cdk: Path, work: Path, wheel: Path, url: str, consumer_venv) -> None:
    connectors = work / "connectors"
    env = {"CDK_HOME": str(work / "home")}

    with stage(f"cdk init each template ({', '.join(TEMPLATES)}), side by side"):
        listed = sh(cdk, "init", "--list").stdout
        for template in TEMPLATES:
            expect(template in listed, f"cdk init --list does not show {template}")
        inits = [
            pool.submit(sh, cdk, "init", connectors / t, "--template", t, "--no-input", env=env)
            for t in TEMPLATES
        ]
        for done in inits:
            done.result()

    base = connectors / "source-python"
    package = next(p for p in base.iterdir() if (p / "source.py").is_file())
    # copies taken before anything runs in the originals: the green run reads (and caches into) those
    published = work / "publish" / "source-python"
    shutil.copytree(base, published)
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
    for name, (_rule, _where, inject) in violations.items():
        copy = work / "violations" / name.replace(" ", "-")
        shutil.copytree(base, copy)
        inject(copy)
    green = pool.submit(green_ci, cdk, connectors, work, env)
    for name, (rule, where, _inject) in violations.items():
        with stage(f"violation: {name} -> cdk ci red with {rule}"):
            copy = work / "violations" / name.replace(" ", "-")
            # the violation is found by validate; test and build of this connector run in the green run
            code, result = ci_json(cdk, copy, "--skip", "test", "--skip", "build", env=env)
            rules = failing_rules(result)
            expect(code == 1, f"cdk ci exited {code}")
            expect(
                rule in rules.get(where, set()), f"expected {rule} in the failing {where} stage, got {rules}"
            )

    publish_flow(cdk, published, work, wheel, url, env, consumer_venv)
    green.result()


def green_ci(cdk: Path, connectors: Path, work: Path, env: dict) -> None:
    with stage("cdk ci on all of them: green"):
        code, result = ci_json(cdk, *sorted(connectors.iterdir()), "--reports", work / "reports", env=env)
        expect(code == 0, f"cdk ci failed: {failing_rules(result)}")
        expect(
            (work / "reports" / "validate.sarif").is_file() and (work / "reports" / "ci.junit.xml").is_file(),
            "reports missing",
        )


def start_pypiserver(work: Path, port: int) -> subprocess.Popen | None:
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
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/simple/", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("pypiserver did not start")
    return server


def make_venv_stage(name: str, path: Path) -> Path | None:
    with stage(name):
        return venv(path)
    return None


def publish_flow(cdk: Path, base: Path, work: Path, wheel: Path, url: str, env: dict, consumer_venv) -> None:
    reg_env = {**env, "CDK_REGISTRY_USERNAME": "ci", "CDK_REGISTRY_PASSWORD": "ci-secret-pw"}
    with stage("cdk publish 0.1.0 to pypiserver"):
        proc = sh(cdk, "publish", "0.1.0", "--connector", base, "--repository", url, env=reg_env)
        expect("ci-secret-pw" not in proc.stdout + proc.stderr, "the registry password was printed")
        expect(
            "source-python==0.1.0" in proc.stdout or "==0.1.0" in proc.stdout,
            f"no pin printed: {proc.stdout}",
        )

    # the release rules need only the registry and the version: validate runs, test and build were green above
    quick = ("--repository", url, "--skip", "test", "--skip", "build")
    with stage("violation: version not greater than the published one -> cdk ci red with V001"):
        code, result = ci_json(cdk, base, *quick, env=reg_env)
        expect(
            code == 1 and "V001" in failing_rules(result).get("release", set()),
            f"expected V001 in release, got {failing_rules(result)}",
        )

    with stage("a bumped version passes the release rules"):
        _sub(base / "connector.yaml", r"version: 0\.1\.0", "version: 0.1.1")
        _sub(base / "pyproject.toml", r'version = "0\.1\.0"', 'version = "0.1.1"')
        code, result = ci_json(cdk, base, *quick, env=reg_env)
        expect(code == 0, f"cdk ci failed: {failing_rules(result)}")

    with stage("install the published connector from pypiserver into a fresh virtualenv"):
        other = consumer_venv.result()
        expect(other is not None, "the consumer's virtualenv was not created")
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
