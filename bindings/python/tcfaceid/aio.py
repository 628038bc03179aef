"""tcfaceid.AsyncClient: the Client API as coroutines, on the asyncio event loop.

The transfers are libcurl's multi interface in the C core (``_core.Multi``, one ``tcf_multi``):
the core says which sockets to watch and when to wake it; this module registers them with the
loop (``add_reader`` / ``add_writer`` and one ``call_later`` timer) and reports readiness back.
No thread per request, and no thread at all: retries, backoff and QPS waits are timers of the
core. The flows (``detect_auth`` ... ``wait_eid``, the checks) are Client's, written once as
steps in client.py; here the steps are awaited instead of run blocking. docs/python.md "asyncio".
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from typing import Any, Callable, Optional

from . import _core
from .client import _FLOW_METHODS, _Api, _Flow, _Sleep, _Step, _T

__all__ = ["AsyncClient"]

_IN, _OUT, _REMOVE = 1, 2, 4

# (id of the AsyncClient, RequestId) of the current task's last call
_last_request: contextvars.ContextVar[Optional[tuple[int, Optional[str]]]] = contextvars.ContextVar(
    "tcfaceid_last_request", default=None)


class _LoopDriver:
    """One ``_core.Multi`` driven by one asyncio event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_connections: int = 0) -> None:
        self.loop = loop
        self.multi = _core.Multi(self._watch, self._timer, self._done, max_connections)
        self._watched: dict[int, int] = {}  # fd -> _IN | _OUT
        self._timer_handle: Optional[asyncio.TimerHandle] = None

    def _watch(self, fd: int, what: int) -> None:
        want = 0 if what & _REMOVE else what
        have = self._watched.get(fd, 0)
        loop = self.loop
        if have & _IN and not want & _IN:
            loop.remove_reader(fd)
        if have & _OUT and not want & _OUT:
            loop.remove_writer(fd)
        if want & _IN and not have & _IN:
            loop.add_reader(fd, self.multi.socket, fd, _IN)
        if want & _OUT and not have & _OUT:
            loop.add_writer(fd, self.multi.socket, fd, _OUT)
        if want:
            self._watched[fd] = want
        else:
            self._watched.pop(fd, None)

    def _timer(self, ms: int) -> None:
        if self._timer_handle is not None:
            self._timer_handle.cancel()
            self._timer_handle = None
        if ms >= 0:
            self._timer_handle = self.loop.call_later(ms / 1000.0, self._on_timer)

    def _on_timer(self) -> None:
        self._timer_handle = None
        self.multi.timeout()

    @staticmethod
    def _done(op: Any) -> None:
        future: asyncio.Future[Any] = op.user
        if future.done():
            return
        if op.cancelled:
            future.cancel()
            return
        try:
            future.set_result(op.result())
        except Exception as e:  # the mapped tcfaceid.Error (or MemoryError)
            future.set_exception(e)

    async def run(self, start: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Start an op (``multi.call`` / ``multi.check``) and await it; cancelling the awaiting
        task cancels the op (its transfer is aborted)."""
        future = self.loop.create_future()
        op = start(*args, user=future, **kwargs)
        try:
            return await future
        except asyncio.CancelledError:
            op.cancel()
            raise
        finally:
            del op, future  # not kept alive by a traceback that holds this frame

    def close(self) -> None:
        """Cancel every op (their tasks see CancelledError), close the connections, unwatch."""
        try:
            self.multi.close()
        finally:
            self._timer(-1)
            for fd in list(self._watched):
                self._watch(fd, _REMOVE)


class _Ops:
    """The steps' target on a loop: the _core.Client's call/check as awaitables."""

    __slots__ = ("_driver", "_core")

    def __init__(self, driver: _LoopDriver, core: Any) -> None:
        self._driver = driver
        self._core = core

    def call(self, *args: Any) -> Any:
        return self._driver.run(self._driver.multi.call, self._core, *args)

    def check(self, action: str, **inputs: Any) -> Any:
        return self._driver.run(self._driver.multi.check, self._core, action, **inputs)


class AsyncClient(_Api):
    """A FaceID client for asyncio: the constructor and the methods of :class:`tcfaceid.Client`,
    every method that talks to the service a coroutine (``await client.detect_auth(...)``);
    ``prepare`` / ``parse`` (sans-IO) are the same plain methods. Close it with
    ``await client.aclose()`` or ``async with``.

    An AsyncClient belongs to the event loop it is first used on (one ``tcf_multi`` per loop;
    StateError from another loop): make one per loop. Cancelling a task aborts its transfer at
    once — a billable request that was being sent or answered may still have been executed.
    See docs/python.md "asyncio"."""

    _driver: Optional[_LoopDriver] = None
    _ops: Optional[_Ops] = None
    _closed = False
    _max_connections = 0

    def __init__(self, *args: Any, max_connections: int = 0, **kwargs: Any) -> None:
        """The options of :class:`tcfaceid.Client`, plus ``max_connections``: at most this many
        connections at once on the loop (0: 256); further calls queue for one."""
        if isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 0:
            raise _core.InvalidArgumentError("max_connections must be an integer >= 0")
        super().__init__(*args, **kwargs)
        self._max_connections = max_connections

    @property
    def last_request_id(self) -> Optional[str]:
        """The RequestId of this task's last call (also on every exception)."""
        last = _last_request.get()
        return last[1] if last is not None and last[0] == id(self) else None

    def _record(self, request_id: Optional[str]) -> None:
        _last_request.set((id(self), request_id))

    def _loop_ops(self) -> _Ops:
        loop = asyncio.get_running_loop()
        ops = self._ops
        if ops is not None and ops._driver.loop is loop:
            return ops
        if self._closed:
            raise _core.StateError("the client is closed")
        if ops is not None:
            raise _core.StateError("this AsyncClient belongs to another event loop: make one per loop")
        self._ops = ops = _Ops(_LoopDriver(loop, self._max_connections), self._core)
        self._driver = ops._driver
        return ops

    def _run(self, flow: _Flow[_T]) -> Any:  # a coroutine: the public methods await it
        return self._drive(flow, self._execute)

    async def _execute(self, step: _Step) -> Any:
        if isinstance(step, _Sleep):
            await asyncio.sleep(step.seconds)
            return None
        return await self._send(step, self._loop_ops())

    async def aclose(self) -> None:
        """Cancel the calls in flight (their tasks see CancelledError), close the connections
        and free the client. Idempotent."""
        self._closed = True
        driver, self._driver, self._ops = self._driver, None, None
        try:
            if driver is not None:
                driver.close()
        finally:
            self._core.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _coroutine_method(name: str) -> Callable[..., Any]:
    flow = getattr(_Api, name)

    @functools.wraps(flow)
    async def method(self: AsyncClient, *args: Any, **kwargs: Any) -> Any:
        return await flow(self, *args, **kwargs)

    return method


for _name in _FLOW_METHODS:
    setattr(AsyncClient, _name, _coroutine_method(_name))
del _name
