"""``without_grad``: torch.no_grad() for the attack's per-iteration helpers, entered only when needed.

Entering ``torch.no_grad()`` costs about 4 µs in Python; the attack's loop calls half a dozen such helpers
per iteration, already without grad mode, and on a small recognizer (the demo MLP, ~0.6 ms forward and
backward on a CPU) those microseconds are a measurable share of an iteration. The helpers stay safe to
call from anywhere: with grad mode on they run under no_grad as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import torch

F = TypeVar("F", bound=Callable)


def without_grad(fn: F) -> F:
    """Run ``fn`` with grad mode off: under ``torch.no_grad()`` only if it is on at the call."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if torch.is_grad_enabled():
            with torch.no_grad():
                return fn(*args, **kwargs)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
