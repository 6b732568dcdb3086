r"""What a factor is: values of param-group keys as pure functions of the update.

A *term* gives, for the update with index ``step`` (0-based: update
:math:`t = \text{step} + 1`), one pair :math:`(m, a)` per param group: the
update uses ``own * m + a`` for its group key, where ``own`` is what the group
holds (what the LR schedulers, or the user, set). Nothing here touches an
optimizer; :mod:`pytorch_warmup._lr` writes the values, the drivers decide when.

===============  ============  ====================================================
term             group key     value used at update :math:`t`
===============  ============  ====================================================
``WarmupTerm``   ``lr``        :math:`\alpha\,\omega(t - o)` (``warmup_factor``; o:
                               the update a rewarm restarted it at, else 0)
``CooldownTerm`` ``lr``        :math:`\alpha\,c(t)`, from 1 to ``final``
``ValueTerm``    another key   :math:`v_0 + (v - v_0)\,\sigma_{t-1-o}`: from ``start``
                               (the first update) to the group's own value :math:`v`
===============  ============  ====================================================

The factors of the ``lr`` terms multiply (their product is computed first, then
the rate is multiplied once); every other key has one value term. A
:class:`Plan` holds the terms of one warmup and knows the *quiet* steps: a run
of updates over which every term is the identity, so that nothing needs doing.
Each term computes one value per distinct set of parameters, not per group.

To add a factor: a class with ``key``, ``factors(step)`` (and ``offsets`` for
a value), ``identity_until(step)`` and ``tensor_factors(step)`` for the in-graph
mode; :meth:`pytorch_warmup.BaseWarmup._plan` adds it to the plan.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import mul
from typing import TYPE_CHECKING, Any

from . import _math

if TYPE_CHECKING:
    from torch import Tensor

INF = math.inf

Factor = Callable[[int], float]
"""One factor function: the update index (0-based) to a number."""

TensorFactor = Callable[["Tensor"], "Tensor"]
"""One factor function of a float64 step tensor, with torch operations."""


def distinct(items: Sequence[Any]) -> tuple[list[Any], list[int] | None]:
    """The distinct items in order, and each item's index among them (``None``: all one)."""
    if not items or items.count(items[0]) == len(items):  # the usual case, compared in C
        return list(items[:1]), None
    found: list[Any] = []
    index = []
    for item in items:
        if item not in found:
            found.append(item)
        index.append(found.index(item))
    return found, index


def spread(values: list[Any], index: list[int] | None, n: int) -> list[Any]:
    """One value per group from one value per distinct set of parameters."""
    return [values[0]] * n if index is None else [values[i] for i in index]


class WarmupTerm:
    """The learning-rate factor of a warmup, restarted at update index ``origin``."""

    __slots__ = ("fns", "index", "monotone", "n", "origin", "tensor_fns")
    key = "lr"

    def __init__(
        self,
        fns: list[Factor],
        tensor_fns: list[TensorFactor] | None,
        index: list[int] | None,
        n: int,
        origin: int = 0,
        monotone: bool = False,
    ) -> None:
        self.fns = fns
        self.tensor_fns = tensor_fns
        self.index = index
        self.n = n
        self.origin = origin
        self.monotone = monotone

    def factors(self, step: int) -> list[float]:
        s = step - self.origin
        if s < 0:  # before a rewarm: the earlier warmup is over
            return [1.0] * self.n
        if self.index is None:
            return [self.fns[0](s)] * self.n
        return spread([fn(s) for fn in self.fns], self.index, self.n)

    def identity_until(self, step: int) -> float:
        if step < self.origin:
            return self.origin
        return INF if self.monotone else step + 1

    def single(self) -> Factor | None:
        """The factor of every group as one function of the step, when they share it."""
        if self.index is not None:
            return None
        fn, origin = self.fns[0], self.origin
        if not origin:
            return fn
        return lambda step: fn(step - origin) if step >= origin else 1.0

    def tensor_factors(self, step: Tensor) -> tuple[list[Tensor], list[int] | None]:
        if self.tensor_fns is None:
            raise TypeError("this warmup has no warmup_factor_tensor()")
        import torch

        s = step - self.origin
        values = [
            torch.where(s < 0, 1.0, fn(s)) if self.origin else fn(s) for fn in self.tensor_fns
        ]
        return values, self.index


class CooldownTerm:
    """The learning-rate factor of a cooldown over updates ``after + 1 .. after + over``."""

    __slots__ = ("after", "final", "n", "over", "shape")
    key = "lr"

    def __init__(self, after: int, over: int, shape: str, final: float, n: int) -> None:
        self.after = after
        self.over = over
        self.shape = shape
        self.final = final
        self.n = n

    def factors(self, step: int) -> list[float]:
        return [_math.cooldown_factor(step, self.after, self.over, self.shape, self.final)] * self.n

    def identity_until(self, step: int) -> float:
        if step + 1 <= self.after:
            return self.after
        return INF if self.final == 1.0 else step + 1

    def single(self) -> Factor:
        after, over, shape, final = self.after, self.over, self.shape, self.final
        cooldown = _math.cooldown_factor
        return lambda step: cooldown(step, after, over, shape, final)

    def tensor_factors(self, step: Tensor) -> tuple[list[Tensor], list[int] | None]:
        import torch

        u = step + (1.0 - self.after)
        p = torch.clamp(u / self.over, 0.0, 1.0)
        f = self.final
        if self.shape == "exponential":
            c = torch.pow(torch.full_like(p, f), p)
        else:
            if self.shape == "linear":
                g = (self.over - u) / self.over
            elif self.shape == "cosine":
                late = torch.sin((math.pi / 2.0) * (self.over - u) / self.over) ** 2
                g = torch.where(2 * u <= self.over, torch.cos(p * (math.pi / 2.0)) ** 2, late)
            else:
                g = (self.over - u) / self.over / (1.0 + torch.sqrt(p))
            c = f + (1.0 - f) * g
        c = torch.where(u <= 0, 1.0, torch.where(u >= self.over, f, c))
        return [c], None


class ValueTerm:
    """A group value warmed from ``start`` to the group's own over a period per group."""

    __slots__ = ("index", "key", "n", "origin", "periods", "shape", "start")

    def __init__(
        self, key: str, start: float, periods: list[int], shape: str, n: int, origin: int
    ) -> None:
        self.key = key
        self.start = start
        self.shape = shape
        self.periods, self.index = distinct(periods)
        self.n = n
        self.origin = origin

    def _sigmas(self, step: int) -> list[float]:
        s = step - self.origin
        if s < 0:
            return [1.0] * len(self.periods)
        return [_math.value_fraction(s, p, self.shape) for p in self.periods]

    def factors(self, step: int) -> list[float]:
        return spread(self._sigmas(step), self.index, self.n)

    def offsets(self, step: int) -> list[float]:
        start = self.start
        return spread([start * (1.0 - s) for s in self._sigmas(step)], self.index, self.n)

    def identity_until(self, step: int) -> float:
        return self.origin if step < self.origin else INF

    def tensor_factors(self, step: Tensor) -> tuple[list[Tensor], list[int] | None]:
        import torch

        s = step - self.origin
        out = []
        for p in self.periods:
            linear = self.shape == "linear"
            sigma = torch.clamp(s / p, max=1.0) if linear else -torch.expm1(-s / p)
            out.append(torch.where(s < 0, 1.0, sigma))
        return out, self.index


class Plan:
    """The terms of one warmup, and the run of quiet steps found last.

    ``lr``: the learning-rate terms (their factors multiply); ``values``: the
    value terms of other keys. ``lo <= step < hi`` is a run of steps over
    which every term is the identity (empty until :meth:`quiet` finds one).
    """

    __slots__ = ("hi", "lo", "lr", "n", "single", "source", "values")

    def __init__(self, lr: list[Any], values: list[ValueTerm], n: int, source: object) -> None:
        self.lr = lr
        self.values = values
        self.n = n
        self.source = source  # the warmup_params list the plan was built from
        self.lo = 0
        self.hi = 0
        self.single = self._single()

    def _single(self) -> Factor | None:
        """The learning-rate factor of every group as one function of the step, when the
        groups share it and nothing else applies (the drivers' one-call path)."""
        if self.values:
            return None
        fns: list[Factor | None] = [term.single() for term in self.lr]
        if len(fns) == 1:
            return fns[0]
        first, second, *rest = fns
        if first is None or second is None or rest:
            return None
        return lambda step: first(step) * second(step)

    def lr_factors(self, step: int) -> list[float]:
        """The product of the learning-rate factors, one per group."""
        terms = self.lr
        m: list[float] = terms[0].factors(step)
        for term in terms[1:]:
            m = list(map(mul, m, term.factors(step)))
        return m

    def quiet(self, step: int, lr_factors: list[float]) -> bool:
        """Whether nothing applies at ``step``; if so, remember the run of quiet steps."""
        if lr_factors.count(1.0) != len(lr_factors):
            return False
        if any(v.factors(step).count(1.0) != self.n for v in self.values):
            return False
        hi = min(term.identity_until(step) for term in (*self.lr, *self.values))
        self.lo, self.hi = step, hi
        return True

    def lr_tensor_factors(self, step: Tensor) -> tuple[list[Tensor], list[int] | None]:
        """The product of the learning-rate factors as tensors, one per distinct combination."""
        parts = [term.tensor_factors(step) for term in self.lr]
        if all(index is None for _, index in parts):
            product = parts[0][0][0]
            for values, _ in parts[1:]:
                product = product * values[0]
            return [product], None
        combos, index = distinct(
            [tuple(0 if ix is None else ix[g] for _, ix in parts) for g in range(self.n)]
        )
        out = []
        for combo in combos:
            product = parts[0][0][combo[0]]
            for (values, _), i in zip(parts[1:], combo[1:], strict=True):
                product = product * values[i]
            out.append(product)
        return out, index
