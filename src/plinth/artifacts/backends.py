"""The blob store named by the settings: ``PLINTH_ARTIFACTS_URL`` picks the backend (by URL
scheme, through ``plugins.blob_store_for``); a few settings become its storage options."""

from __future__ import annotations

from typing import Any

from plinth.artifacts.store import BlobStore
from plinth.config import Settings
from plinth.plugins import blob_store_for


def storage_options(settings: Settings, url: str) -> dict[str, Any]:
    """fsspec options for ``url``. Credentials are not among them: S3's come from the usual
    ``AWS_*`` variables (or an instance role), as for any AWS client."""
    if url.startswith(("s3://", "s3a://")):
        # Other processes (servers, the collector) add and delete blobs: never answer
        # "exists?" from a cached listing.
        options: dict[str, Any] = {"use_listings_cache": False}
        if settings.s3_endpoint_url:
            options["client_kwargs"] = {"endpoint_url": settings.s3_endpoint_url}
        return options
    return {}


def open_blob_store(settings: Settings) -> BlobStore:
    url = settings.resolved_artifacts_url
    store: BlobStore = blob_store_for(url, **storage_options(settings, url))
    return store
