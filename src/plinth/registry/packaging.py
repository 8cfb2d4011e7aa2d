"""Writing a model directory: the model saved by its flavor, the input example, the signature,
pinned requirements, every file's digest, the scanner's verdict, and ``plinth-model.yaml``
(the manifest, written last, so a directory with a manifest is complete).

A file that would run dangerous code when loaded is refused here, before anything is
uploaded, with what the scanner found in each file.
"""

from __future__ import annotations

import hashlib
import logging
import platform
import shutil
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import Any

from plinth.artifacts.scanning import ScanReport, combine, needs_scan, scan_stream
from plinth.artifacts.store import RunArtifactStore
from plinth.entities.common import now_ms
from plinth.entities.models import MANIFEST_FILE, ModelFile, ModelManifest, ScanStatus, Signature
from plinth.errors import FieldError, InvalidArgument
from plinth.registry.examples import EXAMPLE_FILE, write_input_example
from plinth.registry.flavors import Flavor, SavedModel, detect_flavor, get_flavor
from plinth.registry.manifest import dump_manifest, manifest_digest
from plinth.registry.signature import enforce, infer_signature

logger = logging.getLogger("plinth.models")

PICKLE_FORMATS = {"joblib": ".joblib", "pickle": ".pkl", "cloudpickle": ".pkl"}
"""Formats that are pickles whatever their file is called (PyTorch's are ``.pt`` already)."""
REQUIREMENTS_FILE = "requirements.txt"
ARTIFACTS_FOLDER = "artifacts"


@dataclass(frozen=True)
class PackagedModel:
    directory: Path
    manifest: ModelManifest
    digest: str
    """sha256 of ``plinth-model.yaml``: the model's identity (the registry keys on it)."""


def package_model(
    model: Any,
    directory: Path,
    *,
    flavor: str | None = None,
    format: str | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    requirements: Iterable[str] = (),
    artifacts: Mapping[str, str | Path] | None = None,
    options: Mapping[str, Any] | None = None,
) -> PackagedModel:
    """Save ``model`` into the empty folder ``directory`` (see the module docstring)."""
    directory.mkdir(parents=True, exist_ok=True)
    chosen = get_flavor(flavor) if flavor else detect_flavor(model)
    given = {**(options or {}), "format": format, "input_example": input_example}
    saved = chosen.save(model, directory, given)
    example_file = None
    if input_example is not None:
        write_input_example(directory / EXAMPLE_FILE, input_example)
        example_file = EXAMPLE_FILE
    if signature is None:
        signature = saved.signature or _inferred(chosen, model, input_example)
    _copy_artifacts(directory, artifacts or {})
    packages = ["numpy", *saved.packages]
    if _uses_pandas(input_example):
        packages.append("pandas")
    return finish_model_dir(
        directory,
        flavor=chosen.name,
        saved=saved,
        signature=signature,
        input_example_file=example_file,
        requirements=pin_requirements(packages, extra=requirements),
    )


def finish_model_dir(
    directory: Path,
    *,
    flavor: str,
    saved: SavedModel,
    signature: Signature | None,
    input_example_file: str | None,
    requirements: list[str],
    python_version: str | None = None,
) -> PackagedModel:
    """Write ``requirements.txt``, digest and scan every file (refusing unsafe ones), and
    write the manifest: the last step of packaging a folder that holds a saved model."""
    (directory / REQUIREMENTS_FILE).write_text("".join(f"{r}\n" for r in requirements))
    files = {path: _digest(directory / path) for path in _files(directory)}
    report = refuse_unsafe(scan_model_dir(directory, files, saved.model_file, saved.format))
    manifest = ModelManifest(
        flavor=flavor,
        format=saved.format,
        model_file=saved.model_file,
        python_version=python_version or platform.python_version(),
        requirements=requirements,
        signature=signature,
        input_example_file=input_example_file,
        files=files,
        scan=report.status,
        scan_findings=report.findings,
        flavor_options=saved.options,
        created_at=now_ms(),
        plinth_version=_version("plinth") or "0",
    )
    text = dump_manifest(manifest)
    (directory / MANIFEST_FILE).write_bytes(text)
    return PackagedModel(directory, manifest, manifest_digest(text))


def _inferred(flavor: Flavor, model: Any, example: Any) -> Signature | None:
    """The example's signature, with outputs from predicting it when the model can."""
    if example is None:
        return None
    inputs = infer_signature(example)
    try:
        with warnings.catch_warnings():  # a trial run: its complaints are not the user's
            warnings.simplefilter("ignore")
            output = flavor.predictor(model).predict(enforce(inputs, example))
        return infer_signature(example, output)
    except Exception as exc:  # an output signature is a bonus, never a reason to fail
        logger.debug("output signature not inferred: %s", exc)
        return inputs


def _uses_pandas(example: Any) -> bool:
    return type(example).__module__.startswith("pandas")


def _copy_artifacts(directory: Path, artifacts: Mapping[str, str | Path]) -> None:
    for name, source in artifacts.items():
        target = directory / ARTIFACTS_FOLDER / name
        if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts:
            raise InvalidArgument.for_field(f"artifacts.{name}", "must be a plain relative name")
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(source).is_dir():
            shutil.copytree(source, target)
        elif Path(source).is_file():
            shutil.copyfile(source, target)
        else:
            raise InvalidArgument.for_field(f"artifacts.{name}", f"{source} does not exist")


def pin_requirements(packages: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """``name==version`` of each installed package (in order, once), then ``extra`` as
    given; an extra naming a package replaces its pin."""
    extras = [str(r).strip() for r in extra if str(r).strip()]
    named = {_requirement_name(r) for r in extras}
    pinned: list[str] = []
    for package in dict.fromkeys(packages):
        found = _version(package)
        if found and package.lower() not in named:
            pinned.append(f"{package}=={found}")
    return pinned + extras


def _requirement_name(requirement: str) -> str:
    for separator in ("[", "=", "<", ">", "!", "~", ";", " "):
        requirement = requirement.split(separator, 1)[0]
    return requirement.lower()


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _files(directory: Path) -> list[str]:
    return sorted(
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if p.is_file() and p.name != MANIFEST_FILE
    )


def _digest(path: Path) -> ModelFile:
    hasher = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            hasher.update(chunk)
    return ModelFile(sha256=hasher.hexdigest(), size=path.stat().st_size)


def scan_model_dir(
    directory: Path, files: Iterable[str], model_file: str, fmt: str
) -> dict[str, ScanReport]:
    """The scanner's report on each file that could run code when loaded: pickle-like
    names, and the model file when its format is a pickle whatever its name."""
    reports: dict[str, ScanReport] = {}
    for path in files:
        name = path
        if path == model_file and fmt in PICKLE_FORMATS and not needs_scan(path):
            name = path + PICKLE_FORMATS[fmt]
        if needs_scan(name):
            with open(directory / path, "rb") as source:
                reports[path] = scan_stream(source, name)
    return reports


def refuse_unsafe(reports: Mapping[str, ScanReport]) -> ScanReport:
    """The directory's verdict; ``InvalidArgument`` listing every finding when it is unsafe."""
    verdict = scan_verdict(reports)
    if verdict.unsafe:
        errors = [
            FieldError(f"files.{path}", finding)
            for path, report in reports.items()
            if report.unsafe
            for finding in report.findings
        ]
        paths = ", ".join(path for path, report in reports.items() if report.unsafe)
        raise InvalidArgument(
            f"model refused: {paths} would run dangerous code when loaded", errors
        )
    return verdict


def scan_verdict(reports: Mapping[str, ScanReport]) -> ScanReport:
    """Every file's reports combined, each finding prefixed with its file."""
    if not reports:
        return ScanReport(ScanStatus.NOT_NEEDED)
    combined = combine(list(reports.values()))
    findings = [
        finding if finding.startswith(f"{path}") else f"{path}: {finding}"
        for path, report in reports.items()
        for finding in report.findings
    ]
    return ScanReport(combined.status, findings)


def upload_model_dir(
    artifacts: RunArtifactStore, run_id: str, directory: Path, artifact_path: str
) -> int:
    """Upload a packaged model to ``artifact_path`` of a run, the manifest last (a reader
    that finds the manifest finds every file it lists); returns the file count."""
    paths = [*_files(directory), MANIFEST_FILE]
    for path in paths:
        with open(directory / path, "rb") as source:
            artifacts.upload(run_id, f"{artifact_path.strip('/')}/{path}", source)
    return len(paths)


def register_source(registry: Any, name: str, source_uri: str) -> Any:
    """Register ``source_uri`` as the next version of model ``name`` (``registry`` is the
    platform's ``RegistryService``; None means this plinth has no registry)."""
    if registry is None:
        raise InvalidArgument.for_field(
            "registered_model_name",
            f"this plinth has no model registry; the model is logged at {source_uri}",
        )
    return registry.register_model(source_uri, name)
