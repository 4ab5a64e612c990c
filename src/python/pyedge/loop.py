"""An asyncio event loop for WASI: `asyncio.run`, tasks, `gather`, `sleep` and timeouts
inside a handler, and the loop that runs ASGI apps.

The stock loop cannot start here: `SelectorEventLoop` makes a self-pipe with
`socket.socketpair()`, which WASI preview 1 does not have. This loop is asyncio's own
`BaseEventLoop` (ready queue, timers, tasks, futures, async generators: all of it
unchanged) with the one thing it asks of a subclass, waiting for I/O, reduced to what a
component has: no sockets and no threads. Outbound HTTP is a host call that blocks until
the response arrives (`pyedge.http.send`), so there is never a file descriptor to watch;
waiting for a timer is sleeping (WASI's `poll_oneoff` on a clock, which the host turns
into `wasi:io/poll`).

Work that asyncio would hand to a thread (`run_in_executor`, `asyncio.to_thread`,
`anyio.to_thread.run_sync`, which Starlette and FastAPI use for sync routes and
iterators) runs inline, in the calling task, as Cloudflare's Python Workers do: a
component has one thread.
"""

import asyncio
import sys
import time
from asyncio import base_events, events

__all__ = ["EventLoop", "EventLoopPolicy", "install", "run", "NothingToWaitFor"]


class NothingToWaitFor(RuntimeError):
    """Every task waits and nothing can wake one: no timer is due and there is no I/O."""


class _Clock:
    """What `BaseEventLoop._run_once` calls its selector: it asks to wait up to `timeout`
    seconds for I/O events. There is no I/O to watch, so it sleeps until the next timer.

    `timeout=None` means the loop has no ready callback and no timer: on a host with
    sockets it would block until one is readable; here nothing could ever wake it, so
    it raises instead of hanging the request until the host kills the instance."""

    def select(self, timeout):
        if timeout is None:
            raise NothingToWaitFor(
                "pyedge: the event loop has nothing to run and no timer to wait for: a "
                "coroutine awaits something nothing will complete (a socket, a thread, "
                "or a future no task sets)"
            )
        if timeout > 0:
            time.sleep(timeout)
        return []

    def close(self):
        pass


class EventLoop(base_events.BaseEventLoop):
    """asyncio's base loop, waiting on the clock only (see the module's text)."""

    def __init__(self):
        super().__init__()
        self._selector = _Clock()

    def _process_events(self, event_list):
        pass  # _Clock.select never returns events

    def _write_to_self(self):
        pass  # wakes a loop blocked in select from another thread: there is none

    def run_in_executor(self, executor, func, *args):
        """Run `func(*args)` now, in this thread, and return a finished future."""
        self._check_closed()
        future = self.create_future()
        try:
            future.set_result(func(*args))
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def set_default_executor(self, executor):
        pass  # nothing runs in an executor (see run_in_executor)


class EventLoopPolicy(events.BaseDefaultEventLoopPolicy):
    """Makes `asyncio.run`, `asyncio.new_event_loop` and `asyncio.Runner` use
    :class:`EventLoop`."""

    _loop_factory = EventLoop


async def _run_sync_inline(func, *args, abandon_on_cancel=False, cancellable=None, limiter=None):
    """`anyio.to_thread.run_sync` without a thread: call `func` in this task."""
    return func(*args)


def _patch_anyio(module):
    """Point `anyio.to_thread.run_sync` at the inline version (anyio would start a worker
    thread, which fails here). Callers look it up on the module at call time
    (`anyio.to_thread.run_sync(...)`), so replacing the module attribute covers them."""
    module.run_sync = _run_sync_inline


def install():
    """Build time: asyncio uses :class:`EventLoop` from now on, and anyio (if the app
    imported it) runs its thread work inline.

    Besides the policy (what `asyncio.run()` and `new_event_loop()` ask), the names
    that stand for "the platform's loop" point here: `asyncio.EventLoop` (3.13's
    spelling for `asyncio.run(loop_factory=...)`, `asyncio.Runner` and
    `IsolatedAsyncioTestCase.loop_factory`) and `asyncio.DefaultEventLoopPolicy` (what
    code that resets the policy installs). `SelectorEventLoop` keeps its meaning."""
    for module in (asyncio, sys.modules.get("asyncio.unix_events")):
        if module is not None:
            module.EventLoop = EventLoop
            module.DefaultEventLoopPolicy = EventLoopPolicy
    asyncio.set_event_loop_policy(EventLoopPolicy())
    to_thread = sys.modules.get("anyio.to_thread")
    if to_thread is not None:
        _patch_anyio(to_thread)


def run(coro):
    """Run `coro` to completion on a fresh loop and return its result, as `asyncio.run`
    does (pending tasks are cancelled and async generators closed at the end), and
    without asyncio.run's signal handling."""
    loop = EventLoop()
    events.set_event_loop(loop)
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            events.set_event_loop(None)
            loop.close()


def _cancel_all(loop):
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
