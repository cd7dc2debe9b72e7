"""Publishing under real concurrency and real SIGKILL, against the folder registry.

* 10 pairs of concurrent ``cdk publish`` of two versions: the version check is repeated under the
  registry lock right before the upload, so the greater version never lands before the smaller one is
  accepted; a loser exits 1 saying why.
* ``cdk publish`` killed with SIGKILL at 20 moments spread over a whole publish: after each kill the index
  is consistent (every listed file exists with its sha256, the root lists exactly the projects), pip
  installs every listed version, and the next publish sweeps temporary files a kill left."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

from conftest import write_connector

from cdk.publish.registry import FolderRegistry, parse_simple_html, version_of

GATE = "--skip-gate"


def start(connector: Path, registry: Path, env: dict[str, str], version: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cdk", "publish", version, "--repository", str(registry), GATE],
        cwd=connector,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_publishes_never_land_out_of_order(tmp_path: Path, cdk_env: dict[str, str]) -> None:
    registry = tmp_path / "registry"
    outcomes = []
    for k in range(1, 11):
        low, high = f"{k}.1.0", f"{k}.2.0"
        # two working copies of one connector, as two CI jobs would have
        a = write_connector(tmp_path / f"a{k}", version=low, git=False)
        b = write_connector(tmp_path / f"b{k}", version=high, git=False)
        procs = {low: start(a, registry, cdk_env, low), high: start(b, registry, cdk_env, high)}
        done = {v: p.communicate(timeout=300) for v, p in procs.items()}
        codes = {v: procs[v].returncode for v in procs}
        assert codes[high] == 0, done[high][1]
        project = FolderRegistry(registry).project_dir("acme-connector")
        if codes[low] == 0:
            # both accepted: then the smaller one landed first
            t_low = (project / f"acme_connector-{low}-py3-none-any.whl").stat().st_mtime_ns
            t_high = (project / f"acme_connector-{high}-py3-none-any.whl").stat().st_mtime_ns
            assert t_low <= t_high
            outcomes.append("both")
        else:
            assert codes[low] == 1, done[low][1]
            err = done[low][1]
            assert f"{low} is not greater than" in err and high in err, err
            assert not (project / f"acme_connector-{low}-py3-none-any.whl").exists()
            outcomes.append("low refused")
    listed = [f.version for f in FolderRegistry(registry).files("acme-connector")]
    # the index order is the semver order, and no version below an earlier accepted one ever landed
    assert listed == sorted(listed, key=lambda v: tuple(map(int, v.split("."))))
    print("outcomes:", outcomes)


def check_consistent(root: Path) -> list[str]:
    """Every file the index lists exists with its sha256; the root lists exactly the projects that have an
    index. Returns the versions of acme-connector listed."""
    simple = root / "simple"
    if not (simple / "index.html").exists():
        assert not list(simple.glob("*/index.html")), "project indexes without a root index"
        return []
    root_text = (simple / "index.html").read_text()
    projects = {p.name for p in simple.iterdir() if (p / "index.html").is_file()}
    for name in projects:
        assert f'href="{name}/"' in root_text, f"{name} has an index but the root does not list it"
        index = simple / name / "index.html"
        for f in parse_simple_html(index.read_text(), index.as_uri()):
            data = (simple / name / f.filename).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f.sha256, f"{f.filename} does not match its index"
    if "acme-connector" not in projects:
        return []
    index = simple / "acme-connector" / "index.html"
    return sorted({f.version for f in parse_simple_html(index.read_text(), index.as_uri())})


def test_sigkill_at_20_moments_leaves_a_consistent_installable_registry(
    tmp_path: Path, cdk_env: dict[str, str]
) -> None:
    registry = tmp_path / "registry"
    connector = write_connector(tmp_path / "acme")
    # one uninterrupted publish that also uploads connector-cdk, then one timed to learn how long a publish
    # takes here
    first = start(connector, registry, cdk_env, "0.1.0")
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    t0 = time.monotonic()
    second = start(connector, registry, cdk_env, "patch")
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    full = time.monotonic() - t0
    index_url = FolderRegistry(registry).index_url
    downloads = tmp_path / "downloads"
    verified: set[str] = set()
    killed_with_tmp = 0
    for i in range(20):
        proc = start(connector, registry, cdk_env, "patch")  # the next patch after the latest published
        time.sleep(full * (0.2 + 0.9 * i / 19))  # from early in the build to just after the end
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        killed_with_tmp += bool(list(registry.glob("simple/*/.*.tmp")))
        listed = check_consistent(registry)
        for v in [v for v in listed if v not in verified]:
            got = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--no-deps",
                    "--disable-pip-version-check",
                    "--index-url",
                    index_url,
                    "-d",
                    str(downloads),
                    f"acme-connector=={v}",
                ],
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert got.returncode == 0, got.stderr
            verified.add(v)
    # a last, uninterrupted publish sweeps whatever temporary files the kills left
    last = start(connector, registry, cdk_env, "patch")
    _, err = last.communicate(timeout=300)
    assert last.returncode == 0, err
    assert not list(registry.rglob("*.tmp"))
    listed = check_consistent(registry)
    # and pip installs every version the index lists, into a new virtualenv
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    for v in listed:
        got = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(env_dir / "bin" / "python"),
                "install",
                "-q",
                "--no-deps",
                "--force-reinstall",
                "--disable-pip-version-check",
                "--index-url",
                index_url,
                f"acme-connector=={v}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert got.returncode == 0, (v, got.stderr)
    assert len(listed) >= 3, listed  # some killed publishes got through their upload
    print(f"one publish: {full:.1f}s; versions listed: {listed}; kills that left a .tmp: {killed_with_tmp}")
    assert all(version_of(p.name) for p in registry.glob("simple/acme-connector/*.whl"))
