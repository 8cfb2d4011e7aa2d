"""Artifact storage: content-addressed blobs over fsspec, and per-run manifests."""
