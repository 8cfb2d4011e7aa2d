"""The Python user's face: the active-run API, the metric buffer and autologging."""
