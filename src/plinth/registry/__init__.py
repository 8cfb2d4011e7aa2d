"""The model registry: versions, aliases, promotion gates, lineage and webhooks."""
