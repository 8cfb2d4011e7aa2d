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


def test_a_run_started_during_a_flush_is_created_before_its_points_are_sent() -> None:
    """The flush took the pending creations before this run started; its points, appended
    later, are drained by the same flush and must carry the creation with them."""
    sent: list[tuple[str, RunBatch]] = []

    def send(run_id: str, batch: RunBatch) -> None:
        if not sent:  # the first delivery: meanwhile the training loop starts a run
            buffer.add_create("late", RunCreate())
            buffer.append(("late", "m", 1.0, 0, 0))
        sent.append((run_id, batch))

    buffer = RunBuffer(send, interval=60)
    buffer.append(("early", "m", 1.0, 0, 0))
    buffer.flush()
    late = [batch for run_id, batch in sent if run_id == "late"]
    assert late, "the late run's point was not sent"
    assert late[0].create is not None  # created by the batch that carries its first points
    assert sum(batch.point_count for batch in late) == 1
    assert buffer.failed_batches == 0
    buffer.close()


def test_a_batch_that_cannot_be_spooled_waits_and_is_delivered_later() -> None:
    attempts: list[int] = []

    def send(run_id: str, batch: RunBatch) -> None:
        attempts.append(batch.point_count)
        if len(attempts) <= 2:
            raise OSError(28, "No space left on device")

    buffer = RunBuffer(send, interval=60)
    for step in range(5):
        buffer.append(("r", "m", float(step), step, 0))
    buffer.flush()
    assert attempts == [5, 5, 5]  # the same batch again, nothing dropped
    assert buffer.failed_batches == 0
    buffer.close()
