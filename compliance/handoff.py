"""Handing reviews to worker processes from the service's event loop, without a thread per request.

Each trip through a thread (``anyio.to_thread``) costs two wake-ups across threads and the GIL
changing hands, which on a busy machine cost the event loop more than the HTTP work of a request.
So a served review waits for a free worker as a coroutine (:class:`IdleWorkers` hands free
workers to threads and coroutines alike, first come first served) and reads the worker's answer
from the pipe when the event loop says it is readable (:class:`FrameReader`), never blocking the
loop on a worker that is slow, stopped or dead.
"""

from __future__ import annotations

import asyncio
import os
import struct
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

W = TypeVar("W")


class IdleWorkers(Generic[W]):
    """Free workers. :meth:`put` gives a worker to the longest-waiting caller of :meth:`get` (a
    thread) or :meth:`get_async` (a coroutine), or keeps it; any thread may call any method."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: deque[W] = deque()
        self._waiting: deque[Callable[[W], bool]] = deque()
        """Each takes a worker (True) or declines it, having given up waiting (False)."""

    def put(self, worker: W) -> None:
        with self._lock:
            while self._waiting:
                if self._waiting.popleft()(worker):
                    return
            self._free.append(worker)

    def get(self, timeout: float) -> W | None:
        """A free worker, waiting up to ``timeout`` seconds for one (None past it)."""
        handed: list[W] = []
        arrived = threading.Event()

        def take(worker: W) -> bool:
            if arrived.is_set():  # gave up
                return False
            handed.append(worker)
            arrived.set()
            return True

        with self._lock:
            if self._free:
                return self._free.popleft()
            self._waiting.append(take)
        arrived.wait(timeout)
        with self._lock:
            arrived.set()  # from now on, take() declines
            return handed[0] if handed else None

    async def get_async(self, timeout: float) -> W | None:
        """As :meth:`get`, for a coroutine on the running loop. If the coroutine is cancelled
        while a worker is on its way, the worker is put back."""
        loop = asyncio.get_running_loop()
        arrived = asyncio.Event()
        handed: list[W] = []
        gone = False

        def take(worker: W) -> bool:
            if gone:
                return False
            try:
                loop.call_soon_threadsafe(arrived.set)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                return False
            handed.append(worker)
            return True

        with self._lock:
            if self._free:
                return self._free.popleft()
            self._waiting.append(take)
        cancelled = False
        try:
            await asyncio.wait_for(arrived.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        except BaseException:
            cancelled = True
            raise
        finally:
            with self._lock:
                gone = True  # from now on, take() declines
                late = handed[:]
            if cancelled and late:  # a worker was on its way: it goes to the next in line
                self.put(late[0])
        return late[0] if late else None


_HEADER = struct.Struct("!i")
_LONG_HEADER = struct.Struct("!Q")


class FrameReader:
    """Reads one message framed as :class:`multiprocessing.connection.Connection` frames it (a
    signed 32-bit big-endian length, or -1 and a 64-bit one, then the bytes) from a descriptor
    as the event loop finds it readable. :meth:`read` returns the message's bytes, or raises
    :class:`EOFError` if the other end closes first."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray()
        self._size: int | None = None
        self._start = 0

    async def read(self) -> bytes:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bytes] = loop.create_future()

        def readable() -> None:
            if done.done():
                return
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                return
            except OSError as exc:
                done.set_exception(EOFError(str(exc)))
                return
            if not chunk:
                done.set_exception(EOFError("the worker closed its end"))
                return
            try:
                message = self._feed(chunk)
            except EOFError as exc:
                done.set_exception(exc)
                return
            if message is not None:
                done.set_result(message)

        loop.add_reader(self.fd, readable)
        try:
            return await done
        finally:
            loop.remove_reader(self.fd)

    def _feed(self, chunk: bytes) -> bytes | None:
        self._buffer += chunk
        if self._size is None:
            if len(self._buffer) < _HEADER.size:
                return None
            (size,) = _HEADER.unpack_from(self._buffer)
            self._start = _HEADER.size
            if size == -1:
                if len(self._buffer) < _HEADER.size + _LONG_HEADER.size:
                    return None
                (size,) = _LONG_HEADER.unpack_from(self._buffer, _HEADER.size)
                self._start += _LONG_HEADER.size
            if size < 0:
                raise EOFError(f"a frame of {size} bytes")
            self._size = size
        end = self._start + self._size
        if len(self._buffer) < end:
            return None
        if len(self._buffer) > end:  # one answer per job: anything more is out of step
            raise EOFError("the worker sent more than one answer")
        return bytes(self._buffer[self._start : end])
