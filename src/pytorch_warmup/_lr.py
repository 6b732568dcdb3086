r"""Reading, restoring and scaling the learning rates of param groups.

This module is the only code that writes ``group["lr"]``. A learning rate is
either a Python number or a 0-dim floating-point tensor (compiled and
capturable optimizers keep it as a tensor so that changing it does not
recompile). The rules for tensors:

* a tensor in ``group["lr"]`` is never rebound: its value is updated in place,
  so ``torch.compile`` guards and CUDA graphs keep seeing the same object;
* values read from a group are copies, never aliases;
* nothing here reads a tensor's value on the host (no ``.item()``), so the step
  path never synchronises a GPU. Work on many tensors is batched with the
  ``torch._foreach_*`` kernels, so the number of kernel launches per step does
  not grow with the number of param groups.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any, TypeAlias

import torch
from torch import Tensor

LR: TypeAlias = "float | Tensor"
"""A learning rate: a Python float or a 0-dim floating-point tensor."""

_Groups: TypeAlias = "Sequence[dict[str, Any]]"


def copy_lr(value: LR) -> LR:
    """Return a copy of a learning rate that shares no storage with ``value``."""
    if isinstance(value, Tensor):
        return value.detach().clone()
    return value


def check_lr(value: object, where: str) -> None:
    """Raise a clear error unless ``value`` is a usable learning rate.

    Float values must be finite and non-negative. Tensor values must be 0-dim
    and floating point; their value is not inspected, because that would
    synchronise a GPU.
    """
    if isinstance(value, Tensor):
        if value.dim() != 0 or not value.is_floating_point():
            raise TypeError(
                f"{where} must be a float or a 0-dim floating-point tensor, got a tensor "
                f"of shape {tuple(value.shape)} and dtype {value.dtype}"
            )
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"{where} must be a float or a 0-dim floating-point tensor, "
            f"got {value!r} of type {type(value).__name__}"
        )
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{where} must be finite and >= 0, got {value!r}")


def read(groups: _Groups) -> list[LR]:
    """Copies of the current learning rates of ``groups``."""
    return [copy_lr(group["lr"]) for group in groups]


def _copy_into(dst: list[Tensor], src: Sequence[LR]) -> None:
    """Copy ``src`` into the tensors ``dst`` in place, batched where possible."""
    if all(isinstance(s, Tensor) for s in src):
        torch._foreach_copy_(dst, src)  # type: ignore[arg-type]
    else:
        for d, s in zip(dst, src, strict=True):
            if isinstance(s, Tensor):
                d.copy_(s)
            else:
                d.fill_(s)


def write(groups: _Groups, values: Sequence[LR]) -> None:
    """Set each group's learning rate to the matching entry of ``values``.

    Float learning rates are replaced; tensor learning rates are overwritten in
    place (never rebound).
    """
    dst: list[Tensor] = []
    src: list[LR] = []
    for group, value in zip(groups, values, strict=True):
        lr = group["lr"]
        if isinstance(lr, Tensor):
            dst.append(lr)
            src.append(value)
        elif isinstance(value, Tensor):
            group["lr"] = value.item()
        else:
            group["lr"] = value
    if dst:
        _copy_into(dst, src)


def record(groups: _Groups, store: list[LR]) -> None:
    """Overwrite ``store`` with the groups' current learning rates.

    Tensor entries of ``store`` that can hold the new value are updated in place,
    so that recording every step allocates nothing.
    """
    dst: list[Tensor] = []
    src: list[Tensor] = []
    for i, group in enumerate(groups):
        lr = group["lr"]
        old = store[i]
        if isinstance(lr, Tensor):
            if isinstance(old, Tensor) and old.dtype == lr.dtype and old.device == lr.device:
                dst.append(old)
                src.append(lr)
            else:
                store[i] = lr.detach().clone()
        else:
            store[i] = lr
    if dst:
        torch._foreach_copy_(dst, src)


_SCALAR_EXACT = frozenset((torch.float32, torch.float64))
"""Dtypes for which ``torch._foreach_mul_`` by a Python number equals ``tensor * number``."""


def scale(groups: _Groups, factors: Sequence[float]) -> None:
    """Multiply each group's learning rate by the matching factor, in place.

    A tensor shared by several param groups is multiplied once. float32 and
    float64 tensors are multiplied with one batched ``torch._foreach_mul_``.
    """
    dst: list[Tensor] = []
    tensor_factors: list[float] = []
    seen: set[int] = set()
    for group, factor in zip(groups, factors, strict=True):
        lr = group["lr"]
        if isinstance(lr, Tensor):
            if id(lr) not in seen:
                seen.add(id(lr))
                dst.append(lr)
                tensor_factors.append(factor)
        else:
            group["lr"] = lr * factor
    if not dst:
        return
    if all(t.dtype in _SCALAR_EXACT for t in dst):
        first = tensor_factors[0]
        if tensor_factors.count(first) == len(tensor_factors):
            torch._foreach_mul_(dst, first)
        else:
            torch._foreach_mul_(dst, tensor_factors)
    else:
        # The batched kernel rounds a Python factor to a bfloat16 or float16
        # tensor's own dtype before multiplying; ``Tensor.mul_`` computes in
        # float32 like ``lr * factor`` does. Such learning rates are rare.
        for t, factor in zip(dst, tensor_factors, strict=True):
            t.mul_(factor)


def to_like(value: LR, like: object) -> LR:
    """Convert a stored learning rate to the kind (float or tensor) of ``like``.

    Used when loading a state: a checkpoint holding floats can be loaded into an
    optimizer whose learning rates are tensors, and the other way round. This is
    not on the step path, so reading a tensor's value here is allowed.
    """
    if isinstance(like, Tensor):
        return torch.as_tensor(value, dtype=like.dtype, device=like.device).detach().clone()
    if isinstance(value, Tensor):
        return float(value.item())
    return float(value)


# -- the step path --------------------------------------------------------------
#
# The functions above handle any mix of learning rates, one group at a time.
# ``Stepper`` runs the same operations on every step of ``dampening()`` and
# ``dampen()``, but cheaply:
#
# * when no group holds a tensor, a few list operations and nothing else;
# * when groups hold tensors, a layout of those tensors is built once and then
#   reused while the same tensor objects stay in place (checked by identity on
#   every step, which reads no tensor value). Each step then runs three batched
#   copies and one ``torch._foreach_mul_`` per (device, dtype) bucket, whatever
#   the number of param groups (on CPU, one multiply per distinct factor when
#   the groups' factors differ).
#
# On CPU the factor is passed as a 0-dim tensor, filled once per step: the
# batched kernel would round a Python number to a bfloat16 or float16 tensor's
# own dtype, where ``lr * factor`` computes in float32. The factor
# tensor holds the factor in the precision the Python-number path computes in
# (float32 for float16, bfloat16 and float32; float64 for float64), so the
# products are bit for bit the same. On other devices the Python number is
# passed to one fused kernel launch.

_PLAIN = frozenset((float, int))
"""The learning-rate types handled without any per-group type dispatch."""

_FACTOR_DTYPES = {
    torch.float64: torch.float64,
    torch.float32: torch.float32,
    torch.float16: torch.float32,
    torch.bfloat16: torch.float32,
}
"""For each lr dtype, the dtype in which a product with a Python number is computed."""


class _Factor:
    """A private 0-dim CPU tensor that holds one factor per step."""

    __slots__ = ("tensor",)

    def __init__(self, dtype: torch.dtype) -> None:
        # An explicit device: a default device set with torch.set_default_device
        # must not apply here.
        self.tensor = torch.zeros((), dtype=dtype, device="cpu")

    def set(self, value: float) -> Tensor:
        """Hold ``value`` (rounded to the tensor's dtype) and return the tensor."""
        return self.tensor.fill_(value)


class _Bucket:
    """Tensor learning rates on one device with one dtype."""

    __slots__ = ("factors", "positions", "tensors")

    def __init__(self, positions: list[int], tensors: list[Tensor]) -> None:
        self.positions = positions  # indices of these groups in optimizer.param_groups
        self.tensors = tensors
        first = tensors[0]
        dtype = _FACTOR_DTYPES.get(first.dtype)
        # CPU: multiply by factor tensors; elsewhere by Python numbers, one launch.
        self.factors: list[_Factor] | None = (
            [_Factor(dtype)] if dtype is not None and first.device.type == "cpu" else None
        )

    def scale(self, factors: Sequence[float], uniform: bool) -> None:
        """Multiply the bucket's tensors in place by their factors."""
        tensors = self.tensors
        pool = self.factors
        if uniform:
            factor = factors[self.positions[0]]
            if pool is None:
                torch._foreach_mul_(tensors, factor)
            else:
                torch._foreach_mul_(tensors, pool[0].set(factor))
            return
        fs = [factors[i] for i in self.positions]
        if pool is None:
            torch._foreach_mul_(tensors, fs)
            return
        # One multiply per distinct factor (factors are in (0, 1], so equal
        # values are interchangeable).
        by_value: dict[float, list[Tensor]] = {}
        for t, f in zip(tensors, fs, strict=True):
            by_value.setdefault(f, []).append(t)
        dtype = pool[0].tensor.dtype
        while len(pool) < len(by_value):
            pool.append(_Factor(dtype))
        for cell, (f, same) in zip(pool, by_value.items(), strict=False):
            torch._foreach_mul_(same, cell.set(f))


class _Layout:
    """Where the tensor learning rates are, and the stores that go with them."""

    __slots__ = (
        "buckets",
        "dampened",
        "full",
        "kinds",
        "plain",
        "positions",
        "scratch",
        "single",
        "stores",
        "tensors",
    )

    def __init__(
        self,
        cur: list[Any],
        lrs: list[LR],
        dampened: list[LR],
        positions: list[int],
    ) -> None:
        self.kinds = list(map(type, cur))
        self.positions = positions
        self.full = len(positions) == len(cur)
        self.plain = [i for i in range(len(cur)) if not isinstance(cur[i], Tensor)]
        self.tensors: list[Tensor] = [cur[i] for i in positions]
        self.stores: list[Tensor] = [lrs[i] for i in positions]  # type: ignore[misc]
        self.scratch: list[Tensor] = [dampened[i] for i in positions]  # type: ignore[misc]
        self.dampened = dampened
        by_kind: dict[tuple[torch.device, torch.dtype], list[int]] = {}
        for i, t in zip(positions, self.tensors, strict=True):
            by_kind.setdefault((t.device, t.dtype), []).append(i)
        self.buckets = [_Bucket(p, [cur[i] for i in p]) for p in by_kind.values()]
        # The common case: every group holds a CPU tensor of one dtype.
        only = self.buckets[0]
        self.single: _Factor | None = (
            only.factors[0]
            if self.full and len(self.buckets) == 1 and only.factors is not None
            else None
        )

    def matches(self, cur: list[Any], lrs: list[LR]) -> bool:
        """Whether groups that mix tensors and numbers still hold the same tensors."""
        if list(map(type, cur)) != self.kinds:
            return False
        pos = self.positions
        return all(map(operator.is_, [cur[i] for i in pos], self.tensors)) and all(
            map(operator.is_, [lrs[i] for i in pos], self.stores)
        )

    def scale(self, groups: _Groups, cur: list[Any], factors: Sequence[float]) -> None:
        """Multiply the groups' learning rates (``cur``) in place by ``factors``."""
        uniform = factors.count(factors[0]) == len(factors)
        for bucket in self.buckets:
            bucket.scale(factors, uniform)
        for i in self.plain:
            groups[i]["lr"] = cur[i] * factors[i]


def _build_layout(cur: list[Any], lrs: list[LR], dampened: list[LR]) -> _Layout | None:
    """A layout for these groups, or ``None`` when the stores need the general path.

    The stores of a tensor learning rate must already be tensors of the same
    dtype and device (what :func:`record` leaves behind), so that the batched
    copies are exactly what the general path would do.
    """
    positions = [i for i, lr in enumerate(cur) if isinstance(lr, Tensor)]
    if not positions or len(lrs) != len(cur) or len(dampened) != len(cur):
        return None
    if len({id(cur[i]) for i in positions}) != len(positions):
        return None  # a tensor shared by groups: the general path multiplies it once
    for i in positions:
        lr = cur[i]
        for store in (lrs[i], dampened[i]):
            if not (
                isinstance(store, Tensor)
                and store.dtype == lr.dtype
                and store.device == lr.device
                and store is not lr
            ):
                return None
    return _Layout(cur, lrs, dampened, positions)


def enter_plain(groups: _Groups, lrs: Sequence[LR]) -> list[LR] | None:
    """Write ``lrs`` into the groups when neither holds a tensor.

    Returns:
        The learning rates the groups held (a new list), or ``None``, having
        changed nothing, when a group or an entry of ``lrs`` is not a plain
        number: then :meth:`Stepper.enter` does the work.
    """
    if len(groups) == 1:  # the common case, without building a list per step
        group = groups[0]
        cur = group["lr"]
        lr = lrs[0]
        if type(cur) in _PLAIN and type(lr) in _PLAIN:
            group["lr"] = lr
            return [cur]
        return None
    kept = [group["lr"] for group in groups]
    if _PLAIN.issuperset(map(type, kept)) and _PLAIN.issuperset(map(type, lrs)):
        for group, lr in zip(groups, lrs, strict=True):
            group["lr"] = lr
        return kept
    return None


def leave_plain(groups: _Groups, lrs: list[LR], factors: Sequence[float]) -> list[float] | None:
    """Record the groups' learning rates in ``lrs`` and scale them, if all are plain numbers.

    Returns:
        The dampened learning rates written, or ``None`` (having changed
        nothing) when a group holds a tensor, and :meth:`Stepper.leave` must do
        the work.
    """
    if len(groups) == 1:
        group = groups[0]
        cur = group["lr"]
        if type(cur) in _PLAIN:
            lrs[0] = cur
            dampened = group["lr"] = cur * factors[0]
            return [dampened]
        return None
    values = [group["lr"] for group in groups]
    if not _PLAIN.issuperset(map(type, values)):
        return None
    lrs[:] = values
    return _scale_plain(groups, values, factors)


def plain_values(groups: _Groups) -> list[float] | None:
    """The groups' learning rates if all are plain numbers, else ``None``."""
    values = [group["lr"] for group in groups]
    return values if _PLAIN.issuperset(map(type, values)) else None


def scale_plain(groups: _Groups, factors: Sequence[float]) -> list[float] | None:
    """Scale the groups' learning rates by ``factors`` if all are plain numbers.

    Returns:
        The learning rates written, or ``None`` (having changed nothing) when a
        group holds a tensor.
    """
    values = [group["lr"] for group in groups]
    if not _PLAIN.issuperset(map(type, values)):
        return None
    return _scale_plain(groups, values, factors)


class Stepper:
    """The per-step work of a warmup on its optimizer's learning rates, for tensors.

    Holds nothing but a cache derived from the groups, rebuilt whenever it no
    longer matches them, so copying or pickling a warmup drops it.
    """

    __slots__ = ("_layout",)

    def __init__(self) -> None:
        self._layout: _Layout | None = None

    def __reduce__(self) -> tuple[type[Stepper], tuple[()]]:
        return (Stepper, ())

    def _match(self, cur: list[Any], lrs: list[LR], dampened: list[LR]) -> _Layout | None:
        layout = self._layout
        if layout is None or dampened is not layout.dampened:
            return None
        if layout.full:
            if all(map(operator.is_, cur, layout.tensors)) and all(
                map(operator.is_, lrs, layout.stores)
            ):
                return layout
            return None
        return layout if layout.matches(cur, lrs) else None

    def enter(self, groups: _Groups, lrs: list[LR], dampened: list[LR]) -> list[LR]:
        """Keep the current learning rates and write the undampened ones ``lrs``.

        Returns:
            The list that now holds the learning rates the groups had (``dampened``,
            updated, or a new list): the values to restore if the step fails.
        """
        cur = [group["lr"] for group in groups]
        layout = self._match(cur, lrs, dampened)
        if layout is None:
            layout = self._layout = _build_layout(cur, lrs, dampened)
            if layout is None:
                record(groups, dampened)
                write(groups, lrs)
                return dampened
        torch._foreach_copy_(layout.scratch, layout.tensors)
        torch._foreach_copy_(layout.tensors, layout.stores)
        for i in layout.plain:
            dampened[i] = cur[i]
            lr = lrs[i]
            groups[i]["lr"] = lr.item() if isinstance(lr, Tensor) else lr
        return dampened

    def leave(
        self,
        groups: _Groups,
        lrs: list[LR],
        dampened: list[LR],
        factors: Sequence[float],
    ) -> None:
        """Record the groups' learning rates in ``lrs``, then multiply them by ``factors``."""
        cur = [group["lr"] for group in groups]
        layout = self._match(cur, lrs, dampened)
        if layout is None:  # a group holds a tensor (leave_plain took the rest)
            record(groups, lrs)
            scale(groups, factors)
            return
        torch._foreach_copy_(layout.stores, layout.tensors)
        single = layout.single
        factor = factors[0]
        if single is not None and factors.count(factor) == len(factors):
            torch._foreach_mul_(layout.tensors, single.set(factor))
            return
        for i in layout.plain:
            lrs[i] = cur[i]
        layout.scale(groups, cur, factors)

    def scale(
        self,
        groups: _Groups,
        lrs: list[LR],
        dampened: list[LR],
        factors: Sequence[float],
    ) -> None:
        """Multiply each group's learning rate by its factor (what :func:`scale` does)."""
        cur = [group["lr"] for group in groups]
        layout = self._match(cur, lrs, dampened)
        if layout is None:
            layout = self._layout = _build_layout(cur, lrs, dampened)
        if layout is None:
            scale(groups, factors)
        else:
            layout.scale(groups, cur, factors)


def _scale_plain(groups: _Groups, cur: list[Any], factors: Sequence[float]) -> list[float]:
    factor = factors[0]
    if factors.count(factor) == len(factors):
        written = [lr * factor for lr in cur]
    else:
        written = [lr * f for lr, f in zip(cur, factors, strict=True)]
    for group, lr in zip(groups, written, strict=True):
        group["lr"] = lr
    return written
