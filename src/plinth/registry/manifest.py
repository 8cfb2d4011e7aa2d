"""``plinth-model.yaml`` to and from bytes. YAML so that people can read and diff it; the
manifest's sha256 is the model's identity (the registry and the load cache key on it)."""

from __future__ import annotations

import hashlib
from typing import Any

import yaml
from pydantic import ValidationError

from plinth.entities.models import MANIFEST_FILE, ModelManifest
from plinth.errors import FieldError, InvalidArgument

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dump_manifest(manifest: ModelManifest) -> bytes:
    data = manifest.model_dump(mode="json", exclude_none=True)
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return text.encode()


def read_manifest(data: bytes, where: str = MANIFEST_FILE) -> ModelManifest:
    """Parse and validate a manifest; ``InvalidArgument`` (naming ``where``) if it is not one."""
    try:
        parsed = yaml.load(data, Loader=_Loader)  # a safe loader (C or Python)
    except yaml.YAMLError as exc:
        raise InvalidArgument.for_field(where, f"not valid YAML: {exc}") from exc
    if not isinstance(parsed, dict):
        raise InvalidArgument.for_field(where, "not a model manifest")
    try:
        return ModelManifest.model_validate(parsed)
    except ValidationError as exc:
        errors = [
            FieldError(f"{where}:{'.'.join(str(p) for p in e['loc'])}", e["msg"])
            for e in exc.errors()
        ]
        raise InvalidArgument(f"{where} is not a valid model manifest", errors) from exc


def manifest_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
