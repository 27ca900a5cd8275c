"""Handing jobs to review workers from the event loop: free workers go to threads and coroutines
first come first served and are never lost when a waiter gives up, and a worker's answer is read
as it arrives, in pieces or not at all."""

from __future__ import annotations

import asyncio
import os
import pickle
import socket
import struct
import threading
from multiprocessing import Pipe

import pytest

from compliance.handoff import FrameReader, IdleWorkers


def test_free_workers_go_to_waiters_in_order_threads_and_coroutines_alike() -> None:
    idle: IdleWorkers[str] = IdleWorkers()
    got: list[tuple[str, str | None]] = []

    def thread_waiter() -> None:
        got.append(("thread", idle.get(5)))

    async def main() -> None:
        waiter = threading.Thread(target=thread_waiter)
        waiter.start()
        while not idle._waiting:
            await asyncio.sleep(0.01)
        coroutine = asyncio.ensure_future(idle.get_async(5))
        while len(idle._waiting) < 2:
            await asyncio.sleep(0.01)
        idle.put("first")
        idle.put("second")
        got.append(("coroutine", await coroutine))
        await asyncio.to_thread(waiter.join)
        idle.put("third")  # nobody waits: kept
        assert await idle.get_async(0) == "third"

    asyncio.run(main())
    assert sorted(got) == [("coroutine", "second"), ("thread", "first")]


def test_a_waiter_that_gives_up_gets_none_and_the_next_worker_is_kept() -> None:
    idle: IdleWorkers[str] = IdleWorkers()
    assert idle.get(0.05) is None

    async def main() -> None:
        assert await idle.get_async(0.05) is None
        idle.put("w")  # both gave up: the worker is not handed to either
        assert idle.get(0) == "w"

    asyncio.run(main())


def test_a_cancelled_coroutine_does_not_lose_the_worker_on_its_way() -> None:
    idle: IdleWorkers[str] = IdleWorkers()

    async def main() -> None:
        waiter = asyncio.ensure_future(idle.get_async(5))
        while not idle._waiting:
            await asyncio.sleep(0.01)
        idle.put("w")  # handed over, then cancelled before it ran
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert await idle.get_async(0) == "w"

    asyncio.run(main())


def read(fd: int) -> bytes:
    return asyncio.run(FrameReader(fd).read())


def test_an_answer_is_read_whole_however_it_arrives() -> None:
    parent, child = Pipe()
    answer = {"report": "x" * 300_000}
    worker = threading.Thread(target=child.send, args=(answer,))  # header, then the bytes
    worker.start()
    assert pickle.loads(read(parent.fileno())) == answer
    worker.join()
    mine, theirs = socket.socketpair()
    payload = b"abc" * 1000
    frame = struct.pack("!i", -1) + struct.pack("!Q", len(payload)) + payload  # the long form

    def trickle() -> None:
        for n in range(0, len(frame), 7):
            theirs.sendall(frame[n : n + 7])

    sender = threading.Thread(target=trickle)
    sender.start()
    assert read(mine.fileno()) == payload
    sender.join()
    mine.close()
    theirs.close()


def test_a_worker_that_dies_or_says_too_much_is_an_eof() -> None:
    mine, theirs = socket.socketpair()
    theirs.sendall(struct.pack("!i", 10) + b"abc")  # dies mid-answer
    theirs.close()
    with pytest.raises(EOFError, match="the worker closed its end"):
        read(mine.fileno())
    mine.close()
    mine, theirs = socket.socketpair()
    theirs.sendall(struct.pack("!i", 3) + b"abc" + b"more")
    with pytest.raises(EOFError, match="the worker sent more than one answer"):
        read(mine.fileno())
    mine.close()
    theirs.close()
    r, w = os.pipe()
    os.write(w, struct.pack("!i", -2))
    with pytest.raises(EOFError, match="a frame of -2 bytes"):
        read(r)
    os.close(r)
    os.close(w)
