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
puts under a warmup. Both tables are dicts of frozen entries, so a later entry
(a warmup-stable-decay schedule, say) is one more item; what each consumer
needs from an entry is a field or a method, and a new field gets a default so
that the existing entries stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
)

from .base import BaseWarmup, ExponentialWarmup, LinearWarmup
from .radam import RAdamWarmup
from .untuned import UntunedExponentialWarmup, UntunedLinearWarmup

__all__ = ["ALIASES", "SCHEDULERS", "WARMUPS", "NamedScheduler", "NamedWarmup", "lookup"]


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
