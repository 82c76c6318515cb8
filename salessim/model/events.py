"""Reusable SimPy events: one heap entry per recurring step, no new objects per wait."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy
from simpy.events import NORMAL

from salessim.model.reps import Rep

LeadLife = Generator[float | None, Rep | None, None]
"""A lead's generator: yields days to wait, or None to wait for a rep; is sent the rep."""


class Wakeup(simpy.Event):
    """A reusable SimPy event: each time it is processed it calls ``action`` once.

    A plain SimPy event is processed once; this one is put back on the schedule (at
    normal priority, like a ``Timeout`` or a succeeded event) by ``after``, so a
    recurring step costs one heap entry and no new objects. This relies on what
    ``Environment.step`` does with an event (take its callbacks, set them to None, call
    them, then check ``_ok``), so the event is re-armed by giving it its callbacks
    again before each ``Environment.schedule``.
    """

    def __init__(self, env: simpy.Environment, action: Callable[[simpy.Event], None]) -> None:
        self.env = env
        self.callbacks = None  # type: ignore[assignment]  # not scheduled
        self._ok = True
        self._value: Any = None
        self._actions = [action]

    def after(self, delay: float, value: Any = None) -> None:
        """Process this event again ``delay`` days from now, with ``value``."""
        self._value = value
        self.callbacks = self._actions
        self.env.schedule(self, NORMAL, delay)

    def cancel(self) -> None:
        """Call nothing from now on, even if already scheduled."""
        self._actions = []
        if self.callbacks is not None:
            self.callbacks = []


class LeadProcess(Wakeup):
    """Drives one lead's generator: one event, re-scheduled for each of its waits.

    The callback is the class's own function, shared by all instances, and the
    generator is dropped when it ends, so a finished lead's process holds no reference
    cycle and is freed at once rather than left to the garbage collector.
    """

    cold_exempt = False
    """A lead's own wait for a rep can go cold."""
    registry: set[Any] | None = None
    """The processes not ended yet that this one belongs to, if any keeps them."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.callbacks = None  # type: ignore[assignment]  # not scheduled
        self._ok = True
        self._value = None
        self._actions = _LEAD_STEP
        self.life: LeadLife | None = None

    def start(self, life: LeadLife) -> None:
        """Run ``life`` now until its first wait."""
        self.life = life
        self._step()

    def resume(self, value: Rep | None) -> None:
        """Continue the lead now, sending it ``value`` (the rep it waited for, or None)."""
        self.after(0.0, value)

    def stop(self) -> None:
        """End the lead's generator where it waits (the run is over)."""
        if self.life is not None:
            self.life.close()
            self.life = None

    def _step(self, _: object = None) -> None:
        try:
            delay = self.life.send(self._value)  # type: ignore[union-attr]
        except StopIteration:
            self.life = None
            if self.registry is not None:
                self.registry.discard(self)
            return
        if delay is not None:  # as ``after(delay)``; the value sent after a sleep is unused
            self.callbacks = self._actions
            self.env.schedule(self, NORMAL, delay)


_LEAD_STEP: list[Callable[[Any], None]] = [LeadProcess._step]
"""The callbacks of every lead process event: the event is passed as ``self``."""


class WorkProcess(LeadProcess):
    """Drives work whose wait for a rep never goes cold.

    That is an extra rep's part of joint work, and after-sale work: only a lead's own
    wait can go cold.
    """

    cold_exempt = True

    def __init__(self, env: simpy.Environment, registry: set[Any] | None = None) -> None:
        super().__init__(env)
        if registry is not None:
            # Known to ``registry`` until its generator ends, without a wrapping generator
            # (one more frame to resume at every wait) to say so.
            self.registry = registry
            registry.add(self)
