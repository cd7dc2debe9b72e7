"""The connector-cdk wheel that cdk publish uploads when the registry lacks it: built from the source
checkout, or — for a cdk installed from a wheel — re-assembled from the installed files. The re-assembled
wheel carries exactly the files of the wheel pip installed, byte for byte, and pip installs it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from cdk.publish.build import build_project

REPO = Path(__file__).resolve().parents[2]


def test_a_wheel_installed_cdk_reassembles_its_own_wheel(tmp_path: Path) -> None:
    original = build_project(REPO, tmp_path / "built", distributions=("wheel",), isolation="none").wheel
    assert original is not None
    target = tmp_path / "site"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(original),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert pip.returncode == 0, pip.stderr
    out = tmp_path / "out"
    code = (
        "import sys; from pathlib import Path; import cdk.publish.sdk as s\n"
        "assert s.source_checkout() is None, s.source_checkout()\n"
        f"print(s.sdk_wheel(Path({str(out)!r})))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    rebuilt = Path(run.stdout.strip())
    assert rebuilt.name == original.name
    with zipfile.ZipFile(original) as a, zipfile.ZipFile(rebuilt) as b:

        def files(z: zipfile.ZipFile) -> dict[str, bytes]:
            return {n: z.read(n) for n in z.namelist() if not n.endswith("/RECORD")}

        assert files(a) == files(b)
    # and pip takes it (RECORD hashes agree with the files)
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--target",
            str(tmp_path / "again"),
            str(rebuilt),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "cdk" / "publish" / "sdk.py").read_bytes() == (
        REPO / "cdk" / "publish" / "sdk.py"
    ).read_bytes()
