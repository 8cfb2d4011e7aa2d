"""Seed data the UI tests share: two experiments, runs with params, long metric histories
(downsampled by the history API), system metrics, a NaN, and artifacts of every preview
kind. Written through the public Platform API, so it works locally and over REST."""

from __future__ import annotations

import io
import math
import struct
import zlib
from dataclasses import dataclass

from plinth.connect import Platform
from plinth.entities.common import now_ms

LONG_SERIES = 5000
"""Points of the long ``loss`` series: more than the UI asks for, so it comes downsampled."""
START_MS = now_ms() - 3_600_000
"""An hour ago: the seeded runs started then (their system metrics span five minutes)."""


@dataclass(frozen=True)
class Seeded:
    """Ids the tests navigate to."""

    vision_id: str
    nlp_id: str
    resnet_a: str
    resnet_b: str
    vit: str
    odd: str
    """A run whose name and params are HTML, to prove the pages escape them."""


def tiny_png() -> bytes:
    """A valid 4x4 red PNG, made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _metrics(
    offset: float, points: int, system: bool, nan_at: int | None = None
) -> dict[str, list[object]]:
    keys: list[str] = []
    values: list[float] = []
    steps: list[int] = []
    stamps: list[int] = []
    for step in range(points):
        loss = math.exp(-step / 800) + offset + 0.02 * math.sin(step / 7)
        keys += ["loss", "acc"]
        values += [math.nan if step == nan_at else loss, 1 - loss / 2]
        steps += [step, step]
        stamps += [START_MS + step * 100, START_MS + step * 100]
    if system:
        for sample in range(30):
            keys += ["system/cpu_percent", "system/memory_percent"]
            values += [40 + 10 * math.sin(sample), 55.0 + sample / 10]
            steps += [sample, sample]
            stamps += [START_MS + sample * 10_000] * 2
    return {"keys": keys, "values": values, "steps": steps, "timestamps": stamps}


def seed(platform: Platform) -> Seeded:
    tracking = platform.tracking
    vision = tracking.create_experiment("vision", description="image models")
    nlp = tracking.create_experiment("nlp")

    def run(name: str, experiment: str, params: dict[str, object], **kwargs: object) -> str:
        created = tracking.create_run(
            experiment_id=experiment, name=name, params=params, start_time=START_MS, **kwargs
        )
        return created.id

    resnet_a = run("resnet-a", vision.id, {"model": "resnet", "lr": 0.1, "epochs": 10})
    resnet_b = run("resnet-b", vision.id, {"model": "resnet", "lr": 0.01, "epochs": 10})
    vit = run("vit-c", vision.id, {"model": "vit", "lr": 0.001, "epochs": 20})
    odd = run("<b>odd</b>", nlp.id, {"model": "<script>alert(1)</script>"})
    tracking.log_batch(resnet_a, metrics=_metrics(0.10, LONG_SERIES, system=True))
    tracking.log_batch(resnet_b, metrics=_metrics(0.05, 1500, system=True))
    tracking.log_batch(vit, metrics=_metrics(0.20, 300, system=False, nan_at=10))
    tracking.log_metrics(odd, {"loss": 0.9}, step=0)
    tracking.set_tags(resnet_a, {"team": "vision", "note": "baseline"})
    tracking.end_run(resnet_a)
    tracking.end_run(resnet_b)

    files = {
        "readme.txt": b"resnet baseline\nsecond line\n",
        "config.json": b'{"optimizer": {"name": "sgd", "momentum": 0.9}, "layers": [1, 2, 3]}',
        "eval/predictions.csv": b"id,label,score\n1,cat,0.91\n2,dog,0.42\n3,cat,0.77\n",
        "eval/plots/curve.png": tiny_png(),
        "model.bin": bytes(range(256)) * 4,
    }
    for path, data in files.items():
        platform.artifacts.upload(resnet_a, path, io.BytesIO(data))
    big_files = {
        "big.csv": b"n,square\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(300)),
        "train.log": b"".join(b"line %06d of the training log\n" % i for i in range(5000)),
        "broken.json": b'{"unterminated": ',
    }
    for path, data in big_files.items():
        platform.artifacts.upload(resnet_b, path, io.BytesIO(data))
    return Seeded(vision.id, nlp.id, resnet_a, resnet_b, vit, odd)
