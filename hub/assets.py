"""GraphiQL's browser files, fetched from the npm registry into hub/static (never committed).

The IDE page loads GraphiQL 3.x and React 18 as plain UMD files from
``/static/graphiql/vendor/``. This module fetches them with ``npm pack`` (so npm checks
the registry's integrity hashes), keeps only the files the page needs and writes a
manifest with each file's package, version and sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VENDOR_DIR = Path(__file__).parent / "static" / "graphiql" / "vendor"
MANIFEST_NAME = "manifest.json"
NPM_TIMEOUT = 300  # seconds; graphiql's tarball is a few MB


@dataclass(frozen=True)
class Asset:
    """One file taken from an npm package tarball."""

    package: str
    version: str
    member: str  # path inside the tarball, below its "package/" folder

    @property
    def filename(self) -> str:
        return Path(self.member).name

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


# In the order the IDE page loads them: GraphiQL's UMD build expects React globals.
ASSETS: tuple[Asset, ...] = (
    Asset("react", "18.3.1", "umd/react.production.min.js"),
    Asset("react-dom", "18.3.1", "umd/react-dom.production.min.js"),
    Asset("graphiql", "3.8.3", "graphiql.min.js"),
    Asset("graphiql", "3.8.3", "graphiql.min.css"),
)

FETCH_HINT = "运行 `linju assets` 获取 GraphiQL 文件 (needs node and npm)"


class AssetError(RuntimeError):
    """The assets could not be fetched; the message says why, in one line."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(vendor_dir: Path = VENDOR_DIR) -> dict[str, Any] | None:
    """The manifest written by the last fetch, or None."""
    try:
        manifest = json.loads((vendor_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def assets_present(vendor_dir: Path = VENDOR_DIR) -> bool:
    """True when every file is there, at the versions this hub asks for."""
    manifest = read_manifest(vendor_dir)
    if not manifest:
        return False
    files = manifest.get("files", {})
    for asset in ASSETS:
        entry = files.get(asset.filename)
        if not entry or entry.get("version") != asset.version:
            return False
        if not (vendor_dir / asset.filename).is_file():
            return False
    return True


def verify_assets(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Files whose content no longer matches the manifest (empty when all is well)."""
    manifest = read_manifest(vendor_dir) or {}
    files = manifest.get("files", {})
    problems = []
    for asset in ASSETS:
        path = vendor_dir / asset.filename
        entry = files.get(asset.filename)
        if not entry or not path.is_file() or _sha256(path) != entry.get("sha256"):
            problems.append(asset.filename)
    return problems


def _npm_pack(specs: list[str], workdir: Path, npm: str) -> dict[str, dict[str, Any]]:
    """Download the tarballs of these package specs; their npm metadata by package name."""
    command = [npm, "pack", *specs, "--json", "--ignore-scripts", "--pack-destination", "."]
    try:
        done = subprocess.run(
            command,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssetError(f"npm pack 超时 (timed out after {NPM_TIMEOUT}s)") from None
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        cause = lines[-1] if lines else f"exit status {done.returncode}"
        raise AssetError(f"npm pack 失败 (failed): {cause}")
    try:
        packed = json.loads(done.stdout)
    except ValueError:
        raise AssetError("npm pack 输出无法解析 (unexpected output)") from None
    return {item["name"]: item for item in packed}


def fetch_assets(
    vendor_dir: Path = VENDOR_DIR, *, npm: str | None = None, force: bool = False
) -> dict[str, Any]:
    """Fetch GraphiQL and React into ``vendor_dir``; returns the manifest written.

    Nothing is downloaded when the files are already there at the right versions,
    unless ``force``.
    """
    if not force and assets_present(vendor_dir):
        manifest = read_manifest(vendor_dir)
        assert manifest is not None
        return manifest
    npm = npm or shutil.which("npm")
    if not npm:
        raise AssetError("找不到 npm (npm is not installed): install Node.js, then `linju assets`")

    specs = sorted({asset.spec for asset in ASSETS})
    vendor_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="linju-assets-") as tmp:
        workdir = Path(tmp)
        packed = _npm_pack(specs, workdir, npm)
        files: dict[str, Any] = {}
        for asset in ASSETS:
            meta = packed.get(asset.package)
            if meta is None:
                raise AssetError(f"npm 未返回 {asset.spec} (npm did not pack it)")
            target = vendor_dir / asset.filename
            _extract(workdir / meta["filename"], f"package/{asset.member}", target)
            files[asset.filename] = {
                "package": asset.package,
                "version": meta.get("version", asset.version),
                "integrity": meta.get("integrity"),
                "sha256": _sha256(target),
                "size": target.stat().st_size,
            }
    manifest = {"source": "npm pack", "files": files}
    _write_atomic(vendor_dir / MANIFEST_NAME, json.dumps(manifest, indent=2).encode() + b"\n")
    return manifest


def _extract(tarball: Path, member: str, target: Path) -> None:
    """Copy one member of a package tarball to ``target`` (by name: no path traversal)."""
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            handle = archive.extractfile(member)
            if handle is None:
                raise KeyError(member)
            data = handle.read()
    except (KeyError, tarfile.TarError, OSError) as exc:
        raise AssetError(f"{tarball.name} 中缺少 {member} ({type(exc).__name__})") from None
    _write_atomic(target, data)


def _write_atomic(target: Path, data: bytes) -> None:
    # A server reading the folder never sees a half-written file.
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, target)
