"""The SDK's run buffer: a run's creation counts as pending until it reached the store,
including while a background flush is sending it (inputs and artifacts wait for it)."""

from __future__ import annotations

import threading

from plinth.entities.tracking import RunBatch, RunCreate
from plinth.sdk.buffer import RunBuffer


def test_a_creation_on_its_way_is_still_pending_and_flush_waits_for_it() -> None:
    sending = threading.Event()
    release = threading.Event()
    delivered: list[str] = []

    def slow_send(run_id: str, batch: RunBatch) -> None:
        sending.set()
        assert release.wait(10)
        delivered.append(run_id)

    buffer = RunBuffer(slow_send, interval=60)
    buffer.add_create("r1", RunCreate())
    background = threading.Thread(target=buffer.flush)
    background.start()
    assert sending.wait(10)
    assert buffer.is_pending("r1")  # taken from the queue, not yet in the store
    waiter = threading.Thread(target=buffer.flush)  # what a log_input would do now
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # it waits for the creation to land
    release.set()
    background.join(10)
    waiter.join(10)
    assert delivered == ["r1"]
    assert not buffer.is_pending("r1")
    buffer.close()
