"""uvicorn's HTTP/1.1 protocol with a deadline on each request head.

uvicorn bounds the idle time between requests on a kept-alive connection, but not the time a
client takes to send a request: one that opens a connection and sends nothing, or sends its
headers a byte at a time, holds the connection and its memory indefinitely (Slowloris;
uvicorn issue #157, "--timeout-request-start", open since 2018). :func:`head_deadline`
makes a protocol class that gives a connection ``seconds`` to deliver each request head,
counted from the connection's opening or from the first byte after the previous response.
Past it the client gets a ``408`` with the service's JSON error body, if it had sent anything,
and the connection is closed. The same deadline bounds the rest of a body that was answered
before it was read (a 401, 413 or 404), which uvicorn otherwise reads and discards for as long
as the client trickles it.

The body's own deadline is :class:`compliance.service.app.BodyLimit`'s, which answers 408 too.
This module relies on uvicorn's h11 protocol class (``connection_made``, ``data_received``,
``connection_lost`` and its h11 connection, ``conn``); the service tests exercise it on a real
server, so a uvicorn release that changes them fails there.
"""

from __future__ import annotations

import asyncio
import json
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from compliance.service.models import error_body

LOG = logging.getLogger("compliance.http")


def _timeout_response(seconds: float) -> bytes:
    problem = f"the request head did not arrive within {seconds:g} s"
    body = json.dumps(error_body(408, "request_timeout", [problem]), separators=(",", ":"))
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return (head + body).encode("ascii")


class _HeadDeadline(H11Protocol):
    head_timeout: float = 10.0

    _timer: asyncio.TimerHandle | None = None
    _head_bytes: int = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            if self._timer is None:
                self._arm()  # the first byte of the next request on a kept-alive connection
            self._head_bytes += len(data)
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE and not self._answered_mid_body():
            self._disarm()  # the head is complete: the body is BodyLimit's to time
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _answered_mid_body(self) -> bool:
        """The response went out before the client finished sending its body (a 401, 413 or
        404 answered without reading it): uvicorn discards the rest as it comes."""
        return self.conn.their_state is h11.SEND_BODY and self.conn.our_state in (
            h11.DONE,
            h11.MUST_CLOSE,
        )

    def _watch(self) -> None:
        """Arm the deadline whenever the client owes bytes and no request is being served: a
        head begun behind the last response (pipelined, or after a discarded body), or the rest
        of a body the response did not wait for. Nothing else bounds either: uvicorn's
        keep-alive timer is cancelled by every byte received."""
        if self.transport.is_closing():
            return
        if self._answered_mid_body():
            if self._timer is None:
                self._arm()
        elif self.conn.their_state is h11.IDLE and (buffered := self.conn.trailing_data[0]):
            if self._timer is None:
                self._arm()
            self._head_bytes = max(self._head_bytes, len(buffered))
            self._unset_keepalive_if_required()  # a request has begun: its head is ours to time

    def _arm(self) -> None:
        self._disarm()
        self._head_bytes = 0
        self._timer = self.loop.call_later(self.head_timeout, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        client = "%s:%d" % self.client if self.client else "a client"  # noqa: UP031
        if self._answered_mid_body():
            LOG.warning(
                "%s: request body unfinished %g s after its response: closed",
                client,
                self.head_timeout,
            )
            self.transport.close()
            return
        if self.conn.their_state is not h11.IDLE:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a response is still being sent; its end arms keep-alive
        if self._head_bytes:
            LOG.warning(
                "%s: request head incomplete after %g s (%d bytes): closed",
                client,
                self.head_timeout,
                self._head_bytes,
            )
            self.transport.write(_timeout_response(self.head_timeout))
        self.transport.close()  # connection_lost tells h11


def head_deadline(seconds: float) -> type[H11Protocol]:
    """An h11 protocol class for uvicorn (``http=``) closing connections whose request head
    takes longer than ``seconds``."""
    return type("HeadDeadlineProtocol", (_HeadDeadline,), {"head_timeout": seconds})
