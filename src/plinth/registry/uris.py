"""The URIs the registry reads and writes: ``runs:/RUN_ID/PATH`` (a logged model),
``models:/NAME/VERSION`` and ``models:/NAME@ALIAS`` (registered models),
``dataset:PROJECT/NAME@DIGEST`` and ``run:RUN_ID`` (lineage nodes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from plinth.artifacts.paths import clean_artifact_path
from plinth.entities.limits import MAX_DIGEST_LENGTH, MAX_NAME_LENGTH
from plinth.errors import InvalidArgument

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_VERSION = re.compile(r"^[1-9][0-9]{0,9}$")


@dataclass(frozen=True)
class ModelRef:
    """A registered model's version or alias (exactly one of the two), or its latest version."""

    name: str
    version: int | None = None
    alias: str | None = None


def parse_run_source(uri: str, field: str = "source") -> tuple[str, str]:
    """``runs:/RUN_ID/PATH`` -> (run id, path inside the run's artifacts)."""
    if not uri.startswith("runs:/"):
        raise InvalidArgument.for_field(field, "must look like runs:/RUN_ID/PATH")
    run_id, _, path = uri.removeprefix("runs:/").strip("/").partition("/")
    if not _RUN_ID.match(run_id):
        raise InvalidArgument.for_field(field, f"{run_id!r} is not a run id (32 hex digits)")
    if not path.strip("/."):
        raise InvalidArgument.for_field(field, "name the model's folder: runs:/RUN_ID/model")
    try:
        return run_id, clean_artifact_path(path)
    except InvalidArgument as exc:
        raise InvalidArgument.for_field(field, exc.errors[0].message) from None


def parse_model_uri(uri: str, field: str = "uri") -> ModelRef:
    """``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` or ``models:/NAME`` (the latest)."""
    if not uri.startswith("models:/"):
        raise InvalidArgument.for_field(field, "must look like models:/NAME/VERSION or @ALIAS")
    rest = uri.removeprefix("models:/")
    if "@" in rest:
        name, _, alias = rest.partition("@")
        if not name or not alias:
            raise InvalidArgument.for_field(field, "must look like models:/NAME@ALIAS")
        return ModelRef(name, alias=alias)
    name, _, version = rest.partition("/")
    if not name:
        raise InvalidArgument.for_field(field, "names no model")
    if not version:
        return ModelRef(name)
    if not _VERSION.match(version):
        raise InvalidArgument.for_field(field, f"version {version!r} is not a positive number")
    return ModelRef(name, version=int(version))


def parse_version(value: int | str, name: str, field: str = "version") -> int:
    """A version number, or a ``models:/NAME/VERSION`` URI that must name model ``name``."""
    if isinstance(value, int):
        return value
    if value.startswith("models:/"):
        ref = parse_model_uri(value, field)
        if ref.name != name:
            raise InvalidArgument.for_field(
                field, f"{value} is a version of model {ref.name!r}, not of {name!r}"
            )
        if ref.version is None:
            raise InvalidArgument.for_field(field, "name a version: models:/NAME/VERSION")
        return ref.version
    if not _VERSION.match(value.strip()):
        raise InvalidArgument.for_field(field, f"{value!r} is not a version number")
    return int(value)


def version_uri(name: str, version: int) -> str:
    return f"models:/{name}/{version}"


def alias_uri(name: str, alias: str) -> str:
    return f"models:/{name}@{alias}"


def run_uri(run_id: str) -> str:
    return f"run:{run_id}"


def dataset_uri(project: str, name: str, digest: str) -> str:
    return f"dataset:{project}/{name}@{digest}"


def parse_dataset_uri(uri: str, field: str = "uri") -> tuple[str, str, str]:
    """``dataset:PROJECT/NAME@DIGEST`` -> (project, name, digest)."""
    project, _, rest = uri.removeprefix("dataset:").partition("/")
    name, _, digest = rest.rpartition("@")
    if not project or not name or not digest:
        raise InvalidArgument.for_field(field, "must look like dataset:PROJECT/NAME@DIGEST")
    if max(len(project), len(name)) > MAX_NAME_LENGTH or len(digest) > MAX_DIGEST_LENGTH:
        raise InvalidArgument.for_field(
            field,
            f"a data set's project and name hold at most {MAX_NAME_LENGTH} characters, "
            f"its digest {MAX_DIGEST_LENGTH}",
        )
    return project, name, digest


def parse_run_node(uri: str, field: str = "uri") -> str:
    """``run:RUN_ID`` (or ``runs:/RUN_ID``) -> the run id."""
    run_id = uri.removeprefix("runs:/").removeprefix("run:").strip("/")
    if not _RUN_ID.match(run_id):
        raise InvalidArgument.for_field(field, f"{run_id!r} is not a run id (32 hex digits)")
    return run_id
