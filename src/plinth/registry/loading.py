"""``load_model``: a model URI to a ``LoadedModel`` whose ``predict`` enforces the signature.

``runs:/RUN_ID/PATH`` is read from the run's artifacts into a local cache folder named by
the manifest's sha256 (so the second load downloads only the manifest), verified against
the manifest's digests and scanned here, not trusted from the manifest's own claim.
``models:/NAME/VERSION`` and ``models:/NAME@ALIAS`` go through a ``ModelResolver`` (the
registry) to the ``runs:/`` URI they were registered from. A plain path loads a model
directory in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from plinth.artifacts.paths import clean_artifact_path
from plinth.artifacts.scanning import ScanReport
from plinth.artifacts.store import RunArtifactStore
from plinth.entities.models import MANIFEST_FILE, ModelManifest, ScanStatus, Signature
from plinth.errors import InvalidArgument, PlinthError
from plinth.registry.examples import read_input_example
from plinth.registry.flavors import LoadContext, Predictor, get_flavor
from plinth.registry.manifest import manifest_digest, read_manifest
from plinth.registry.packaging import scan_model_dir, scan_verdict
from plinth.registry.signature import enforce
from plinth.registry.uris import parse_model_uri, parse_run_source

PRIVATE = ".plinth"
"""The cache's own folder inside a cached model: the scan verdict, faster forms to load."""


class CorruptModel(PlinthError):
    slug = "corrupt-model"
    title = "Model files do not match their manifest"


class SourcedVersion(Protocol):
    @property
    def source_uri(self) -> str: ...

    @property
    def digest(self) -> str: ...


class ModelResolver(Protocol):
    """What ``models:/`` URIs need from the registry."""

    def resolve(
        self, name: str, version: int | None = None, alias: str | None = None
    ) -> SourcedVersion: ...


@dataclass(frozen=True)
class ModelSource:
    """Where a model's files are: a run's artifacts (``run_id``, ``path``) or a local folder."""

    run_id: str | None
    path: str
    digest: str | None = None
    """The manifest's digest a registered version recorded: the files must still match."""


def local_source(uri: str) -> ModelSource | None:
    """A local folder (a path or ``file://`` URI), or None for ``runs:/`` and ``models:/``."""
    if uri.startswith(("runs:", "models:")):
        return None
    if "://" in uri and not uri.startswith("file://"):
        raise InvalidArgument.for_field("model_uri", f"{uri!r}: unknown scheme")
    return ModelSource(None, uri.removeprefix("file://"))


class LoadedModel:
    """A model ready to predict: ``predict`` checks its input against the signature first
    (missing columns, wrong types and shapes are ``InvalidArgument`` naming the field)."""

    def __init__(
        self,
        uri: str,
        directory: Path,
        manifest: ModelManifest,
        digest: str,
        predictor: Predictor,
        scan: ScanReport,
    ) -> None:
        self.uri = uri
        self.directory = directory
        self.manifest = manifest
        self.digest = digest
        self.predictor = predictor
        self.scan = scan

    @property
    def signature(self) -> Signature | None:
        return self.manifest.signature

    @property
    def flavor(self) -> str:
        return self.manifest.flavor

    @property
    def raw(self) -> Any:
        """The framework's own object (an estimator, a Booster wrapper, an ORT session...)."""
        return self.predictor

    @property
    def input_example(self) -> Any:
        name = self.manifest.input_example_file
        return read_input_example(self.directory / name) if name else None

    def prepare(self, data: Any) -> Any:
        """``data`` as the model takes it, checked against the signature."""
        return enforce(self.signature, data) if self.signature and self.signature.inputs else data

    def predict(self, data: Any) -> Any:
        return self.predictor.predict(self.prepare(data))

    def predict_proba(self, data: Any) -> Any:
        method = getattr(self.predictor, "predict_proba", None)
        if method is None:
            raise InvalidArgument.for_field(
                "model", f"this {self.flavor} model has no predict_proba"
            )
        return method(self.prepare(data))

    def __repr__(self) -> str:
        return f"<LoadedModel {self.uri} flavor={self.flavor} format={self.manifest.format}>"


class ModelLoader:
    """Loads models for one platform: its run artifacts, its registry, its cache folder."""

    def __init__(
        self,
        artifacts: RunArtifactStore,
        cache_root: Path,
        resolver: ModelResolver | None = None,
    ) -> None:
        self.artifacts = artifacts
        self.cache_root = cache_root
        self.resolver = resolver

    def source_of(self, uri: str) -> ModelSource:
        """Where the model's files are: registry URIs resolved to their ``runs:/`` source."""
        local = local_source(uri)
        if local is not None:
            return local
        if uri.startswith("models:"):
            ref = parse_model_uri(uri, "model_uri")
            if self.resolver is None:
                raise InvalidArgument.for_field(
                    "model_uri", "models:/ URIs need the model registry, which this plinth lacks"
                )
            version = self.resolver.resolve(ref.name, version=ref.version, alias=ref.alias)
            run_id, path = parse_run_source(version.source_uri, "model_uri")
            return ModelSource(run_id, clean_artifact_path(path), version.digest)
        run_id, path = parse_run_source(uri, "model_uri")
        return ModelSource(run_id, clean_artifact_path(path))

    def load(self, uri: str, *, trusted: bool = False) -> LoadedModel:
        source = self.source_of(uri)
        if source.run_id is None:
            return load_model_dir(Path(source.path), trusted=trusted)
        directory, manifest, digest, scan = self._fetch(source.run_id, source.path)
        if source.digest is not None and digest != source.digest:
            raise CorruptModel(
                f"{uri}: the files at runs:/{source.run_id}/{source.path} are not the ones it"
                f" registered (manifest sha256 {digest}, registered {source.digest})"
            )
        return _load(uri, directory, manifest, digest, scan, trusted, directory / PRIVATE)

    def _fetch(self, run_id: str, path: str) -> tuple[Path, ModelManifest, str, ScanReport]:
        data = b"".join(self.artifacts.download(run_id, f"{path}/{MANIFEST_FILE}"))
        manifest = read_manifest(data)
        digest = manifest_digest(data)
        target = self.cache_root / digest
        self.cache_root.mkdir(parents=True, exist_ok=True)
        if (target / PRIVATE / "scan.json").is_file():
            return target, manifest, digest, _read_verdict(target)
        partial = self.cache_root / f".{digest}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial"
        try:
            (partial / PRIVATE).mkdir(parents=True)
            for name, expected in manifest.files.items():
                destination = partial / clean_artifact_path(name)
                destination.parent.mkdir(parents=True, exist_ok=True)
                hasher = hashlib.sha256()
                with open(destination, "wb") as sink:
                    for chunk in self.artifacts.download(run_id, f"{path}/{name}"):
                        hasher.update(chunk)
                        sink.write(chunk)
                if hasher.hexdigest() != expected.sha256:
                    raise CorruptModel(f"runs:/{run_id}/{path}/{name} does not match its manifest")
            (partial / MANIFEST_FILE).write_bytes(data)
            verdict = _scan(partial, manifest)
            (partial / PRIVATE / "scan.json").write_bytes(
                orjson.dumps({"status": verdict.status.value, "findings": verdict.findings})
            )
            with contextlib.suppress(OSError):  # another process cached it first: theirs will do
                partial.rename(target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return target, manifest, digest, _read_verdict(target)


def load_model_dir(directory: Path | str, *, trusted: bool = False) -> LoadedModel:
    """Load a model folder in place (checked against its manifest and scanned first)."""
    folder, manifest, digest, scan = _open_folder(Path(directory))
    return _load(str(directory), folder, manifest, digest, scan, trusted, None)


def _load(
    uri: str,
    directory: Path,
    manifest: ModelManifest,
    digest: str,
    scan: ScanReport,
    trusted: bool,
    private: Path | None,
) -> LoadedModel:
    check_scan(uri, scan, trusted)
    flavor = get_flavor(manifest.flavor)
    predictor = flavor.load(directory, manifest, LoadContext(trusted, private))
    return LoadedModel(uri, directory, manifest, digest, predictor, scan)


def _open_folder(directory: Path) -> tuple[Path, ModelManifest, str, ScanReport]:
    manifest_path = directory / MANIFEST_FILE
    if not manifest_path.is_file():
        raise InvalidArgument.for_field("model_uri", f"{directory} has no {MANIFEST_FILE}")
    data = manifest_path.read_bytes()
    manifest = read_manifest(data, str(manifest_path))
    for name, expected in manifest.files.items():
        file = directory / clean_artifact_path(name)
        if not file.is_file() or _sha256(file) != expected.sha256:
            raise CorruptModel(f"{file} is missing or does not match its manifest")
    return directory, manifest, manifest_digest(data), _scan(directory, manifest)


def _scan(directory: Path, manifest: ModelManifest) -> ScanReport:
    """Every file in the folder, listed or not: a manifest cannot hide one from the scanner."""
    if manifest.model_file not in manifest.files:
        raise CorruptModel(f"the manifest does not list its model file {manifest.model_file!r}")
    present = sorted(
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if p.is_file() and p.name != MANIFEST_FILE and PRIVATE not in p.relative_to(directory).parts
    )
    return scan_verdict(scan_model_dir(directory, present, manifest.model_file, manifest.format))


def check_scan(uri: str, scan: ScanReport, trusted: bool) -> None:
    """Only clean (or code-free) models load unless the caller vouches with ``trusted``."""
    if trusted or scan.status in (ScanStatus.CLEAN, ScanStatus.NOT_NEEDED):
        return
    found = "; ".join(scan.findings) or "no details"
    raise InvalidArgument.for_field(
        "trusted",
        f"{uri} was not scanned clean ({scan.status.value}: {found}); "
        "load it with trusted=True only if you trust where it came from",
    )


def _read_verdict(target: Path) -> ScanReport:
    saved = orjson.loads((target / PRIVATE / "scan.json").read_bytes())
    return ScanReport(ScanStatus(saved["status"]), list(saved["findings"]))


def _sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()
