"""Writing the version into connector.yaml and pyproject.toml without disturbing anything else.

connector.yaml: only the characters of the ``version`` scalar are replaced (located by the YAML parser,
quote style kept), so comments, indentation and key order stay byte-for-byte — a full round-trip dump
(ruamel) re-indents block sequences. pyproject.toml: tomlkit round-trip, which keeps comments.
Both are written atomically (pyproject gets the PEP 440 form), and :class:`VersionWrite` restores the originals if a later step fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cdk.errors import CdkError, ManifestError
from cdk.fsutil import atomic_write_bytes, atomic_write_text
from cdk.publish.versions import Version


def set_manifest_version(text: str, version: str, file: str = "connector.yaml") -> str:
    import yaml

    from cdk.errors import InputError
    from cdk.yamlio import compose_yaml, load_yaml

    try:
        root = compose_yaml(text, file)
    except InputError as exc:
        raise ManifestError(str(exc), hint=exc.hint) from None
    if not isinstance(root, yaml.MappingNode):
        raise ManifestError(f"{file} is not a mapping")
    for key, value in root.value:
        if key.value == "version":
            if not isinstance(value, yaml.ScalarNode):
                raise ManifestError(f"{file}:{value.start_mark.line + 1}: version is not a scalar")
            quote = value.style if value.style in ('"', "'") else ""
            new = text[: value.start_mark.index] + f"{quote}{version}{quote}" + text[value.end_mark.index :]
            if load_yaml(new, file).get("version") != version:  # pragma: no cover - a parser disagreement
                raise ManifestError(f"could not write the version into {file}")
            return new
    raise ManifestError(f"{file} has no 'version' key", hint="add `version: 0.1.0` to it")


def set_pyproject_version(text: str, version: str) -> str:
    import tomlkit

    doc = tomlkit.parse(text)
    project = doc.get("project")
    if project is None:
        raise CdkError("pyproject.toml has no [project] table, so the version cannot be written")
    if "version" in (project.get("dynamic") or []):
        raise CdkError(
            "pyproject.toml declares the version dynamic; cdk publish writes [project].version",
            hint='remove "version" from dynamic and set version = "..." in [project]',
        )
    project["version"] = version
    return tomlkit.dumps(doc)


@dataclass
class VersionWrite:
    """Writes the version into both files; ``restore()`` puts the original bytes back."""

    root: Path
    originals: dict[Path, bytes] = field(default_factory=dict)

    def apply(self, version: Version) -> list[Path]:
        """connector.yaml gets the semver form (2.0.0-rc.1), pyproject.toml the PEP 440 form (2.0.0rc1):
        hatchling copies [project].version into the wheel's METADATA unnormalised."""
        manifest = self.root / "connector.yaml"
        pyproject = self.root / "pyproject.toml"
        new_manifest = set_manifest_version(manifest.read_text(encoding="utf-8"), str(version))
        new_pyproject = set_pyproject_version(pyproject.read_text(encoding="utf-8"), version.pep440)
        changed = []
        for path, text in ((manifest, new_manifest), (pyproject, new_pyproject)):
            old = path.read_bytes()
            if old != text.encode("utf-8"):
                self.originals[path] = old
                atomic_write_text(path, text)
                changed.append(path)
        return changed

    def restore(self) -> None:
        for path, data in self.originals.items():
            atomic_write_bytes(path, data)
        self.originals.clear()
