"""pyedge.loop: asyncio on a loop with no selector and no threads."""

import asyncio
import sys
import threading
import time

import pytest

from pyedge import loop as pyedge_loop


def test_run_gathers_tasks_and_sleeps_in_order():
    order = []

    async def worker(name, delay):
        await asyncio.sleep(delay)
        order.append(name)
        return name

    async def main():
        return await asyncio.gather(worker("slow", 0.03), worker("fast", 0.01))

    started = time.monotonic()
    assert pyedge_loop.run(main()) == ["slow", "fast"]
    assert order == ["fast", "slow"]
    assert time.monotonic() - started >= 0.03


def test_timeouts_cancel_the_awaited_task():
    async def main():
        try:
            await asyncio.wait_for(asyncio.sleep(10), timeout=0.01)
        except asyncio.TimeoutError:
            return "timed out"

    assert pyedge_loop.run(main()) == "timed out"


def test_executor_work_runs_inline_in_this_thread():
    async def main():
        here = threading.get_ident()
        loop = asyncio.get_running_loop()
        a = await loop.run_in_executor(None, threading.get_ident)
        b = await asyncio.to_thread(threading.get_ident)
        return here, a, b

    here, a, b = pyedge_loop.run(main())
    assert here == a == b == threading.get_ident()


def test_executor_exception_reaches_the_awaiting_task():
    def fail():
        raise ValueError("boom")

    async def main():
        with pytest.raises(ValueError, match="boom"):
            await asyncio.get_running_loop().run_in_executor(None, fail)
        return True

    assert pyedge_loop.run(main())


def test_waiting_on_nothing_raises_instead_of_hanging():
    async def main():
        await asyncio.get_running_loop().create_future()  # nobody sets it

    with pytest.raises(pyedge_loop.NothingToWaitFor, match="nothing to run"):
        pyedge_loop.run(main())


def test_leftover_tasks_are_cancelled_at_the_end():
    seen = []

    async def forever():
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def main():
        asyncio.get_running_loop().create_task(forever())
        await asyncio.sleep(0)
        return 1

    assert pyedge_loop.run(main()) == 1
    assert seen == ["cancelled"]


def _keep_asyncio_names(monkeypatch):
    """install() repoints asyncio's platform-loop names; put them back after the test."""
    for module in (asyncio, sys.modules.get("asyncio.unix_events")):
        for name in ("EventLoop", "DefaultEventLoopPolicy"):
            if module is not None and hasattr(module, name):
                monkeypatch.setattr(module, name, getattr(module, name))


def test_install_makes_asyncio_run_use_the_loop(monkeypatch):
    _keep_asyncio_names(monkeypatch)
    policy = asyncio.get_event_loop_policy()
    try:
        pyedge_loop.install()

        async def kind():
            return type(asyncio.get_running_loop())

        assert asyncio.run(kind()) is pyedge_loop.EventLoop
        # The spellings of "the platform's loop" name it too (3.13's asyncio.EventLoop,
        # what IsolatedAsyncioTestCase subclasses pass as loop_factory).
        assert asyncio.EventLoop is pyedge_loop.EventLoop
        if sys.version_info >= (3, 12):  # the runtime's 3.13; this test may run on 3.11
            assert asyncio.run(kind(), loop_factory=asyncio.EventLoop) is pyedge_loop.EventLoop
        with asyncio.Runner(loop_factory=asyncio.EventLoop) as runner:
            assert runner.run(kind()) is pyedge_loop.EventLoop
        asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
        assert asyncio.run(kind()) is pyedge_loop.EventLoop
    finally:
        asyncio.set_event_loop_policy(policy)


def test_install_patches_anyio_to_thread(monkeypatch):
    import types
    import sys

    fake = types.ModuleType("anyio.to_thread")
    monkeypatch.setitem(sys.modules, "anyio.to_thread", fake)
    _keep_asyncio_names(monkeypatch)
    policy = asyncio.get_event_loop_policy()
    try:
        pyedge_loop.install()
    finally:
        asyncio.set_event_loop_policy(policy)

    async def main():
        return await fake.run_sync(lambda x: (x, threading.get_ident()), 7)

    assert pyedge_loop.run(main()) == (7, threading.get_ident())
