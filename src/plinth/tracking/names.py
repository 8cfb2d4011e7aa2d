"""Memorable names for runs that were not given one (``brave-otter-42``)."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "able",
    "bold",
    "brave",
    "bright",
    "calm",
    "clever",
    "crisp",
    "eager",
    "fair",
    "fast",
    "gentle",
    "glad",
    "grand",
    "keen",
    "kind",
    "lively",
    "lucky",
    "merry",
    "neat",
    "noble",
    "proud",
    "quick",
    "quiet",
    "rapid",
    "sharp",
    "shy",
    "smooth",
    "steady",
    "swift",
    "witty",
)
_NOUNS = (
    "badger",
    "bee",
    "crane",
    "deer",
    "eagle",
    "falcon",
    "fox",
    "gecko",
    "hare",
    "heron",
    "ibis",
    "jay",
    "koala",
    "lark",
    "lynx",
    "mole",
    "newt",
    "otter",
    "owl",
    "panda",
    "quail",
    "raven",
    "seal",
    "swan",
    "tern",
    "tiger",
    "viper",
    "wolf",
    "wren",
    "yak",
)


def random_run_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(1, 999)}"
