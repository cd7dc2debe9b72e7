"""Registries a connector is published to and installed from.

* :class:`FolderRegistry` — the embedded default, ``$CDK_HOME/registry`` (``~/.cdk/registry``): a PEP 503
  ``simple/`` tree that pip installs from (``--index-url file://.../simple``). Files are copied and the
  index rewritten atomically under an exclusive file lock, so two concurrent publishes cannot corrupt it;
  the index (not the folder listing) is what is published, so a copy interrupted before its index update
  was never published and the next publish of the same file resumes it.
* :class:`HttpRegistry` — any PyPI-compatible registry by URL (pypiserver, devpi, Artifactory, Nexus,
  CodeArtifact, GitLab). Reads PEP 691 JSON where offered, else PEP 503 HTML; uploads by running
  ``python -m twine upload --non-interactive`` (twine has no supported Python API), retrying transient
  failures and using the index's sha256 to tell a landed upload from a real conflict.

Secrets (passwords, tokens, credentials in URLs) never appear in a message: :meth:`HttpRegistry.scrub`.
"""

from __future__ import annotations

import configparser
import hashlib
import html
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlparse, urlsplit, urlunsplit

from cdk.errors import (
    AlreadyPublished,
    CdkError,
    OutsideError,
)
from cdk.fsutil import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    import requests

PEP691_JSON = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{PEP691_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
Progress = Callable[[str], None]
# Called with the index's files for the project right before the upload (under the registry lock where the
# registry has one): raises (e.g. VersionRefused) when what was decided earlier no longer holds.
Guard = Callable[[list["RegistryFile"]], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class RegistryFile:
    """One distribution file listed by a registry index."""

    filename: str
    url: str
    sha256: str | None
    version: str


@dataclass
class UploadReport:
    """What an upload did: files uploaded now, files found already there and identical (resumed)."""

    uploaded: list[str] = field(default_factory=list)
    already_identical: list[str] = field(default_factory=list)
    attempts: int = 0


class Registry(Protocol):
    display: str
    index_url: str

    def files(self, name: str) -> list[RegistryFile]: ...

    def fetch(self, file: RegistryFile) -> bytes: ...

    def upload(
        self, artifacts: list[Path], *, progress: Progress = _quiet, guard: Guard | None = None
    ) -> UploadReport: ...

    def pip_index_url(self) -> str: ...


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def version_of(filename: str) -> str | None:
    """The version in a wheel or sdist filename (normalised PEP 440), or None for other files."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        if filename.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def versions_of(files: list[RegistryFile]) -> list[str]:
    """Distinct versions in index order, sorted by PEP 440."""
    from packaging.version import Version

    return sorted({f.version for f in files}, key=Version)


# --- reading indexes ---------------------------------------------------------------------------


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def parse_simple_html(text: str, base_url: str) -> list[RegistryFile]:
    """Files of a PEP 503 project page; the sha256 comes from the ``#sha256=`` URL fragment."""
    parser = _Anchors()
    parser.feed(text)
    out = []
    for href, label in parser.links:
        url, _, fragment = href.partition("#")
        filename = label or url.rsplit("/", 1)[-1]
        version = version_of(filename)
        if version is None:
            continue
        m = re.match(r"sha256=([0-9a-fA-F]{64})", fragment)
        out.append(RegistryFile(filename, urljoin(base_url, url), m.group(1).lower() if m else None, version))
    return out


def parse_simple_json(data: dict[str, Any], base_url: str) -> list[RegistryFile]:
    """Files of a PEP 691 project page."""
    out = []
    for item in data.get("files", []):
        filename = item.get("filename", "")
        version = version_of(filename)
        if version is None:
            continue
        sha = (item.get("hashes") or {}).get("sha256")
        out.append(RegistryFile(filename, urljoin(base_url, item.get("url", filename)), sha, version))
    return out


# --- the folder registry -----------------------------------------------------------------------


def cdk_home(env: dict[str, str] | None = None) -> Path:
    from cdk.settings import Settings

    return Path(Settings(env=env).get("home")).expanduser()


def default_registry_path(env: dict[str, str] | None = None) -> Path:
    return cdk_home(env) / "registry"


@contextmanager
def file_lock(
    path: Path,
    *,
    timeout: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """An exclusive lock on ``path`` (flock); waits up to ``timeout`` seconds, then fails (exit 3)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = clock() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if clock() >= deadline:
                    raise OutsideError(
                        f"the registry {path.parent} is locked by another publish",
                        hint=f"wait for it to finish; if none runs, the lock {path} is stale",
                    ) from None
                sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class FolderRegistry:
    """A PEP 503 tree in a folder: ``simple/index.html`` and ``simple/<name>/{index.html,files}``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.simple = self.root / "simple"
        self.display = str(self.root)
        self.index_url = self.simple.as_uri() + "/"

    def pip_index_url(self) -> str:
        return self.index_url

    def project_dir(self, name: str) -> Path:
        return self.simple / canonical(name)

    def files(self, name: str) -> list[RegistryFile]:
        """The files the index lists for ``name``; [] only when the index does not list the project.
        An index that exists but cannot be read is an outside failure (exit 3), never "nothing published"."""
        index = self.project_dir(name) / "index.html"
        try:
            text = index.read_text(encoding="utf-8")
        except FileNotFoundError:
            if canonical(name) in self._root_projects():
                raise OutsideError(
                    f"the registry {self.display} lists {canonical(name)} but {index} is missing",
                    hint="the registry folder was changed by hand; restore the file or the project's folder",
                ) from None
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise OutsideError(
                f"the index {index} of the registry {self.display} cannot be read: {exc.__class__.__name__}: "
                f"{getattr(exc, 'strerror', None) or exc}",
                hint="check the folder's permissions; nothing was published",
            ) from None
        return parse_simple_html(text, index.as_uri())

    def _root_projects(self) -> set[str]:
        root = self.simple / "index.html"
        try:
            text = root.read_text(encoding="utf-8")
        except FileNotFoundError:
            return set()
        except (OSError, UnicodeDecodeError) as exc:
            raise OutsideError(
                f"the index {root} of the registry {self.display} cannot be read: {exc.__class__.__name__}",
                hint="check the folder's permissions; nothing was published",
            ) from None
        parser = _Anchors()
        parser.feed(text)
        return {canonical(label or href.rstrip("/")) for href, label in parser.links}

    def sweep(self) -> list[Path]:
        """Delete temporary files left by interrupted writes (``.NAME.XXXX.tmp``). Call under the lock only:
        every writer holds it, so any temporary file seen then belongs to a process that is gone."""
        removed = []
        if self.simple.is_dir():
            for tmp in [*self.simple.glob(".*.tmp"), *self.simple.glob("*/.*.tmp")]:
                try:
                    tmp.unlink()
                    removed.append(tmp)
                except FileNotFoundError:
                    pass
        return removed

    def fetch(self, file: RegistryFile) -> bytes:
        from urllib.request import url2pathname

        data = Path(url2pathname(urlparse(file.url).path)).read_bytes()
        _verify(file, data)
        return data

    def projects(self) -> list[str]:
        return (
            sorted(p.name for p in self.simple.iterdir() if (p / "index.html").is_file())
            if self.simple.is_dir()
            else []
        )

    def upload(
        self, artifacts: list[Path], *, progress: Progress = _quiet, guard: Guard | None = None
    ) -> UploadReport:
        """Copy artifacts in and update the indexes, all under the registry lock: ``guard`` sees the index
        under the same lock, so a version check it makes cannot be overtaken by a concurrent publish."""
        from packaging.utils import parse_sdist_filename, parse_wheel_filename

        report = UploadReport(attempts=1)
        with file_lock(self.root / ".lock"):
            self.sweep()
            if guard is not None and artifacts:
                guard(self.files(_dist_name(artifacts[0])))
            for n, artifact in enumerate(artifacts, 1):
                name = (
                    parse_wheel_filename(artifact.name)[0]
                    if artifact.name.endswith(".whl")
                    else parse_sdist_filename(artifact.name)[0]
                )
                listed = {f.filename: f for f in self.files(name)}
                target = self.project_dir(name) / artifact.name
                local_sha = sha256_file(artifact)
                if artifact.name in listed:
                    identical = listed[artifact.name].sha256 == local_sha
                    raise AlreadyPublished(artifact.name, identical=identical, registry=self.display)
                if target.exists() and sha256_file(target) == local_sha:
                    report.already_identical.append(artifact.name)  # copied by an interrupted publish: resume
                else:
                    progress(f"uploading {artifact.name} ({n}/{len(artifacts)}) to {self.display}")
                    atomic_write_bytes(target, artifact.read_bytes())
                    report.uploaded.append(artifact.name)
                self._write_project_index(
                    name, {**{f: s.sha256 for f, s in listed.items()}, artifact.name: local_sha}
                )
            self._write_root_index()
        return report

    def _write_project_index(self, name: str, files: dict[str, str | None]) -> None:
        from packaging.version import Version

        def order(fn: str) -> tuple[Any, str]:
            return (Version(version_of(fn) or "0"), fn)

        links = "\n".join(
            f'    <a href="{html.escape(fn)}#sha256={sha}">{html.escape(fn)}</a><br/>'
            for fn, sha in sorted(files.items(), key=lambda kv: order(kv[0]))
        )
        page = (
            f'<!DOCTYPE html>\n<html>\n  <head><meta name="pypi:repository-version" content="1.0">'
            f"<title>Links for {canonical(name)}</title></head>\n  <body>\n    <h1>Links for {canonical(name)}</h1>\n"
            f"{links}\n  </body>\n</html>\n"
        )
        atomic_write_text(self.project_dir(name) / "index.html", page)

    def _write_root_index(self) -> None:
        links = "\n".join(f'    <a href="{p}/">{p}</a><br/>' for p in self.projects())
        atomic_write_text(
            self.simple / "index.html",
            '<!DOCTYPE html>\n<html>\n  <head><meta name="pypi:repository-version" content="1.0">'
            f"<title>Simple index</title></head>\n  <body>\n{links}\n  </body>\n</html>\n",
        )


def _verify(file: RegistryFile, data: bytes) -> None:
    if file.sha256 and hashlib.sha256(data).hexdigest() != file.sha256:
        raise OutsideError(
            f"{file.filename} from the registry does not match its index sha256 ({file.url})",
            hint="the registry is inconsistent; ask its administrator",
        )


# --- PyPI-compatible registries over HTTP ------------------------------------------------------


@dataclass
class Credentials:
    username: str | None = None
    password: str | None = None
    source: str = "none"  # flag | environment | user-config | .pypirc:<section> | none


def strip_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """A URL without ``user:password@`` and the user and password it carried."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, None
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return (
        urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)),
        parts.username,
        parts.password,
    )


_TRANSIENT_RE = re.compile(
    r"(\b50[0-4]\b|\b429\b|Connection ?(refused|reset|aborted|Error)|timed out|Max retries exceeded|"
    r"RemoteDisconnected|Temporary failure)",
    re.I,
)
_STATUS_RE = re.compile(r"HTTPError: (\d{3})")


class HttpRegistry:
    """A PyPI-compatible registry: ``url`` is where twine uploads, ``index_url`` the simple index."""

    def __init__(
        self,
        url: str,
        *,
        index_url: str | None = None,
        credentials: Credentials | None = None,
        timeout: float = 15.0,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        backoff: float = 1.0,
    ) -> None:
        url, user, password = strip_userinfo(url)
        creds = credentials or Credentials()
        if user or password:  # credentials in the URL come last: flags, environment and .pypirc win
            creds = Credentials(
                creds.username or user,
                creds.password or password,
                creds.source if creds.source != "none" else "url",
            )
        self.credentials = creds
        self.url = url if url.endswith("/") else url + "/"
        given_simple = re.search(r"/\+?simple/$", self.url)
        if index_url:
            self.candidates = [strip_userinfo(index_url)[0].rstrip("/") + "/"]
        elif given_simple:  # an index URL given as the repository: upload to its parent (pypiserver, devpi)
            self.candidates = [self.url]
            self.url = self.url[: given_simple.start() + 1]
        else:  # PEP 503's URL/simple/, then devpi's URL/+simple/
            self.candidates = [self.url + "simple/", self.url + "+simple/"]
        self.index_url = self.candidates[0]
        self._projects: set[str] | None = None  # the root index's projects, once it was read
        self.display = self.url
        self.timeout = timeout
        self.attempts = attempts
        self.sleep = sleep
        self.backoff = backoff

    # secrets ------------------------------------------------------------------------------------
    def scrub(self, text: str) -> str:
        """Remove the password (every spelling, :mod:`cdk.secrets`) and any URL userinfo from ``text``."""
        from cdk.secrets import Secret, mask

        secret = self.credentials.password
        if secret:
            text = mask(text, [Secret("registry password", secret, self.credentials.username)], "****")
        return re.sub(r"(https?://)[^/\s@]+@", r"\1****@", text)

    def _auth(self) -> tuple[str, str] | None:
        c = self.credentials
        return (c.username or "", c.password or "") if (c.username or c.password) else None

    def pip_index_url(self) -> str:
        """The index URL for pip, with credentials in it when there are any (never print it)."""
        self.discover()
        auth = self._auth()
        if not auth:
            return self.index_url
        from urllib.parse import quote

        parts = urlsplit(self.index_url)
        netloc = f"{quote(auth[0], safe='')}:{quote(auth[1], safe='')}@{parts.netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    # reading ------------------------------------------------------------------------------------
    def _get(self, url: str, accept: str | None = None) -> requests.Response:
        import requests

        try:
            for _ in range(5):  # follow redirects on the registry's own host only: a registry that falls back
                # to PyPI for unknown projects (pypiserver does) must not make PyPI's releases look published
                response = requests.get(
                    url,
                    headers={"Accept": accept} if accept else {},
                    auth=self._auth(),
                    timeout=self.timeout,
                    allow_redirects=False,
                )
                if not response.is_redirect:
                    break
                target = urljoin(url, response.headers.get("Location", ""))
                if urlsplit(target).netloc != urlsplit(url).netloc:
                    response.status_code = 404
                    break
                url = target
        except requests.RequestException as exc:
            raise OutsideError(
                f"the registry {self.display} cannot be reached: {self.scrub(type(exc).__name__)}",
                hint="check the URL and that the registry is up (CDK_REGISTRY_URL / --repository)",
            ) from None
        if response.status_code in (401, 403):
            raise OutsideError(
                f"the registry {self.display} refused the credentials (HTTP {response.status_code} for {url})",
                hint="check the username and password (--username/--password, CDK_REGISTRY_USERNAME/"
                "CDK_REGISTRY_PASSWORD or ~/.pypirc)",
            )
        return response

    def discover(self) -> str:
        """The simple index's URL, found by reading its root page (PEP 691 JSON or PEP 503 HTML) at each
        candidate in turn; fails closed (OutsideError, exit 3) when none can be read, because a version is
        only "new" when an index that was read does not list it."""
        if self._projects is not None:
            return self.index_url
        tried = []
        for candidate in self.candidates:
            response = self._get(candidate, ACCEPT)
            projects = _root_projects(response) if response.status_code == 200 else None
            if projects is not None:
                self.index_url, self._projects = candidate, projects
                return candidate
            tried.append(
                f"{candidate} (HTTP {response.status_code}{'' if response.status_code != 200 else ', not a simple index'})"
            )
        raise OutsideError(
            f"the index of the registry {self.display} cannot be read: tried {', '.join(tried)}; "
            "without it cdk cannot tell which versions are published, so nothing was uploaded",
            hint="pass the registry's simple index with --index-url (CDK_REGISTRY_INDEX_URL), e.g. "
            "https://HOST/simple/ (pypiserver, Artifactory, Nexus) or https://HOST/USER/INDEX/+simple/ (devpi)",
        )

    def files(self, name: str) -> list[RegistryFile]:
        """The files the index lists for ``name``; [] only when the index was read and does not list it."""
        index = self.discover()
        page = f"{index}{canonical(name)}/"
        response = self._get(page, ACCEPT)
        if response.status_code == 404:
            if canonical(name) in (self._projects or set()):
                raise OutsideError(
                    f"the registry {self.display} lists {canonical(name)} in {index} but answers HTTP 404 "
                    f"for {page}",
                    hint="the registry is inconsistent; try again later or ask its administrator",
                )
            return []
        if response.status_code >= 400:
            raise OutsideError(
                f"the registry {self.display} answered HTTP {response.status_code} for {page}",
                hint="try again later, or check the index URL (--index-url / CDK_REGISTRY_INDEX_URL)",
            )
        ctype = response.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            if ctype == PEP691_JSON:
                return parse_simple_json(response.json(), response.url)
            return parse_simple_html(response.text, response.url)
        except (ValueError, AttributeError, TypeError) as exc:
            raise OutsideError(
                f"the registry {self.display} answered {page} with a page that is not a simple index "
                f"({type(exc).__name__})",
                hint="check the index URL (--index-url / CDK_REGISTRY_INDEX_URL)",
            ) from None

    def fetch(self, file: RegistryFile) -> bytes:
        response = self._get(file.url)
        if response.status_code >= 400:
            raise OutsideError(
                f"could not download {file.filename} from {self.display} (HTTP {response.status_code})"
            )
        content: bytes = response.content
        _verify(file, content)
        return content

    # uploading ----------------------------------------------------------------------------------
    def _twine(self, artifacts: list[Path]) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWINE_")}
        env["NO_COLOR"] = "1"
        if self.credentials.username is not None:
            env["TWINE_USERNAME"] = self.credentials.username
        if self.credentials.password is not None:
            env["TWINE_PASSWORD"] = self.credentials.password
        if self.credentials.username is None and self.credentials.password is None:
            # nothing configured: the keyring (as twine would ask it), else a registry without
            # authentication — twine --non-interactive would otherwise stop, asking for a username
            user, password = _keyring_credentials(self.url)
            env["TWINE_USERNAME"], env["TWINE_PASSWORD"] = user or "", password or ""
        cmd = [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            self.url,
            *map(str, artifacts),
        ]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)

    def upload(
        self, artifacts: list[Path], *, progress: Progress = _quiet, guard: Guard | None = None
    ) -> UploadReport:
        """Upload with twine; after any failure the index says what landed (by sha256), so retries
        upload only what is missing and a conflict is classified exactly. ``guard`` sees the index read
        right before the upload (an HTTP registry has no lock cdk can hold; the window is that short)."""
        report = UploadReport()
        local = {a.name: sha256_file(a) for a in artifacts}
        name = _dist_name(artifacts[0])
        listed = self.files(name)
        if guard is not None:
            guard(listed)
        pending, present = self._missing(artifacts, listed, local)
        report.already_identical += present
        if not pending:
            return report
        for attempt in range(1, self.attempts + 1):
            report.attempts = attempt
            progress(
                f"uploading {', '.join(a.name for a in pending)} to {self.display}"
                + (f" (attempt {attempt}/{self.attempts})" if attempt > 1 else "")
            )
            proc = self._twine(pending)
            output = self.scrub(proc.stdout + proc.stderr)
            if proc.returncode == 0:
                report.uploaded.extend(a.name for a in pending)
                return report
            still, landed = self._missing(pending, self._files_after_failure(name), local)
            report.uploaded += landed  # they landed although twine reported a failure
            if not still:
                return report  # everything landed (e.g. twine's own retry turned a landed upload into a "conflict")
            pending = still
            status = _STATUS_RE.search(output)
            code = int(status.group(1)) if status else None
            summary = _twine_summary(output)
            if code in (401, 403):
                raise OutsideError(
                    f"the registry {self.display} refused the credentials (HTTP {code}): {summary}",
                    hint="check the username and password (--username/--password, "
                    "CDK_REGISTRY_USERNAME/CDK_REGISTRY_PASSWORD or ~/.pypirc)",
                )
            if code is not None and code < 500 and code != 429:
                raise OutsideError(
                    f"the registry {self.display} rejected the upload (HTTP {code}): {summary}",
                    hint=_partial_hint(report),
                )
            if not _TRANSIENT_RE.search(output) and code is None:
                raise OutsideError(
                    f"twine upload to {self.display} failed: {summary}", hint=_partial_hint(report)
                )
            if attempt < self.attempts:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        raise OutsideError(
            f"the registry {self.display} kept failing after {self.attempts} attempts: {summary}",
            hint=_partial_hint(report) or "try again later; the next publish resumes what is missing",
        )

    def _missing(
        self, artifacts: list[Path], listed: list[RegistryFile], local: dict[str, str]
    ) -> tuple[list[Path], list[str]]:
        """Split artifacts into those the index lacks and those it holds identically (by sha256);
        one it holds with different bytes is AlreadyPublished."""
        by_name = {f.filename: f for f in listed}
        missing, present = [], []
        for a in artifacts:
            there = by_name.get(a.name)
            if there is None:
                missing.append(a)
            elif there.sha256 in (None, local[a.name]):
                present.append(a.name)
            else:
                raise AlreadyPublished(a.name, identical=False, registry=self.display)
        return missing, present

    def _files_after_failure(self, name: str) -> list[RegistryFile]:
        try:
            return self.files(name)
        except OutsideError:
            return []


def _keyring_credentials(url: str) -> tuple[str | None, str | None]:
    """(username, password) the keyring holds for ``url``, as twine looks them up; (None, None) when
    keyring is missing, has no backend, or holds nothing."""
    try:
        import keyring

        cred = keyring.get_credential(url, None)
    except Exception:  # noqa: BLE001 - any keyring failure means "no credentials from the keyring"
        return None, None
    return (cred.username, cred.password) if cred is not None else (None, None)


def _root_projects(response: Any) -> set[str] | None:
    """The projects a simple index's root page lists (canonical names), or None when the page is not one."""
    ctype = response.headers.get("Content-Type", "").split(";")[0].strip()
    if ctype == PEP691_JSON or ctype == "application/json":
        try:
            data = response.json()
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("projects"), list):
            return None
        return {canonical(str(p.get("name", ""))) for p in data["projects"] if isinstance(p, dict)}
    if ctype in ("text/html", "application/vnd.pypi.simple.v1+html", ""):
        parser = _Anchors()
        parser.feed(response.text)
        return {canonical(label or href.rstrip("/").rsplit("/", 1)[-1]) for href, label in parser.links}
    return None


def _dist_name(artifact: Path) -> str:
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    if artifact.name.endswith(".whl"):
        return str(parse_wheel_filename(artifact.name)[0])
    return str(parse_sdist_filename(artifact.name)[0])


def _twine_summary(output: str) -> str:
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    picked = [line for line in lines if line.startswith(("ERROR", "HTTPError", "WARNING")) or "Error" in line]
    return " ".join((picked or lines)[-3:])[:500] or "no output"


def _partial_hint(report: UploadReport) -> str | None:
    done = report.uploaded + report.already_identical
    if done:
        return (
            f"partial upload: {', '.join(done)} landed; run the same publish again to upload the rest "
            "(files already there are recognised by their sha256)"
        )
    return None


def find_project(registry: Registry, name: str) -> tuple[str, list[RegistryFile]]:
    """A connector's distribution in the registry by distribution name or by connector name:
    ``acme`` finds ``acme-connector`` when there is no ``acme`` (cdk's naming convention)."""
    files = registry.files(name)
    if files or canonical(name).endswith("-connector"):
        return name, files
    alt = f"{canonical(name)}-connector"
    alt_files = registry.files(alt)
    return (alt, alt_files) if alt_files else (name, files)


# --- choosing a registry -----------------------------------------------------------------------


def read_pypirc(env: dict[str, str] | None = None) -> configparser.RawConfigParser:
    env = dict(os.environ) if env is None else env
    path = Path(env.get("PYPIRC") or Path(env.get("HOME") or Path.home()) / ".pypirc")
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise CdkError(f"{path} is not a valid .pypirc: {exc}") from None
    return parser


def open_registry(
    repository: str | None = None,
    *,
    username: str | None = None,
    password: str | None = None,
    index_url: str | None = None,
    env: dict[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FolderRegistry | HttpRegistry:
    """The registry named by flag > the ``registry_url`` setting (CDK_REGISTRY_URL, user config) > the
    default folder; credentials by flag > the ``registry_username``/``registry_password`` settings > the
    matching .pypirc section (twine may still use keyring)."""
    from cdk.settings import Settings

    env = dict(os.environ) if env is None else env
    settings = Settings(env=env)
    target = repository or settings.get("registry_url") or ""
    index_url = index_url or settings.get("registry_index_url") or None
    if not target or target in {"local", "folder", "default"}:
        return FolderRegistry(default_registry_path(env))
    if target.startswith("file:"):
        from urllib.request import url2pathname

        return FolderRegistry(url2pathname(urlparse(target).path))
    if not re.match(r"^https?://", target):
        if "/" in target or target.startswith((".", "~")):
            return FolderRegistry(target)
        pypirc = read_pypirc(env)
        if not pypirc.has_section(target):
            raise CdkError(
                f"unknown repository {target!r}: not a URL, a folder, or a section of ~/.pypirc",
                hint="pass --repository https://host/path/ or add the section to ~/.pypirc",
            )
        section = pypirc[target]
        url = section.get("repository")
        if not url:
            raise CdkError(f"~/.pypirc section [{target}] has no 'repository' URL")
        creds = Credentials(section.get("username"), section.get("password"), f".pypirc:{target}")
        target = url
    else:
        creds = Credentials()
        pypirc = read_pypirc(env)
        for sec in pypirc.sections():
            if pypirc[sec].get("repository", "").rstrip("/") == strip_userinfo(target)[0].rstrip("/"):
                creds = Credentials(
                    pypirc[sec].get("username"), pypirc[sec].get("password"), f".pypirc:{sec}"
                )
                break
    user, pw = settings.lookup("registry_username"), settings.lookup("registry_password")
    if user.value or pw.value:
        creds = Credentials(
            user.value or creds.username,
            pw.value or creds.password,
            "environment" if "env" in (user.source, pw.source) else "user-config",
        )
    if username or password:
        creds = Credentials(username or creds.username, password or creds.password, "flag")
    return HttpRegistry(target, index_url=index_url, credentials=creds, sleep=sleep)
