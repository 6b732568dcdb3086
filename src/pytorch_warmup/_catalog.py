r"""The named warmups and LR schedules: one table, one meaning per name.

Every name that the command line, the figures and the demo use for a warmup is
a key of :data:`WARMUPS`, and means the same thing everywhere: ``"linear"`` is
the linear warmup :math:`\omega_t = \min(1, t/\tau)`, with the period
:math:`\tau` given in updates or, when none is given, the untuned one that
follows from Adam's :math:`\beta_2` (:class:`~pytorch_warmup.UntunedLinearWarmup`);
``"exponential"`` likewise; ``"radam"`` always takes its period from
:math:`\beta_2`. These are also the names that
:func:`~pytorch_warmup.effective_warmup_period` accepts, with the same meaning.

:data:`SCHEDULERS` names the torch LR schedulers that ``plot --scheduler``
puts under a warmup, :data:`COOLDOWN_SHAPES` the shapes of a warmup's
``cool_down()``, and :data:`RECIPES` whole schedules made of the three (the
demo's warmup-stable-decay). The tables are dicts of frozen entries, so a later
entry is one more item; what each consumer needs from an entry is a field or a
method, and a new field gets a default so that the existing entries stay as
they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
)

from ._math import COOLDOWN_SHAPES
from .base import BaseWarmup, ExponentialWarmup, LinearWarmup
from .radam import RAdamWarmup
from .untuned import UntunedExponentialWarmup, UntunedLinearWarmup

__all__ = [
    "ALIASES",
    "COOLDOWN_SHAPES",
    "RECIPES",
    "SCHEDULERS",
    "WARMUPS",
    "NamedRecipe",
    "NamedScheduler",
    "NamedWarmup",
    "lookup",
]


@dataclass(frozen=True)
class NamedWarmup:
    r"""One named warmup: how to build it, and how legends and tables show it.

    Attributes:
        name: The name, a key of :data:`WARMUPS`.
        label: How a legend or a table names the warmup built from
            :math:`\beta_2` (``"untuned linear"``).
        color: Its colour in every figure.
        untuned: Builds the warmup with its period from the optimizer's
            :math:`\beta_2`.
        tuned: Builds it with a given period in updates; ``None`` when the
            warmup has no period to give (RAdam).
        min_beta2: :math:`\beta_2` must be above this (RAdam: 0.6).
        min_beta2_reason: Why, for error messages.
    """

    name: str
    label: str
    color: str
    untuned: Callable[[Optimizer], BaseWarmup]
    tuned: Callable[[Optimizer, int], BaseWarmup] | None = None
    min_beta2: float = 0.0
    min_beta2_reason: str = ""

    def build(self, optimizer: Optimizer, warmup_period: int | None = None) -> BaseWarmup:
        """The warmup on ``optimizer``: with ``warmup_period`` (updates), else untuned.

        Raises:
            ValueError: a period for a warmup that takes none.
        """
        if warmup_period is None:
            return self.untuned(optimizer)
        if self.tuned is None:
            raise ValueError(
                f"the {self.label} takes its period from beta2; a warmup period is only for "
                f"{' and '.join(w.name for w in WARMUPS.values() if w.tuned is not None)}"
            )
        return self.tuned(optimizer, warmup_period)

    def describe(self, beta2: float, warmup_period: int | None = None) -> str:
        """The warmup in words: ``"untuned linear warmup (beta2 = 0.999)"``."""
        if warmup_period is not None:
            return f"{self.name} warmup (period {warmup_period} updates)"
        what = self.label if self.label.endswith("warmup") else f"{self.label} warmup"
        return f"{what} (beta2 = {beta2:g})"

    def factors(
        self, beta2: float, steps: Iterable[int], warmup_period: int | None = None
    ) -> list[float]:
        r"""The warmup's own factors :math:`\omega_{s+1}` at the step indices ``steps``.

        Computed by the warmup class itself (``warmup_factor``), built on a
        throwaway Adam optimizer with ``betas=(0.9, beta2)``.
        """
        parameter = torch.zeros(1, requires_grad=True)
        optimizer = torch.optim.Adam([parameter], lr=1.0, betas=(0.9, beta2))
        warmup = self.build(optimizer, warmup_period)
        params = warmup.warmup_params[0]
        return [warmup.warmup_factor(s, **params) for s in steps]


WARMUPS: dict[str, NamedWarmup] = {
    w.name: w
    for w in (
        NamedWarmup(
            "linear",
            "untuned linear",
            "tab:blue",
            UntunedLinearWarmup,
            lambda opt, period: LinearWarmup(opt, warmup_period=period),
        ),
        NamedWarmup(
            "exponential",
            "untuned exponential",
            "tab:orange",
            UntunedExponentialWarmup,
            lambda opt, period: ExponentialWarmup(opt, warmup_period=period),
        ),
        NamedWarmup(
            "radam",
            "RAdam warmup",
            "tab:green",
            RAdamWarmup,
            min_beta2=0.6,
            min_beta2_reason="rho_inf > 4",
        ),
    )
}
"""The named warmups, in the order of tables and legends."""

ALIASES: dict[str, str] = {"exp": "exponential", "expo": "exponential"}
"""Short names accepted on the command line for entries of :data:`WARMUPS`."""


def lookup(name: str, what: str = "warmup") -> NamedWarmup:
    """The entry of ``name`` (case-insensitive, aliases allowed).

    Raises:
        ValueError: an unknown name, naming the known ones (``what`` says what
            a name is, in the message).
    """
    key = ALIASES.get(name.lower(), name.lower())
    if key not in WARMUPS:
        raise ValueError(f"unknown {what} {name!r} (choose from {', '.join(WARMUPS)})")
    return WARMUPS[key]


@dataclass(frozen=True)
class NamedScheduler:
    """One named torch LR scheduler over a training of ``total_steps`` updates.

    Attributes:
        name: The name, a key of :data:`SCHEDULERS`.
        description: What it does, for help texts.
        build: Builds the schedulers on an optimizer for ``total_steps`` updates.
    """

    name: str
    description: str
    build: Callable[[Optimizer, int], list[LRScheduler]]


def _milestones(total_steps: int) -> list[int]:
    return sorted({max(1, total_steps // 2), max(1, 3 * total_steps // 4)})


SCHEDULERS: dict[str, NamedScheduler] = {
    s.name: s
    for s in (
        NamedScheduler(
            "cosine",
            "CosineAnnealingLR(T_max=total_steps)",
            lambda opt, n: [CosineAnnealingLR(opt, T_max=n)],
        ),
        NamedScheduler(
            "linear",
            "LinearLR from 1 to 0 over total_steps",
            lambda opt, n: [LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=n)],
        ),
        NamedScheduler("constant", "no scheduler", lambda opt, n: []),
        NamedScheduler(
            "step",
            "MultiStepLR, times 0.1 at 50 % and 75 % of total_steps",
            lambda opt, n: [MultiStepLR(opt, milestones=_milestones(n), gamma=0.1)],
        ),
    )
}
"""The LR schedulers that ``plot --scheduler`` draws under a warmup."""


@dataclass(frozen=True)
class NamedRecipe:
    """A whole schedule: a scheduler of :data:`SCHEDULERS` under a warmup of
    :data:`WARMUPS` (untuned), and a cooldown over the last part of the training.

    Attributes:
        name: The name, a key of :data:`RECIPES`.
        label: How a legend or a table names it.
        scheduler: The LR scheduler's name.
        warmup: The warmup's name (built untuned, from the optimizer's beta2).
        cooldown: The cooldown's shape, one of :data:`COOLDOWN_SHAPES`.
        cooldown_fraction: The cooldown is this last fraction of the updates.
        final: The cooldown's final factor of the rate.
    """

    name: str
    label: str
    scheduler: str
    warmup: str
    cooldown: str
    cooldown_fraction: float
    final: float = 0.0

    def cooldown_span(self, total_steps: int, warmup_end: int | None) -> tuple[int, int] | None:
        """The cooldown as ``(after_update, over_updates)`` for ``total_steps`` updates.

        The last :attr:`cooldown_fraction` of the updates, rounded to the nearest
        update as ``cool_down(last_fraction=...)`` rounds it; in a run too short
        for that to start after the warmup's period (``warmup_end``, in
        updates), it starts there instead, and there is none when the run ends
        first.

        Example:
            >>> from pytorch_warmup._catalog import RECIPES
            >>> RECIPES["wsd"].cooldown_span(400, 200), RECIPES["wsd"].cooldown_span(230, 200)
            ((320, 80), (200, 30))
        """
        over = round(Fraction(repr(self.cooldown_fraction)) * total_steps)
        after = total_steps - over
        if warmup_end is not None and after < warmup_end:
            after = warmup_end
        return (after, total_steps - after) if after < total_steps else None

    def build(self, optimizer: Optimizer, total_steps: int) -> tuple[list[LRScheduler], BaseWarmup]:
        """The schedulers and the warmup, with its cooldown, for ``total_steps`` updates."""
        schedulers = SCHEDULERS[self.scheduler].build(optimizer, total_steps)
        warmup = WARMUPS[self.warmup].build(optimizer)
        span = self.cooldown_span(total_steps, warmup._period_in_steps())
        if span is not None:
            after, over = span
            warmup.cool_down(over, after_update=after, shape=self.cooldown, final=self.final)
        return schedulers, warmup

    def describe(self) -> str:
        """The schedule in words, for help texts and reports."""
        warmup = WARMUPS[self.warmup].label
        return (
            f"{warmup} warmup, {self.scheduler} rate, {self.cooldown} cooldown over the last "
            f"{self.cooldown_fraction:.0%} of the updates to {self.final:g}"
        )


RECIPES: dict[str, NamedRecipe] = {
    r.name: r
    for r in (NamedRecipe("wsd", "untuned linear WSD", "constant", "linear", "1-sqrt", 0.2),)
}
"""Whole named schedules: warmup-stable-decay (WSD) with the untuned linear warmup, a
constant rate and a 1-sqrt cooldown over the last 20 % of the updates."""
