"""Documented limits on names and values; the README's limits table is checked against these."""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 250
"""Experiment, run, param, metric, tag and dataset names."""

MAX_DIGEST_LENGTH = 128
"""Characters of an input data set's digest."""

MAX_PARAM_VALUE_LENGTH = 8_000
"""Characters of a param's value once encoded (MLflow truncates at 6,000; plinth refuses)."""

MAX_TAG_VALUE_LENGTH = 65_536
"""Characters of a tag's value (notes are kept in the run, not in a tag)."""

MAX_NOTES_LENGTH = 1_000_000
"""Characters of a run's notes."""

MAX_BATCH_POINTS = 1_000_000
"""Metric points in one batch."""

MAX_BATCH_PARAMS = 10_000
"""Params, and separately tags, in one batch."""

MAX_RESULTS = 10_000
"""Largest page a listing or search returns."""

MAX_HISTORY_POINTS = 10_000_000
"""Largest metric history returned without downsampling."""

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-./: ]+$")
"""Allowed characters in param, metric and tag keys (letters, digits, ``_ - . / :`` and space)."""

NAME_PATTERN = re.compile(r"^[^\x00-\x1f\x7f]+$")
"""Experiment, run and dataset names: any printable text."""
