"""FakeClock: time moves only when told, sleepers wake in deadline order, timers can be cancelled."""

import asyncio

from bot.engine.clock import FakeClock, SystemClock


async def test_sleepers_wake_in_order_at_their_deadlines() -> None:
    clock = FakeClock(start=100.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, s: float) -> None:
        await clock.sleep(s)
        woke.append((name, clock.monotonic() - 1000.0))
        if name == "a":
            await clock.sleep(1.0)  # a sleep started by a woken task is honoured in the same advance
            woke.append(("a2", clock.monotonic() - 1000.0))

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in (("c", 3.0), ("a", 1.0), ("b", 2.0))]
    await clock.advance(0)
    assert woke == []
    await clock.advance(2.5)
    assert woke == [("a", 1.0), ("b", 2.0), ("a2", 2.0)]
    assert clock.now() == 102.5
    await clock.advance(10)
    assert woke[-1] == ("c", 3.0)
    await asyncio.gather(*tasks)


async def test_cancelled_timers_do_not_fire() -> None:
    clock = FakeClock()
    fired: list[int] = []
    h = clock.call_later(1.0, lambda: fired.append(1))
    clock.call_later(2.0, lambda: fired.append(2))
    h.cancel()
    assert clock.pending() == 1
    await clock.advance(5)
    assert fired == [2] and clock.pending() == 0


async def test_system_clock_timer_runs_on_the_loop() -> None:
    clock = SystemClock()
    done = asyncio.Event()
    clock.call_later(0, done.set)
    await asyncio.wait_for(done.wait(), 5)
    assert clock.now() > 1e9
